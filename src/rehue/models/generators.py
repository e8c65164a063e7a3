"""The thesis' two generators, which map (N, C, S, S) -> (N, 2, S, S) a*b* in [-1, 1] (tanh), and Generator 2
predicting a distribution over a*b* bins instead (``gen2-classes``)."""

from __future__ import annotations

import torch
from torch import nn

from rehue.color.bins import BINS, bin_centres, distribution_mean, sharpened
from rehue.models.registry import register_model


class EncoderDecoder(nn.Module):
    """Generator 1 (thesis 5.1.1): plain encoder-decoder, ReLU, five BatchNorm layers, no skips."""

    def __init__(self, in_channels: int = 1, size: int = 32, width: int = 32):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, 1, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(w, 2 * w, 4, 2, 1),
            nn.BatchNorm2d(2 * w),
            nn.ReLU(inplace=True),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1),
            nn.BatchNorm2d(4 * w),
            nn.ReLU(inplace=True),
            nn.Conv2d(4 * w, 8 * w, 4, 2, 1),
            nn.BatchNorm2d(8 * w),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(8 * w, 4 * w, 4, 2, 1),
            nn.BatchNorm2d(4 * w),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1),
            nn.BatchNorm2d(2 * w),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(w, 2, 3, 1, 1),
            nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Down(nn.Module):
    def __init__(self, cin: int, cout: int, norm: bool = True):
        super().__init__()
        layers = [nn.Conv2d(cin, cout, 4, 2, 1, bias=not norm)]
        if norm:
            layers.append(nn.BatchNorm2d(cout))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        return self.block(x)


class Up(nn.Module):
    def __init__(self, cin: int, cout: int, dropout: float = 0.0):
        super().__init__()
        layers = [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        if dropout:
            layers.append(nn.Dropout(dropout))
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        return self.block(x)


class UNet(nn.Module):
    """Generator 2 (thesis 4.2.3, 5.1.2): five down- and five up-sampling blocks with skip connections.

    The deepest features sit at ``size / 32``; each up block sees the matching down block's output,
    and the last layer also sees the input itself so that edges line up with the L* it was given.
    """

    def __init__(self, in_channels: int = 1, size: int = 32, width: int = 32):
        super().__init__()
        w = width
        chans = [w, 2 * w, 4 * w, 8 * w, 8 * w]
        self.downs = nn.ModuleList()
        cin = in_channels
        for i, cout in enumerate(chans):
            self.downs.append(Down(cin, cout, norm=i > 0))
            cin = cout
        self.ups = nn.ModuleList()
        ups_out = [8 * w, 4 * w, 2 * w, w, w]
        skip_chans = chans[::-1][1:] + [0]
        for i, cout in enumerate(ups_out):
            self.ups.append(Up(cin, cout, dropout=0.5 if i == 0 else 0.0))
            cin = cout + skip_chans[i]
        self.head = nn.Sequential(nn.Conv2d(cin + in_channels, 2, 3, 1, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        h = x
        for down in self.downs:
            h = down(h)
            skips.append(h)
        skips = skips[:-1][::-1]
        for i, up in enumerate(self.ups):
            h = up(h)
            if i < len(skips):
                h = torch.cat([h, skips[i]], dim=1)
        return self.head(torch.cat([h, x], dim=1))


class UNetClasses(UNet):
    """Generator 2 with a distribution over a*b* bins for each pixel (rehue.color.bins), at half the working
    size, instead of one a*b* value. ``forward`` returns the distribution's mean at ``temperature``,
    upsampled, so it stands in anywhere for a generator's a*b*; training also asks for the logits.

    ``ab_prior`` is how often each bin came up in the targets the model was trained on (``count_colours``).
    Where the model is unsure, its distribution falls back on that prior, whose mean is a faint yellow,
    and a picture's unsure ground, walls and water come out warm. ``prior_mean_removal`` (R, 0 to 2) takes
    R times the prior's mean off each pixel, in proportion to how much its distribution overlaps the
    prior (their Bhattacharyya coefficient): all of it where the model only says what the training
    colours were, almost none where it is sure of a rare colour. (Dividing the distribution by the prior
    instead, Bayes' rule with a flat prior, made the colours warmer: docs/model-card.md, "Colour as
    classes".)
    """

    predicts_classes = True  # the training loop's cue to learn by cross-entropy
    # weights saved before the model counted its colours lack ab_prior; they load with a flat one, whose
    # mean is grey, unless their JSON asks for the setting that needs it (rehue.models.io.load_model)
    optional_state = {"ab_prior": "prior_mean_removal"}

    def __init__(self, in_channels: int = 1, size: int = 32, width: int = 32):
        super().__init__(in_channels, size, width)
        channels = self.head[0].in_channels
        self.head = nn.Sequential(nn.Conv2d(channels, 64, 4, 2, 1), nn.ReLU(inplace=True), nn.Conv2d(64, BINS, 1))
        self.register_buffer("centres", bin_centres(), persistent=False)
        self.register_buffer("ab_prior", torch.full((BINS,), 1.0 / BINS))
        self.temperature = 1.0
        self.prior_mean_removal = 0.0

    @torch.no_grad()
    def count_colours(self, targets: torch.Tensor, batches: int) -> None:
        """Fold one batch's (N, BINS, H, W) class targets into ``ab_prior``, the mean over the ``batches``
        batches seen so far (this one included)."""
        self.ab_prior += (targets.float().mean(dim=(0, 2, 3)) - self.ab_prior) / batches

    def forward(self, x: torch.Tensor, with_logits: bool = False):
        logits = super().forward(x)
        probs = sharpened(logits, self.temperature)
        ab = distribution_mean(probs, self.centres)
        if self.prior_mean_removal:
            prior = self.ab_prior.clamp(min=0)
            overlap = (probs * prior.view(1, -1, 1, 1)).sqrt().sum(dim=1, keepdim=True)  # Bhattacharyya coefficient
            ab = ab - self.prior_mean_removal * overlap * (prior @ self.centres).view(1, 2, 1, 1)
        ab = nn.functional.interpolate(ab, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return (ab, logits) if with_logits else ab


@register_model("gen1", "generator", "Generator 1: encoder-decoder, no skips, 5 BatchNorm (thesis 5.1.1)")
def gen1(in_channels: int = 1, size: int = 32, width: int = 32) -> nn.Module:
    return EncoderDecoder(in_channels, size, width)


@register_model("gen2", "generator", "Generator 2: U-Net, 5 down + 5 up blocks with skips (thesis 5.1.2)")
def gen2(in_channels: int = 1, size: int = 32, width: int = 32) -> nn.Module:
    return UNet(in_channels, size, width)


@register_model("gen2-classes", "generator", "Generator 2 predicting a distribution over 23x23 a*b* bins, shown as "
                "its mean (Zhang et al. 2016); trained with cross-entropy")
def gen2_classes(in_channels: int = 1, size: int = 32, width: int = 32) -> nn.Module:
    return UNetClasses(in_channels, size, width)


gen2_classes.predicts_classes = True  # known before a model is built: TrainConfig.check's loss weights
