import argparse
import sys
from pathlib import Path

import pytest

from rehue.cli import build_parser, main


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                yield from ((f"{name} {inner}", deeper) for inner, deeper in _subparsers(sub))


def test_every_option_of_every_command_says_what_it_does():
    bare = [f"{command} {action.option_strings or action.dest}"
            for command, parser in _subparsers(build_parser()) for action in parser._actions
            if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) and not action.help]
    assert bare == []


def test_every_option_with_a_number_or_a_mode_by_default_says_its_default():
    """Probe 95: `train --help` left --l1-weight's 100 unsaid, `frames --help` --test-fraction's 0.2 and both
    --scene-mode's robust."""
    unsaid = [f"{command} {action.option_strings[0]}" for command, parser in _subparsers(build_parser())
              for action in parser._actions
              if action.option_strings and action.help and "default" not in action.help
              and (isinstance(action.default, int | float) and not isinstance(action.default, bool)
                   or action.dest == "scene_mode")]
    assert unsaid == []


def test_help_as_a_command_and_the_short_version_option(capsys):
    """Probe 63: `rehue help` was "invalid choice: 'help'" and `-V` unknown, where git and pip take both."""
    from rehue import __version__

    for argv, start in ((["help"], "usage: rehue [-h]"), (["help", "scenes"], "usage: rehue scenes"),
                        (["-V"], f"rehue {__version__}")):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 0 and capsys.readouterr().out.startswith(start), argv


