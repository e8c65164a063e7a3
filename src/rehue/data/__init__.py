"""Data: image files, CIFAR-10 batches, photo folders, frame datasets and temporal pairs."""
