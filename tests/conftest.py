"""Shared fixtures: the real offline data mirror and one Chatham-Kent run reused by many tests."""

from __future__ import annotations

import pytest

from gapmap.sources import catalog


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