@pytest.mark.parametrize("argv, said", [
    (["colorize", "a.png", "-o", "b.png", "--overwirte"],
     "rehue colorize: error: unrecognized arguments: --overwirte; did you mean --overwrite? "
     "(see rehue colorize --help)"),
    (["train", "photos", "--out", "run", "--batchsize", "4"],
     "rehue train: error: unrecognized arguments: --batchsize 4; did you mean --batch-size? (see rehue train --help)"),
    (["data", "demo", "--bogus"],
     "rehue data demo: error: unrecognized arguments: --bogus (see rehue data demo --help)"),
    (["--bogus"], "rehue: error: unrecognized arguments: --bogus (see rehue --help)"),
])
def test_an_unknown_option_is_blamed_on_its_command_with_the_nearest_name(argv, said, capsys, tmp_path,
                                                                          monkeypatch):
    """An unknown option after a command was "rehue: error: ... (see rehue --help)", whose help lists no options."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and capsys.readouterr().err.strip() == said
    assert list(tmp_path.iterdir()) == []


def test_building_the_command_line_imports_no_torch():
    """`rehue --help` and every usage error answer in a quarter of a second: the parser imports each command's
    module (grid, bench), and one that imported PyTorch at its top made every command wait 1.5 s for it."""
    import subprocess

    code = "import sys, rehue.cli; rehue.cli.build_parser(); print(sorted({'torch', 'cv2', 'av'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_every_command_and_data_demo_take_quiet_after_their_name(monkeypatch, capsys, tmp_path):
    """README: "-q/--quiet (any command)"; probe 86: `rehue data demo -q` was "unrecognized arguments"."""
    from rehue.data import demo

    def build_demo(out, **options):
        options["progress"]("fetched a package")

    monkeypatch.setattr(demo, "build_demo", build_demo)
    assert main(["data", "demo", "--out", str(tmp_path / "d")]) == 0
    assert capsys.readouterr().err == "fetched a package\n"
    assert main(["data", "demo", "-q", "--out", str(tmp_path / "d")]) == 0
    assert capsys.readouterr().err == ""
    for name, command in _subparsers(build_parser()):
        if name != "data":  # a group of commands, not one
            assert any("-q" in action.option_strings for action in command._actions), name


def test_debug_shows_the_traceback_before_or_after_the_command(tmp_path, capsys):
    """Probe 116: `rehue colorize ... --debug` was "unrecognized arguments", though -q is taken there."""
    from rehue.errors import RehueError

    (tmp_path / "text.png").write_text("not a picture")
    for where in (["--debug", "colorize"], ["colorize", "--debug"]):
        with pytest.raises(RehueError, match="not an image file"):
            main([*where, str(tmp_path / "text.png"), "-o", str(tmp_path / "out.png")])
    assert main(["colorize", str(tmp_path / "text.png"), "-o", str(tmp_path / "out.png")]) == 1
    assert capsys.readouterr().err.startswith("rehue: error: ")
    for name, command in _subparsers(build_parser()):
        if name != "data":
            assert any("--debug" in action.option_strings for action in command._actions), name


def test_a_usage_error_names_the_option_typed_not_the_librarys_setting(tmp_path, capsys):
    """Probe 113: `train --batch-size 0` said "batch_size must be at least 1", `colorize --crf 99` "crf must
    be ...": the library's names, where the user typed options."""
    from rehue.cli import in_options, main

    (tmp_path / "photos").mkdir()
    assert main(["train", str(tmp_path / "photos"), "--out", str(tmp_path / "run"), "--batch-size", "0"]) == 2
    assert capsys.readouterr().err == "rehue: error: --batch-size must be at least 1, not 0\n"
    assert main(["colorize", str(tmp_path / "photos"), "-o", str(tmp_path / "out"), "--crf", "99"]) == 2
    assert capsys.readouterr().err.startswith("rehue: error: --crf must be a whole number between 0 and 51")
    for options, said in (
            (["--dependent", "--independent-feed", "0.5"], "--independent-feed needs --init: the independent model"),
            (["--batch-size", "1", "--size", "32"], "--batch-size 1 needs --size 64 or more: at 32 the generator's"),
            (["--feature-matching", "1", "--adversarial-weight", "0"], "--feature-matching compares the "
             "discriminator's activations, and --adversarial-weight 0 trains no discriminator"),
            (["--dependent", "--stamp-share", "0.3", "--colour-jitter", "0.1"], "--stamp-share, --colour-jitter: "
             "only for an independent model")):
        assert main(["train", str(tmp_path / "photos"), "--out", str(tmp_path / "run"), *options]) == 2
        assert capsys.readouterr().err.startswith(f"rehue: error: {said}"), "the library's names, within a sentence"
    assert in_options("size 64 or more, batch_size 1 and sizes", frozenset({"--size"}), ("size", "batch_size")) == \
        "--size 64 or more, batch_size 1 and sizes", "a name replaced where it is a word of its own"
    assert in_options("batch_size 1 needs size 64 or more", frozenset({"--batch-size", "--size"}),
                      ("batch_size", "size"), frozenset({"size", "out"})) == "batch_size 1 needs --size 64 or more", \
        "probe 117: a resumed run's batch size, from its config, was said as --batch-size, which was not typed"
    options = frozenset({"--self-feed", "--epochs"})
    assert in_options("independent_feed, self_feed: only for ...", options) == \
        "independent_feed, --self-feed: only for ..."
    assert in_options("the run has trained 3 epochs already, more than --epochs 1", options) == \
        "the run has trained 3 epochs already, more than --epochs 1", "a name within a sentence stays"


