"""Run under the system Python with PyQGIS (``/usr/bin/python3``, ``QT_QPA_PLATFORM=offscreen``).

``qgis_probe.py OUT_DIR PNG`` opens ``OUT_DIR/project.qgz`` and ``OUT_DIR/layers.gpkg`` in real
QGIS and prints one JSON object: whether the project read, each project layer's validity,
renderer, classes, aliases, boolean fields and features without a symbol; the renderer each
GeoPackage layer gets from ``layer_styles`` when loaded on its own; and the rendered PNG's
pixel counts. Used by ``tests/output/test_qgis.py``.
"""

import json
import os
import sys

from qgis.core import (Qgis, QgsApplication, QgsExpressionContext, QgsExpressionContextUtils, QgsMapRendererParallelJob, QgsMapSettings, QgsProject,
                       QgsRenderContext, QgsVectorLayer)
from qgis.PyQt.QtCore import QSize, QVariant
from qgis.PyQt.QtGui import QColor


def layer_info(lyr):
    r = lyr.renderer()
    fields = lyr.fields()
    info = {"valid": lyr.isValid(), "name": lyr.name(), "source": lyr.source(), "features": lyr.featureCount(),
            "renderer": r.type() if r else None,
            "aliases": {f.name(): lyr.attributeAlias(i) for i, f in enumerate(fields)},
            "bool_fields": [f.name() for f in fields if f.type() == QVariant.Bool]}
    if r is not None and r.type() == "graduatedSymbol":
        info["classes"] = [rg.label() for rg in r.ranges()]
        info["attr"] = r.classAttribute()
    elif r is not None and r.type() == "categorizedSymbol":
        info["classes"] = [c.label() for c in r.categories()]
        info["shown"] = [c.label() for c in r.categories() if c.renderState()]
        info["attr"] = r.classAttribute()
    if r is not None:
        ctx = QgsRenderContext()
        ctx.setExpressionContext(QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(lyr)))
        r.startRender(ctx, fields)
        missing = 0
        for f in lyr.getFeatures():
            ctx.expressionContext().setFeature(f)
            missing += not r.symbolsForFeature(f, ctx)
        info["features_without_symbol"] = missing
        r.stopRender(ctx)
    return info


def main(out_dir, png):
    app = QgsApplication([], False)
    app.initQgis()
    messages = []
    QgsApplication.messageLog().messageReceived.connect(
        lambda msg, tag, level: messages.append({"tag": tag, "level": int(level), "message": msg}))
    proj = QgsProject.instance()
    bad = []
    ok = proj.read(os.path.join(out_dir, "project.qgz"))
    res = {"read": ok, "error": proj.error(), "crs": proj.crs().authid(), "layers": {}, "from_gpkg": {}}
    for lyr in proj.mapLayers().values():
        res["layers"][lyr.source().split("layername=")[-1]] = layer_info(lyr)
        if not lyr.isValid():
            bad.append(lyr.name())
    res["bad_layers"] = bad
    gpkg = os.path.join(out_dir, "layers.gpkg")
    for name in res["layers"]:
        lyr = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        res["from_gpkg"][name] = {"valid": lyr.isValid(), "renderer": lyr.renderer().type() if lyr.renderer() else None,
                                  "classes": len(getattr(lyr.renderer(), "ranges", getattr(lyr.renderer(), "categories", list))()),
                                  "alias_areas": lyr.attributeAlias(lyr.fields().indexOf("area_name"))}

    visible = proj.layerTreeRoot().checkedLayers()
    res["visible"] = [lyr.source().split("layername=")[-1] for lyr in visible]
    boundary = next(lyr for lyr in proj.mapLayers().values() if lyr.source().endswith("layername=boundary"))
    ms = QgsMapSettings()
    ms.setLayers(visible)
    ms.setDestinationCrs(proj.crs())
    ext = boundary.extent()
    ext.scale(1.05)
    ms.setExtent(ext)
    ms.setOutputSize(QSize(900, 700))
    ms.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(ms)
    job.start()
    job.waitForFinished()
    img = job.renderedImage()
    img.save(png)
    white = QColor(255, 255, 255).rgb()
    total = img.width() * img.height()
    non_bg, colours = 0, set()
    for y in range(0, img.height(), 2):
        for x in range(0, img.width(), 2):
            p = img.pixel(x, y)
            if p != white:
                non_bg += 1
                colours.add(p & 0xFFFFFF)
    res["render"] = {"width": img.width(), "height": img.height(), "sampled": total // 4, "non_background": non_bg,
                     "colours": len(colours), "errors": [e.message for e in job.errors()]}
    res["messages"] = [m for m in messages if m["level"] >= int(Qgis.Warning)]
    print(json.dumps(res), flush=True)
    os._exit(0)  # QgsApplication.exitQgis() can crash in offscreen mode after the output is written


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
