import pickle
import re

import numpy as np
import pytest

from rehue.data.cifar import load_cifar10, read_batch
from rehue.data.datasets import build_datasets
from rehue.errors import RehueError


def write_batch(path, n, seed, gray=False):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    if gray:
        images[..., 1] = images[..., 2] = images[..., 0]
    labels = rng.integers(0, 10, n).tolist()
    data = images.transpose(0, 3, 1, 2).reshape(n, 3072)
    with open(path, "wb") as fh:
        pickle.dump({b"batch_label": b"test", b"labels": labels, b"data": data,
                     b"filenames": [b"x.png"] * n}, fh, protocol=2)
    return images, labels


@pytest.fixture
def cifar_dir(tmp_path):
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    expected = {}
    for i in range(1, 6):
        expected[f"data_batch_{i}"] = write_batch(root / f"data_batch_{i}", 3, i)
    expected["test_batch"] = write_batch(root / "test_batch", 2, 9)
    return root, expected


def test_batch_loads_with_right_shapes_labels_and_pixels(cifar_dir):
    root, expected = cifar_dir
    images, labels = read_batch(root / "data_batch_2")
    assert images.shape == (3, 32, 32, 3) and images.dtype == np.uint8
    assert np.array_equal(images, expected["data_batch_2"][0])
    assert labels.tolist() == expected["data_batch_2"][1]
    train, train_labels = load_cifar10(root.parent, "train")
    assert train.shape == (15, 32, 32, 3) and len(train_labels) == 15
    test, _ = load_cifar10(root, "test")
    assert np.array_equal(test, expected["test_batch"][0])


def test_cut_outs_to_paste_are_refused_for_cifar(cifar_dir):
    """Probe 129: --stamp-share and --studio-share on CIFAR-10 trained without a word, and the card said so."""
    root, _ = cifar_dir
    with pytest.raises(RehueError, match="lists stamps, as `rehue data demo` makes; CIFAR-10 has none"):
        build_datasets(root, 32, studio_share=0.3)


def test_gray_cifar_batches_and_photos_beside_them_are_refused(cifar_dir):
    """Probe 129: CIFAR-10 batches of gray images trained without a word (gray photos are refused), and a
    photo folder holding a cifar-10-batches-py folder trained on CIFAR-10, its photos passed over."""
    from PIL import Image

    root, _ = cifar_dir
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(root.parent / "scan.png")
    with pytest.raises(RehueError, match=f"holds CIFAR-10 \\(cifar-10-batches-py\\) and 1 photo beside it, such as "
                                         f"scan.png; name {re.escape(str(root))} to train on CIFAR-10"):
        build_datasets(root.parent, 32)
    assert len(build_datasets(root, 32)[0]) > 0, "named itself, it is read"
    for i in range(1, 6):
        write_batch(root / f"data_batch_{i}", 3, i, gray=True)
    with pytest.raises(RehueError, match="all 15 CIFAR-10 training images are gray: there is no colour to learn"):
        build_datasets(root, 32)


def test_missing_batch_is_named(cifar_dir):
    root, _ = cifar_dir
    (root / "data_batch_4").unlink()
    with pytest.raises(RehueError, match="data_batch_4 missing.*cifar-10-python.tar.gz"):
        load_cifar10(root, "train")


def test_a_batch_saved_with_the_highest_pickle_protocol_is_read(tmp_path):
    """Probe 115: a batch saved with protocol 5 (pickle.HIGHEST_PROTOCOL) was refused, "refusing to load
    numpy._core.numeric._frombuffer"; its arrays are bytes read back with numpy.frombuffer."""
    images, labels = write_batch(tmp_path / "data_batch_1", 3, 1)
    batch = pickle.loads((tmp_path / "data_batch_1").read_bytes())
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps(batch, protocol=5))
    read, read_labels = read_batch(tmp_path / "data_batch_1")
    assert np.array_equal(read, images) and read_labels.tolist() == labels
    batch[b"data"] = np.array([[object()]] * 3)
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps(batch, protocol=5))
    with pytest.raises(RehueError, match="not a CIFAR-10 python batch"):
        read_batch(tmp_path / "data_batch_1")


def test_hostile_pickle_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            import os

            return (os.system, ("echo pwned",))

    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(RehueError, match="refusing"):
        read_batch(path)


