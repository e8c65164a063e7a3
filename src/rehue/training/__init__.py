"""Training: the thesis' conditional GAN with its defaults (Table 5.1) in one readable loop."""

from rehue.training.config import TrainConfig
from rehue.training.loop import TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "train"]
