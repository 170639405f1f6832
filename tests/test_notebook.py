"""The notebook runs top to bottom through the public API (code cells executed in order), and
writes only into a temporary folder, never into the repository."""

import ast
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "chatham_kent.ipynb"
#: What the notebook may import: gapmap's top-level API and the standard library.
ALLOWED = {"gapmap", "tempfile", "pathlib"}


def _code_cells() -> list[str]:
    return ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]


def _repo_state() -> tuple[str, list[str]]:
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--ignored"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout
    outputs = sorted(str(p.relative_to(REPO)) for p in (REPO / "outputs").rglob("*")) if (REPO / "outputs").exists() else []
    return status, outputs


def test_notebook_imports_only_the_public_api():
    for src in _code_cells():
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "gapmap":
                    assert node.attr in __import__("gapmap").__all__, f"gapmap.{node.attr} is not public API"
                continue
            assert all(n in ALLOWED for n in names), f"notebook imports {names}: only {sorted(ALLOWED)}"


def test_notebook_cells_run(mirror, tmp_path, monkeypatch):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # a relative path would land here, not in the repo
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    before = _repo_state()
    ns: dict = {}
    for src in _code_cells():
        exec(compile(src, str(NOTEBOOK), "exec"), ns)
    assert _repo_state() == before, "the notebook wrote into the repository"
    assert list(work.iterdir()) == []
    assert ns["result"].region.slug == "chatham-kent"
    out = Path(ns["out_dir"])
    assert out.parent == tmp_path / "tmp" and (out / "map.html").exists()
    assert "<iframe" in ns["m"]._repr_html_()  # the map cell's inline output
    assert "site_id" not in ns["hexagons"].columns
    assert ns["run_result"].recommendations.shortfall  # Chatham-Kent: 1 hospital site covers what 3 could
    assert sys.modules.get("gapmap") is not None