def test_under_torchrun_a_usage_error_is_said_by_rank_0_alone(tmp_path, capsys, monkeypatch):
    """Probe 112: under torchrun both ranks printed the same refusal; probe 122: every line twice; probe 123: a
    failure only a later rank met (its node's data, its GPU's memory) was then not said at all."""
    (tmp_path / "photos").mkdir()
    argv = ["train", str(tmp_path / "photos"), "--out", str(tmp_path / "run"), "--batch-size", "0"]
    refusal = "rehue: error: --batch-size must be at least 1, not 0\n"
    for rank, said in (("1", refusal), ("0", refusal)):  # probe 121: RANK alone (a pod, an MPI job) is no torchrun
        monkeypatch.setenv("RANK", rank)
        assert main(argv) == 2
        assert capsys.readouterr().err == said, rank
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "none")  # WORLD_SIZE unset: no process group is made here
    for rank, said in (("1", ""), ("0", refusal), (" x", refusal)):
        monkeypatch.setenv("RANK", rank)
        assert main(argv) == 2
        assert capsys.readouterr().err == said, rank
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(SystemExit):  # argparse's errors are rank 0's to say
        main(["train", str(tmp_path / "photos"), "--size", "abc"])
    assert capsys.readouterr().err == ""
    assert main(["train", str(tmp_path / "nowhere"), "--out", str(tmp_path / "run")]) == 1
    assert capsys.readouterr().err == f"rehue: error (rank 1): {tmp_path / 'nowhere'}: training data not found\n"
    with pytest.raises(SystemExit):
        main(["train", str(tmp_path / "photos"), "--size", "abc", "--deb"])  # --debug, as argparse takes it
    assert "invalid int value: 'abc'" in capsys.readouterr().err
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    (tmp_path / "grid.toml").write_text("data = 'photos'\ngenerators = ['gen1']\ndiscriminators = ['disc1']\n")
    for command in (["grid-search", str(tmp_path / "grid.toml")], ["scenes", str(tmp_path / "clip.mp4")]):
        assert main(command) == 2
        assert capsys.readouterr().err == (f"rehue: error: only rehue train runs under torchrun; run rehue "
                                           f"{command[0]} without it\n")
    assert main(["data", "demo", "--out", str(tmp_path / "demo")]) == 2  # probe 125: "run rehue data without it"
    assert "run rehue data demo without it" in capsys.readouterr().err
    from rehue import cli

    def peer_gone(args):
        raise RuntimeError("[../gloo/transport/tcp/pair.cc:553] Connection closed by peer [127.0.0.1]:1234\nmore")

    monkeypatch.setattr(cli, "cmd_train", peer_gone)  # probe 125: rank 0's gloo traceback when rank 1 stopped
    assert main(["train", str(tmp_path / "photos"), "--out", str(tmp_path / "run")]) == 1
    assert capsys.readouterr().err == (
        "rehue: error (rank 0): another rank of this torchrun job stopped (its connection closed); torchrun's report "
        "says which, and that rank's own error line why, where it said one\n")

    def own_fault(args):  # probe 126: NCCL's errors are a rank's own as often, and were blamed on another
        raise RuntimeError("NCCL error in: ProcessGroupNCCL.cpp:1970, unhandled system error")

    monkeypatch.setattr(cli, "cmd_train", own_fault)
    with pytest.raises(RuntimeError, match="NCCL error"):
        main(["train", str(tmp_path / "photos"), "--out", str(tmp_path / "run")])
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out == "", "probe 125: rank 0 prints it, once"
    monkeypatch.setenv("WORLD_SIZE", "1")  # one process: nothing races
    assert main(["scenes", str(tmp_path / "clip.mp4")]) == 1
    assert "clip.mp4: no such file" in capsys.readouterr().err