@pytest.mark.parametrize(("batch", "message"), [
    ({b"data": np.zeros((2, 3072), np.uint8)}, "not a CIFAR-10 python batch: it has no labels"),
    ({b"labels": [1]}, "not a CIFAR-10 python batch: it has no data$"),
    ([np.zeros((2, 3072), np.uint8)], "it holds a list, not a batch's dictionary of data and labels"),
    ({b"data": np.zeros((2, 100), np.uint8), b"labels": [1, 2]},
     r"its data is an array of shape \(2, 100\), not one row of 3,072 values"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1]}, "2 images and 1 labels"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": np.zeros((2, 1))},
     r"its labels are an array of shape \(2, 1\), not one number per image"),  # probe 117: "2 images and 2 labels"
    ({b"data": [[7] * 3072] * 2000, b"labels": [1] * 2000}, "its data hold more values than its .* bytes could "
                                                             r"store \(one row referred to again and again\?\)"),
    ({b"data": [[[7] * 3072] * 2000], b"labels": [1]}, "its data hold more values than its"),  # probe 119: nested
    ({b"data": [b"\0" * 3072] * 2000, b"labels": [1] * 2000}, "its data hold more values than its"),
    ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [[[0] * 1000] * 1000]}, "its labels hold more values"),
    ({b"data": [], b"labels": []}, r"holds no images \(a CIFAR-10 batch holds 10,000\)"),
    ({b"data": np.full((2, 3072), 300.0), b"labels": [1, 2]}, r"its data is float64, not bytes \(0-255\)"),
    ({b"data": np.full((2, 3072), 7, np.int64), b"labels": ["cat", "dog"]}, "its data or labels are no arrays of "
                                                                          "numbers"),
])
def test_a_batch_of_another_form_is_named_with_what_it_lacks(tmp_path, batch, message):
    """Before, a batch without labels was "not a CIFAR-10 python batch (b'labels')", one with a label short
    "unexpected CIFAR-10 batch shape (2, 3072)", and one of floats up to 300 was read, wrapped round 255."""
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(RehueError, match=message) as error:
        read_batch(path)
    assert error.value.path == str(path)
    array = np.full((1, 3072), 200, np.int64)
    path.write_bytes(pickle.dumps({b"data": array, b"labels": [3]}, protocol=2))
    assert read_batch(path)[0].max() == 200, "whole numbers within a byte are taken"
    path.write_bytes(pickle.dumps({b"data": array.astype(np.uint8).tobytes(), b"labels": [3]}, protocol=2))
    assert read_batch(path)[0].max() == 200, "the pixels as bytes, as they are stored (probe 117: refused)"
    path.write_bytes(pickle.dumps({"data": array, "labels": [3]}, protocol=2))
    assert read_batch(path)[1].tolist() == [3], "a batch of one's own, its keys str"


def test_training_datasets_from_cifar(cifar_dir):
    root, _ = cifar_dir
    train, val = build_datasets(root.parent, 32)
    assert len(train) == 15 and len(val) == 2
    item = val[0]
    assert item["lightness"].shape == (1, 32, 32) and item["ab"].shape == (2, 32, 32)
    with pytest.raises(RehueError, match="32x32"):
        build_datasets(root.parent, 64)
    with pytest.raises(RehueError, match="used whole"):
        build_datasets(root.parent, 32, crop_min=0.7)


def test_the_cifar_archive_and_binary_version_are_named_with_what_to_do(tmp_path):
    """Before, both gave only "no readable images found"."""
    import pytest

    from rehue.data.datasets import ImageFolderDataset
    from rehue.errors import RehueError

    archive, binary = tmp_path / "download", tmp_path / "bin" / "cifar-10-batches-bin"
    archive.mkdir()
    (archive / "cifar-10-python.tar.gz").write_bytes(b"\x1f\x8b not really")
    binary.mkdir(parents=True)
    (binary / "data_batch_1.bin").write_bytes(bytes(3073))
    with pytest.raises(RehueError, match=r"is the CIFAR-10 archive: unpack it \(tar xzf cifar-10-python.tar.gz\)"):
        ImageFolderDataset(archive, 32, log=lambda msg: None)
    with pytest.raises(RehueError, match="binary version and rehue reads the python version"):
        ImageFolderDataset(tmp_path / "bin", 32, log=lambda msg: None)
