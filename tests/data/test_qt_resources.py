"""Reading Qt resource bundles: a bundle is written here in the format ``rcc -binary`` writes."""

from __future__ import annotations

import pytest

from rehue.data.qt_resources import read_qt_resources
from rehue.errors import RehueError
from tests.helpers_qt import write_rcc


@pytest.mark.parametrize("version", [1, 2, 3])
def test_files_come_back_by_path_compressed_or_not(tmp_path, version):
    photo = bytes(range(256)) * 40
    bundle = tmp_path / "x.rcc"
    write_rcc(bundle, {"gcompris": {"src": {"a.webp": photo, "README": b"credits", "deep": {"b.txt": b"hi"}}}},
              version=version, compress=("gcompris/src/a.webp",))
    assert read_qt_resources(bundle) == {"gcompris/src/a.webp": photo, "gcompris/src/README": b"credits",
                                         "gcompris/src/deep/b.txt": b"hi"}


def test_zstd_compressed_files_are_left_out(tmp_path):
    bundle = tmp_path / "x.rcc"
    write_rcc(bundle, {"a": b"plain", "b": b"zstd bytes"}, zstd=("b",))
    assert read_qt_resources(bundle) == {"a": b"plain"}


def test_a_file_that_is_not_a_bundle_is_refused_with_its_name(tmp_path):
    bad = tmp_path / "bad.rcc"
    bad.write_bytes(b"PK\x03\x04 not a bundle")
    with pytest.raises(RehueError, match="not a readable Qt resource bundle") as excinfo:
        read_qt_resources(bad)
    assert "bad.rcc" in str(excinfo.value)


def test_a_truncated_bundle_is_refused(tmp_path):
    bundle = tmp_path / "x.rcc"
    write_rcc(bundle, {"a": b"x" * 1000})
    bundle.write_bytes(bundle.read_bytes()[:200])
    with pytest.raises(RehueError, match="not a readable Qt resource bundle"):
        read_qt_resources(bundle)
