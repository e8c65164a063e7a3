"""The thesis' two discriminators and a PatchGAN. All take a LAB image (N, 3, S, S): L* with real or
generated a*b*, normalised to [-1, 1]; they return logits (BCE with logits is the loss)."""

from __future__ import annotations

import torch
from torch import nn

from rehue.models.registry import register_model


class SimpleCNN(nn.Module):
    """Discriminator 1 (thesis 5.1.3): ReLU convolutions, three dropouts, LeakyReLU dense head."""

    def __init__(self, in_channels: int = 3, size: int = 32, width: int = 32):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, w, 4, 2, 1),
            nn.ReLU(inplace=True),
            nn.Dropout(0.3),
            nn.Conv2d(w, 2 * w, 4, 2, 1),
            nn.ReLU(inplace=True),
            nn.Dropout(0.3),
            nn.Conv2d(2 * w, 2 * w, 4, 2, 1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(4),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(2 * w * 16, 64),
            nn.LeakyReLU(0.01, inplace=True),
            nn.Dropout(0.3),
            nn.Linear(64, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _conv(cin, cout, stride=1):
    return [nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, inplace=True)]


class DeepCNN(nn.Module):
    """Discriminator 2 (thesis 5.1.4): deeper CNN with two average-pooling layers.

    At 128x128 and above (thesis 5.2.2) it gains two convolutions, a max pool and an average pool,
    with twice the filters, so that its dense head sees the same 4x4 grid at any size.
    """

    def __init__(self, in_channels: int = 3, size: int = 32, width: int = 32):
        super().__init__()
        large = size >= 128
        w = 2 * width if large else width
        layers = [*_conv(in_channels, w), *_conv(w, w), nn.AvgPool2d(2), *_conv(w, 2 * w), *_conv(2 * w, 2 * w)]
        layers.append(nn.AvgPool2d(2))
        layers += _conv(2 * w, 4 * w, stride=2)
        if large:
            layers += [*_conv(4 * w, 4 * w), nn.MaxPool2d(2), *_conv(4 * w, 4 * w), nn.AvgPool2d(2)]
        layers.append(nn.AdaptiveAvgPool2d(4))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * w * 16, 128), nn.LeakyReLU(0.2, inplace=True),
                                  nn.Linear(128, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class PatchGAN(nn.Module):
    """pix2pix's 70x70 PatchGAN (three stride-2 layers): one logit per overlapping patch."""

    def __init__(self, in_channels: int = 3, size: int = 32, width: int = 64):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, w, 4, 2, 1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False),
            nn.BatchNorm2d(4 * w),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(4 * w, 8 * w, 4, 1, 1, bias=False),
            nn.BatchNorm2d(8 * w),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(8 * w, 1, 4, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@register_model("disc1", "discriminator", "Discriminator 1: small CNN, 3 dropouts, LeakyReLU head (5.1.3)")
def disc1(in_channels: int = 3, size: int = 32, width: int = 32) -> nn.Module:
    return SimpleCNN(in_channels, size, width)


@register_model("disc2", "discriminator", "Discriminator 2: deeper CNN, 2 average pools; grows at 128+ (5.1.4)")
def disc2(in_channels: int = 3, size: int = 32, width: int = 32) -> nn.Module:
    return DeepCNN(in_channels, size, width)


@register_model("patch", "discriminator", "PatchGAN (pix2pix, 70x70 receptive field)")
def patch(in_channels: int = 3, size: int = 32, width: int = 64) -> nn.Module:
    return PatchGAN(in_channels, size, width)
