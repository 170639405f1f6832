"""Shared fixtures: the real offline data mirror and one Chatham-Kent run reused by many tests."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from gapmap.sources import catalog


def pytest_configure(config):
    """Hermetic network cache: `--network auto` (the CLI's and the API's default) reads a cached road network
    for the region if one exists, so a developer's own cache (~/.cache/gapmap) must not change what the tests
    see. The tests also assume no internet, as CI has (the golden CK run records the offline fallback note)."""
    if "GAPMAP_CACHE" not in os.environ:
        config._gapmap_cache = tempfile.mkdtemp(prefix="gapmap-test-cache-")
        os.environ["GAPMAP_CACHE"] = config._gapmap_cache


def pytest_unconfigure(config):
    made = getattr(config, "_gapmap_cache", None)
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)
        os.environ.pop("GAPMAP_CACHE", None)


@pytest.fixture(scope="session")
def mirror():
    root = catalog.find_mirror()
    if root is None or not (root / "README.md").exists():
        pytest.skip("the offline data mirror (../shared/data) is not present")
    return root


@pytest.fixture(scope="session")
def ck_run(mirror, tmp_path_factory):
    """The default Chatham-Kent analysis, written once to a temp folder."""
    import gapmap

    out = tmp_path_factory.mktemp("ck")
    result, files = gapmap.run("chatham-kent", out_dir=out)
    return result, files
