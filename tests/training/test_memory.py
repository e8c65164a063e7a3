from dataclasses import replace

import pytest

from rehue.cli import main
from rehue.errors import RehueError
from rehue.training.config import TrainConfig
from rehue.training.memory import GIB, check_training_memory, free_memory_bytes, layer_output_bytes


def test_layer_outputs_grow_with_the_picture_and_the_width():
    small = layer_output_bytes("gen2", 1, 32, 8, "generator")
    assert small > 0
    assert layer_output_bytes("gen2", 1, 64, 8, "generator") == 4 * small, "a convolutional net: by its area"
    assert layer_output_bytes("gen2", 1, 32, 16, "generator") > 1.5 * small
    assert layer_output_bytes("disc2", 3, 32, None, "discriminator") > 0


def test_free_memory_is_read_on_linux():
    free = free_memory_bytes()
    assert free is None or 0 <= free < 1 << 50


def test_a_containers_limit_counts_its_usage_less_the_files_the_kernel_gives_back(tmp_path):
    """Probe 135: a container's usage counts the files it read, which the kernel gives back first; one that had
    read more than its limit was never free, and every run was refused."""
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       32000000 kB\nMemAvailable:   20000000 kB\nSwapFree:        1000000 kB\n")
    assert free_memory_bytes(meminfo, tmp_path / "none") == 21000000 * 1024
    v2, v1 = tmp_path / "v2", tmp_path / "v1" / "memory"
    v2.mkdir()
    v1.mkdir(parents=True)
    (v2 / "memory.max").write_text(f"{8 * GIB}\n")
    (v2 / "memory.current").write_text(f"{int(7.9 * GIB)}\n")
    (v2 / "memory.stat").write_text(f"anon 1000\ninactive_file {3 * GIB}\nactive_file 5\n")
    assert free_memory_bytes(meminfo, v2) == 8 * GIB - int(7.9 * GIB) + 3 * GIB
    (v2 / "memory.max").write_text("max\n")
    assert free_memory_bytes(meminfo, v2) == 21000000 * 1024, "no limit"
    (v1 / "memory.limit_in_bytes").write_text(f"{4 * GIB}\n")
    (v1 / "memory.usage_in_bytes").write_text(f"{3 * GIB}\n")
    (v1 / "memory.stat").write_text(f"inactive_file 7\ntotal_inactive_file {GIB}\n")
    assert free_memory_bytes(meminfo, tmp_path / "v1") == 2 * GIB
    (meminfo).write_text("MemTotal: 5 kB\n")
    assert free_memory_bytes(meminfo, tmp_path / "none") is None


def test_a_batch_whose_layer_outputs_exceed_the_memory_free_is_refused(monkeypatch):
    config = TrainConfig(data="photos", out="run", size=32, width=8, batch_size=1000)
    per_sample = (layer_output_bytes("gen2", 1, 32, 8, "generator")
                  + 2 * layer_output_bytes(config.discriminator, 3, 32, None, "discriminator"))
    check_training_memory(config, "cpu", free=per_sample * 1000)
    with pytest.raises(RehueError, match=r"^run: batch size 1,000 on 32x32 crops needs at least [0-9.]+ GiB of memory "
                                         r"for its layers' outputs alone, and this machine has [0-9.]+ GiB free; a "
                                         "smaller batch size, size or width needs less"):
        check_training_memory(config, "cpu", free=per_sample * 1000 - 1)
    with pytest.raises(RehueError, match="across its 2 processes"):
        check_training_memory(config, "cpu", 2, free=per_sample * 1500)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")  # probe 135: two machines of one process each
    check_training_memory(config, "cpu", 2, free=per_sample * 1500)
    with pytest.raises(RehueError, match=r"needs at least \d+ MiB of memory .* has 1 MiB free"):  # not "0.0 GiB"
        check_training_memory(replace(config, batch_size=10), "cpu", free=1 << 20)
    check_training_memory(config, "cuda", free=0)  # a GPU's allocator says so itself


def test_train_refuses_a_batch_too_large_for_the_machine_before_it_starts(photo_folder, tmp_path, capsys,
                                                                         monkeypatch):
    """Probe 133: a batch size of 100,000 in a grid file was killed by the kernel at 24 GB, exit 137 and no
    word, its run folder left behind."""
    from rehue.training import memory

    monkeypatch.setattr(memory, "free_memory_bytes", lambda: 2 * GIB)
    out = tmp_path / "run"
    assert main(["train", str(photo_folder), "--out", str(out), "--size", "32", "--width", "8", "--batch-size",
                 "100000", "--epochs", "1", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"rehue: error: {out}: batch size 100,000 on 32x32 crops needs at least" in err
    assert "this machine has 2.0 GiB free" in err and not out.exists()