def test_a_world_size_without_torchrun_is_one_line_and_a_cuda_torch_is_reinstalled_as_it_is(tmp_path, capsys,
                                                                                            monkeypatch):
    """Probe 125: WORLD_SIZE=2 exported without torchrun (a pod's) ended `train` in "MASTER_ADDR expected, but
    not set", a traceback; and the hint for a torch that cannot be imported named the CPU index on a machine
    whose torch is a CUDA build."""
    from rehue import cli

    photos = tmp_path / "photos"
    photos.mkdir()
    from PIL import Image

    from tests.conftest import textured_rgb

    for seed in range(4):
        Image.fromarray(textured_rgb(40, 40, seed=seed)).save(photos / f"p{seed}.png")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    assert main(["train", str(photos), "--out", str(tmp_path / "run"), "--size", "32", "--epochs", "1",
                 "--device", "cpu", "--no-progress"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "rehue: error: WORLD_SIZE is 2 in the environment, but MASTER_ADDR, MASTER_PORT and RANK are not set: launch "
        "distributed training with torchrun, or unset WORLD_SIZE to train in one process")
    monkeypatch.setenv("MASTER_ADDR", "localhost")  # probe 126: then "RANK expected, but not set", a traceback
    monkeypatch.setenv("MASTER_PORT", "29599")
    assert main(["train", str(photos), "--out", str(tmp_path / "run"), "--size", "32", "--no-progress"]) == 1
    assert capsys.readouterr().err.splitlines()[-1].startswith("rehue: error: WORLD_SIZE is 2 in the environment, but "
                                                               "RANK is not set")
    monkeypatch.setenv("WORLD_SIZE", "abc")  # probe 126: int() of it, before the check, a traceback
    assert main(["train", str(photos), "--out", str(tmp_path / "run"), "--size", "32", "--no-progress"]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "rehue: error: WORLD_SIZE in the environment is 'abc', not a number of processes: unset it to train in one "
        "process, or launch with torchrun")
    for version, cpu in (("2.13.0+cu121", False), ("2.5.1", False), ("2.13.0+cpu", True), ("", True)):
        monkeypatch.setattr(cli, "_installed_version", lambda name, version=version: version)
        cli._broken_install(ModuleNotFoundError("No module named 'torch'", name="torch"), "torch")
        said = capsys.readouterr().err
        assert said.endswith("(pip install --force-reinstall torch --index-url https://download.pytorch.org/whl/cpu, "
                             "the CPU build)\n" if cpu else "(pip install --force-reinstall torch)\n"), version


def test_a_launch_whose_other_processes_never_come_is_said_and_ends_in_one_line(tmp_path, capsys, monkeypatch):
    """Before, a full launcher environment (a shell inside a torchrun job) with no peer waited without a word
    for PyTorch's 30 minutes, then ended in its traceback."""
    import socket

    from PIL import Image

    from rehue.training import loop
    from tests.conftest import textured_rgb
    from tests.training.test_grid import write_grid

    photos = tmp_path / "photos"
    photos.mkdir()
    for seed in range(4):
        Image.fromarray(textured_rgb(40, 40, seed=seed)).save(photos / f"p{seed}.png")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for name, value in (("WORLD_SIZE", "2"), ("RANK", "0"), ("LOCAL_RANK", "0"), ("MASTER_ADDR", "127.0.0.1"),
                        ("MASTER_PORT", str(port))):
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(loop, "DIST_TIMEOUT_S", 2)
    assert main(["train", str(photos), "--out", str(tmp_path / "run"), "--size", "32", "--epochs", "1",
                 "--device", "cpu", "--no-progress"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"waiting for the 2 training processes of WORLD_SIZE to join at 127.0.0.1:{port} (torchrun " \
        "starts them)"
    assert err[-1].startswith(f"rehue: error: the 2 training processes of WORLD_SIZE did not all join at 127.0.0.1:"
                              f"{port} (") and err[-1].endswith("): launch distributed training with torchrun, or "
                                                                "unset WORLD_SIZE to train in one process"), err
    assert len(err) == 2 and not (tmp_path / "run").exists()
    # probe 146: a bad run folder, or a grid search, was said only after the wait, a grid search told to use
    # torchrun (which refuses it)
    (tmp_path / "afile").write_text("mine")
    searched = "WORLD_SIZE is 2 in the environment, and a grid search trains its runs one after another in one " \
        "process: unset WORLD_SIZE to run it"
    for command, message in ((["train", str(photos), "--out", str(tmp_path / "afile")], "afile: is a file, not a"),
                             (["train", "--resume", "--out", str(tmp_path / "none")], "nothing to resume: no such run"),
                             (["grid-search", str(write_grid(tmp_path))], searched)):
        assert main([*command, "--no-progress"]) in (1, 2)
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and message in err[0], err
    # probe 145: PyTorch waits in C++, where Ctrl-C and SIGTERM reached no Python code: only kill -9 ended it
    import os
    import signal
    import subprocess

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "MASTER_PORT": str(port), "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    for stop, status in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        waiting = subprocess.Popen([sys.executable, "-m", "rehue", "train", str(photos), "--out", str(tmp_path / "r"),
                                    "--size", "32", "--device", "cpu", "--no-progress"], env=environment,
                                   stderr=subprocess.PIPE, text=True)
        try:
            assert waiting.stderr.readline().startswith("waiting for the 2 training processes of WORLD_SIZE")
            waiting.send_signal(stop)
            assert waiting.wait(timeout=30) == status
            assert waiting.stderr.read().strip().splitlines()[-1] == "rehue: interrupted"
        finally:
            waiting.kill()
            waiting.wait()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [["models"], ["models", "--json"], ["--help"], ["colorize", "--help"], ["--version"]])
