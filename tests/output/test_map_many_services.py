"""A services file far larger than a map can hold as markers is drawn as one layer of dots (issue 13)."""

from __future__ import annotations

import copy
import dataclasses
import re

import geopandas as gpd
import numpy as np

from gapmap.output import webmap


def test_many_services_become_one_dot_layer(ck_run):
    result, _ = ck_run
    res = copy.copy(result)
    services = result.layers["services"].gdf
    hosp = services[services["category"] == "hospital"].iloc[[0]]
    n = webmap.MAP_SERVICE_MARKERS + 500
    rng = np.random.default_rng(0)
    x0, y0 = hosp.geometry.x.iloc[0], hosp.geometry.y.iloc[0]
    many = gpd.GeoDataFrame(hosp.loc[hosp.index.repeat(n)].reset_index(drop=True),
                            geometry=gpd.points_from_xy(x0 + rng.uniform(-5000, 5000, n), y0 + rng.uniform(-5000, 5000, n)),
                            crs=services.crs)
    many["service_id"] = [f"user-{i}" for i in range(n)]
    many["name"] = "Clinic NAME-MARKER"
    others = services[services["category"] != "hospital"]
    lay = dataclasses.replace(result.layers["services"], gdf=gpd.GeoDataFrame(
        np.concatenate([others.to_numpy(), many[others.columns].to_numpy()]), columns=others.columns,
        geometry="geometry", crs=services.crs))
    res.layers = {**result.layers, "services": lay}
    page = webmap.render_html(webmap.build_map(res, attributions=[]))
    layers = re.findall(r'"coordinates": (\[\[[^"]*?\]\]), "type": "MultiPoint"', page)
    assert len(layers) == 1 and layers[0].count("], [") + 1 == n  # every service, one dot each
    assert "NAME-MARKER" not in page  # no per-service text for the dots
