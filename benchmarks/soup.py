"""A model soup: the mean of the weights of several models of one architecture (Wortsman et al. 2022,
"Model soups"), BatchNorm running statistics included. Meant for draws of one recipe trained from the same
starting weights, which lie close enough for their mean to be a model too (runs/soup-rule.txt,
docs/model-card.md, "The dependent model").

    .venv/bin/python benchmarks/soup.py OUT.safetensors MODEL MODEL [MODEL ...]

The soup takes the first model's JSON (its restraint and drift check included), with the members listed
under "training" -> "soup".
"""

from __future__ import annotations

import argparse
from pathlib import Path


def soup(models: list[str]):
    """(generator, card) whose every floating-point tensor is the mean of ``models``'; the rest (BatchNorm's
    batch counts) and the card are the first model's."""
    import torch

    from rehue.errors import RehueError
    from rehue.models.io import load_model

    loaded = [load_model(model) for model in models]
    generator, card = loaded[0]
    states = [g.state_dict() for g, _ in loaded]
    for (_, other), model in zip(loaded[1:], models[1:], strict=True):
        if (other.architecture, other.in_channels, other.size, other.width) != (
                card.architecture, card.in_channels, card.size, card.width):
            raise RehueError(f"not the architecture of {models[0]}", model)
    averaged = {key: torch.stack([state[key] for state in states]).mean(0) if tensor.is_floating_point() else tensor
                for key, tensor in states[0].items()}
    generator.load_state_dict(averaged)
    card.training = {**card.training, "soup": [str(model) for model in models]}
    return generator, card


def main():
    from rehue.models.io import save_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()
    if len(args.models) < 2:
        parser.error("a soup needs at least two models")
    from rehue.errors import RehueError

    try:
        print(f"wrote {save_model(*soup(args.models), args.out)}")
    except RehueError as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