def test_output_that_cannot_be_written_is_named_and_fails(argv):
    """`rehue models > /dev/full` said "No space left on device" alone; `rehue --help > /dev/full` wrote nothing
    and exited 0."""
    import subprocess

    with open("/dev/full", "w") as full:
        run = subprocess.run([sys.executable, "-m", "rehue", *argv], stdout=full, stderr=subprocess.PIPE, text=True)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [f"rehue{' colorize' if 'colorize' in argv else ''}: error: standard output: "
                                       "No space left on device"]


def test_output_to_a_reader_that_went_away_ends_quietly():
    import subprocess

    run = subprocess.run(f"{sys.executable} -m rehue models | head -c 1; exit ${{PIPESTATUS[0]}}", shell=True,
                         executable="/bin/bash", capture_output=True, text=True)
    assert run.stdout == "s" and run.stderr == ""
    assert run.returncode in (0, 141)  # the listing may fit the pipe before the reader goes



def test_without_standard_streams_the_parser_says_nothing_and_ends(tmp_path):
    """Probe 131: main() in a program without standard output and error (pythonw) ended `--version` or a usage
    error in an AttributeError traceback."""
    import subprocess

    code = ("import sys\nsys.stdout = sys.stderr = None\nfrom rehue.cli import main\n"
            "codes = []\n"
            "for argv in (['--version'], ['colorize'], ['--help']):\n"
            "    try:\n"
            "        main(argv)\n"
            "    except SystemExit as exc:\n"
            "        codes.append(exc.code)\n"
            "open(sys.argv[1], 'w').write(repr(codes))\n")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "codes")], capture_output=True, text=True)
    assert (run.returncode, run.stderr) == (0, "") and (tmp_path / "codes").read_text() == "[0, 2, 0]"


def test_a_word_the_user_typed_is_never_turned_into_an_option(tmp_path, capsys, monkeypatch):
    """Probe 170: a file named `model`, `frames` or `mode` leading a usage error was said as `--model`,
    `--frames`, `--mode`; a path holding a setting's name (`init/x.safetensors`) became `--init/x.safetensors`."""
    from PIL import Image

    from rehue.cli import in_options

    monkeypatch.chdir(tmp_path)
    Image.new("L", (8, 8)).save("g.png")
    for name in ("model", "frames"):
        (tmp_path / name).write_bytes(b"")
    assert main(["colorize", "g.png", "-o", "model"]) == 2
    assert capsys.readouterr().err.startswith("rehue: error: model: is not a folder")
    assert main(["colorize", "g.png", "-o=model"]) == 2  # probe 171: as argparse reads it, any spelling
    assert capsys.readouterr().err.startswith("rehue: error: model: is not a folder")
    assert main(["colorize", "g.png", "g.png", "-o", "frames"]) == 2
    assert capsys.readouterr().err.startswith("rehue: error: frames: several inputs need an output folder")
    assert main(["scenes", ".", "--sheet", "mode"]) == 2
    assert capsys.readouterr().err.startswith("rehue: error: mode: the sheet is a PNG")
    (tmp_path / "size").mkdir()
    assert main(["train", "size", "--out", "run", "--size", "0"]) == 2, "a value named as the option typed"
    assert capsys.readouterr().err.startswith("rehue: error: --size must be")
    options = frozenset({"--init", "--independent-feed", "--quality"})
    assert in_options("independent_feed needs a model: init/x.safetensors is a dependent model", options,
                      ("independent_feed", "init")) == \
        "--independent-feed needs a model: init/x.safetensors is a dependent model"
    assert in_options("init.safetensors is a dependent model, not for init.", options, ("init",)) == \
        "init.safetensors is a dependent model, not for --init."
    assert in_options("crf: not here; quality sets JPEG's", options, ("quality",), frozenset({"crf"}),
                      resumed=False) == "crf: not here; --quality sets JPEG's", "a setting in advice, typed or not"
    assert in_options("quality must be 1-100", options, ("quality",), frozenset()) == "quality must be 1-100", \
        "a resumed run's saved setting keeps its name (probe 117)"
