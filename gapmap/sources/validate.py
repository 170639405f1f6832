"""``gapmap validate``: check user files without analysing (same readers and checks as ``analyze``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from gapmap import layers
from gapmap.sources import inputs
from gapmap.errors import InputError
from gapmap.sources.regions import get_region


@dataclasses.dataclass
class Report:
    path: Path
    kind: str
    rows_read: int
    rows_used: int
    rejects: pd.DataFrame
    notes: list[str]

    @property
    def rows_rejected(self) -> int:
        return len(self.rejects)

    @property
    def reasons(self) -> dict[str, int]:
        generic = self.rejects["reason"].astype(str).str.replace(r"\(.*\)|'[^']*'", "(...)", regex=True)
        return generic.value_counts().sort_index().to_dict()


def guess_kind(path: str | Path, crs: str | None = None) -> str:
    """services / sites / population / boundary from the file's columns and geometry."""
    from gapmap import sources

    if not Path(path).exists():
        raise InputError(f"Input file {path} does not exist; check the path.")
    table = inputs.read_table(path, layer="input", crs=crs) if Path(path).suffix.lower() in inputs.VECTOR_SUFFIXES else None
    cols = {c.lower() for c in (table.gdf.columns if table is not None else sources.read_csv(path, [], what="Input").columns)}
    if table is not None and not table.gdf.geom_type.isin(["Point", "MultiPoint"]).all() and not cols & set(layers.POP_NAMES):
        return "boundary"
    if "category" in cols:
        return "services"
    if cols & set(layers.WORKER_NAMES):
        return "sites"
    if cols & set(layers.POP_NAMES):
        return "population"
    raise InputError(f"Cannot tell what {path} is (no category, workers or population column, and not polygons); pass --kind.")


def validate_file(path: str | Path, *, region: str = "chatham-kent", kind: str = "auto", crs: str | None = None,
                  data_dir=None) -> Report:
    """Run the readers and checks ``analyze`` would run on ``path``; raise :class:`InputError` for a file-level problem."""
    reg = get_region(region)
    boundary, areas = layers.build_boundary(reg, data_dir)
    kind = guess_kind(path, crs) if kind == "auto" else kind
    if kind == "services":
        gdf, rej, n, notes = layers.read_user_services(path, boundary.gdf, crs=crs)
        return Report(Path(path), kind, n, len(gdf), rej, notes)
    if kind == "sites":
        lay = layers.build_user_sites(path, boundary.gdf, areas.gdf, crs=crs, data_dir=data_dir, region=reg)
    elif kind == "population":
        lay = layers.build_user_population(path, boundary.gdf, areas.gdf, crs=crs)
    else:
        b, a = layers.build_boundary(reg, data_dir, boundary_file=path)
        lay = a
    return Report(Path(path), kind, lay.rows_read, lay.rows_used, lay.rejects, list(lay.notes))
