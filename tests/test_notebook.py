"""The notebook runs top to bottom through the public API (code cells executed in order)."""

import json
import sys
import types
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "chatham_kent.ipynb"


def test_notebook_cells_run(mirror, tmp_path, monkeypatch):
    # IPython may be absent in the test environment: a minimal IFrame stands in for display only.
    display = types.ModuleType("IPython.display")
    display.IFrame = lambda *a, **k: ("IFrame", a, k)
    monkeypatch.setitem(sys.modules, "IPython", types.ModuleType("IPython"))
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    cells = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    ns: dict = {}
    for cell in cells:
        exec(compile("".join(cell["source"]), str(NOTEBOOK), "exec"), ns)
    assert ns["result"].region.slug == "chatham-kent"
    assert (tmp_path / "outputs" / "chatham-kent" / "map.html").exists()
    assert ns["sites"]["hospital_min"].notna().all()
