import os
import re
import signal

import numpy as np
import pytest
import torch

from rehue.models import ModelCard, create_model, save_model

# Tests run tiny models, where a second thread costs more in overhead than it gains; subprocesses
# (the CLI, torchrun) inherit the setting through the environment.
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(1)

# The Ctrl-C tests send SIGINT to this process, as a terminal does. A run started in the background by a
# non-interactive shell (`.venv/bin/python -m pytest &`, a CI step) starts with SIGINT ignored, which rehue rightly
# leaves ignored (`rehue.signals.stop_signals`): six of them then coloured on, exit 0 (stop 57). Taken as a
# terminal gives it; the children the tests start are given it back with `helpers_video.default_sigint`.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def make_tiny_model(path, in_channels=1, size=32, architecture="gen2", seed=0):
    """A randomly initialised generator saved the way shipped models are (safetensors + JSON)."""
    torch.manual_seed(seed)
    model = create_model(architecture, in_channels=in_channels, size=size, width=4)
    model.eval()
    card = ModelCard(architecture, in_channels, size, 4, role="dependent" if in_channels == 3 else "independent")
    return save_model(model, card, path)


def answering(model, logits_per_bin):
    """Make a class model give these (BINS,) logits at every pixel, whatever its input."""
    head = model.head[-1]
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(logits_per_bin)
    return model


@pytest.fixture
def tiny_model(tmp_path):
    return make_tiny_model(tmp_path / "models" / "tiny-independent.safetensors")


@pytest.fixture
def tiny_dependent_model(tmp_path):
    return make_tiny_model(tmp_path / "models" / "tiny-dependent.safetensors", in_channels=3)


def losses_nan_after(monkeypatch, calls: int) -> None:
    """Every adversarial loss after the first ``calls`` NaN: a run that diverges where a test says (a step takes
    three: the discriminator's on real and on generated pictures, then the generator's)."""
    losses = []
    bce = torch.nn.BCEWithLogitsLoss.forward

    def nan_after(self, logits, target):
        losses.append(None)
        loss = bce(self, logits, target)
        return loss * float("nan") if len(losses) > calls else loss

    monkeypatch.setattr(torch.nn.BCEWithLogitsLoss, "forward", nan_after)


def textured_rgb(height, width, seed=0):
    """A smooth colourful picture with edges (not noise), so resizing behaves like on photos."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = []
    for _ in range(3):
        fx, fy, phase = rng.uniform(0.01, 0.08, 2).tolist() + [rng.uniform(0, 6.28)]
        channels.append(0.5 + 0.4 * np.sin(xx * fx + yy * fy + phase))
    rgb = np.stack(channels, -1)
    rgb[height // 3 : height // 2, width // 4 : width // 2] = rng.uniform(0, 1, 3)
    return (rgb * 255).astype(np.uint8)


@pytest.fixture
def photo_folder(tmp_path):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(textured_rgb(72 + 8 * i, 96, seed=i)).save(folder / f"p{i}.png")
    return folder


def assert_each_refused_in_one_line(tmp_path, capsys, cases: dict) -> None:
    """Each file of ``cases`` (name: (bytes, reason)) is refused by ``load_image`` and by ``rehue colorize``
    with one line naming it and giving the reason, exit 1 and no output."""
    from rehue.cli import main
    from rehue.data.images import load_image
    from rehue.errors import RehueError

    for name, (data, reason) in cases.items():
        (tmp_path / name).write_bytes(bytes(data))
        with pytest.raises(RehueError, match=re.escape(reason)):
            load_image(tmp_path / name)
        assert main(["colorize", str(tmp_path / name), "-o", str(tmp_path / f"{name}.png"), "--no-progress"]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"rehue: error: {tmp_path / name}: ") and reason in err and "\n" not in err, err
        assert not (tmp_path / f"{name}.png").exists()
