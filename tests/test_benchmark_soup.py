"""benchmarks/soup.py (the mean of several models' weights) on tiny models."""

import json

import pytest
import torch

from tests.conftest import make_tiny_model
from tests.helpers_benchmarks import load_benchmark


def test_a_soup_is_the_mean_of_its_members_weights_and_keeps_the_first_ones_json(tmp_path, monkeypatch):
    from rehue.models.io import load_model

    soup = load_benchmark("soup")
    members = [make_tiny_model(tmp_path / f"m{seed}.safetensors", in_channels=3, seed=seed) for seed in range(3)]
    config = json.loads(members[0].with_suffix(".json").read_text())
    members[0].with_suffix(".json").write_text(json.dumps({**config, "inference": {"drift_anchor": 0.25}}))
    states = [load_model(member)[0].state_dict() for member in members]
    out = tmp_path / "soup" / "model.safetensors"
    monkeypatch.setattr("sys.argv", ["soup.py", str(out), *map(str, members)])
    soup.main()
    generator, card = load_model(out)
    for key, tensor in generator.state_dict().items():
        if tensor.is_floating_point():
            assert torch.allclose(tensor, sum(state[key] for state in states) / 3, atol=1e-6), key
    assert not torch.equal(states[0]["head.0.weight"], states[1]["head.0.weight"]), "the members differ"
    assert card.training["soup"] == [str(member) for member in members]
    assert card.inference == {"drift_anchor": 0.25} and card.role == "dependent"


def test_models_of_other_architectures_make_no_soup(tmp_path, monkeypatch):
    soup = load_benchmark("soup")
    dependent = make_tiny_model(tmp_path / "dependent.safetensors", in_channels=3)
    independent = make_tiny_model(tmp_path / "independent.safetensors")
    out = tmp_path / "soup.safetensors"
    monkeypatch.setattr("sys.argv", ["soup.py", str(out), str(dependent), str(independent)])
    with pytest.raises(SystemExit, match=f"independent.safetensors: not the architecture of {dependent}"):
        soup.main()
    assert not out.exists()
