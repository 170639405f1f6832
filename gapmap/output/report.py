"""``report.html``: headline numbers, per-area tables, coverage curves, method and sources.

One self-contained page (curves are inline PNGs), readable printed (A4/Letter, no
interactive parts). Uses the same public/internal rules as the other outputs: in public mode
the per-area table is the suppressed copy.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd

from gapmap.output.html import esc
from gapmap.output.i18n import cat_label, headline_text, labels

_CSS = """
body{font:14px/1.45 Georgia,serif;max-width:900px;margin:24px auto;padding:0 16px;color:#222}
h1{font-size:24px;margin-bottom:0}h2{font-size:18px;border-bottom:1px solid #999;margin-top:28px}
table{border-collapse:collapse;width:100%;font:12px/1.3 sans-serif;margin:8px 0}
th,td{border:1px solid #bbb;padding:3px 6px;text-align:right}th{background:#eee}td:first-child,th:first-child{text-align:left}
.headline{font-size:17px;background:#fff4e5;border-left:4px solid #e67e22;padding:8px 12px}
.small{font-size:12px;color:#555}img{max-width:100%}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}table,img{page-break-inside:avoid}}
"""


def coverage_curve(minutes: pd.Series, weights: pd.Series, grid: np.ndarray) -> np.ndarray:
    """Share of total weight whose minutes are <= each grid value (unreachable never covered)."""
    w = weights.fillna(0).to_numpy(dtype=float)
    m = minutes.astype(float).fillna(np.inf).to_numpy()
    total = w.sum()
    if total == 0:
        return np.full(len(grid), np.nan)
    order = np.argsort(m, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(w[order])])
    return cum[np.searchsorted(m[order], grid, side="right")] / total


def _curve_png(result, cat: str, L: dict, coverage: list[dict] | None = None) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = result.settings
    grid = np.arange(0, max(90, max(s.thresholds_min) * 1.5) + 1)
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    if len(result.sites) and s.privacy == "public" and coverage is not None:
        # A per-site step curve gives each site's minutes (a circle around a known service):
        # public mode draws only the published coverage figures.
        from gapmap.analysis.privacy import published_curve

        ax.plot(*published_curve(coverage, cat), label=L["workers"], color="#6c3483", lw=2, marker="o")
    elif len(result.sites):
        ax.plot(grid, coverage_curve(result.sites[f"{cat}_min"], result.sites["workers"], grid), label=L["workers"], color="#6c3483", lw=2)
    ax.plot(grid, coverage_curve(result.population[f"{cat}_min"], result.population["pop2021"], grid), label=L["population"],
            color="#2471a3", lw=2)
    for t in s.thresholds_min:
        ax.axvline(t, color="#999", ls=":", lw=1)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, grid[-1])
    ax.set_xlabel(L["minutes_axis"])
    ax.set_ylabel(L["share_covered"])
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})  # no version stamp: same bytes every run
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _table(df: pd.DataFrame, pct_cols: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in df.columns)
    rows = []
    for _, r in df.iterrows():
        cells = []
        for i, v in enumerate(r):
            if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                cells.append("<td>–</td>")
            elif i in pct_cols:
                cells.append(f"<td>{float(v):.1%}</td>")
            elif isinstance(v, (int, float, np.integer, np.floating)):
                cells.append(f"<td>{v:,.0f}</td>")
            else:
                cells.append(f"<td>{esc(v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def build_report(result, areas_table: pd.DataFrame, coverage: list[dict], attributions: list[str],
                 recommendations: pd.DataFrame | None = None) -> str:
    """HTML text of the report."""
    s = result.settings
    L = labels(s.lang)
    pre = f"{s.headline_category}_{s.headline_threshold:g}min"
    parts = [f"<!DOCTYPE html><html lang='{s.lang}'><head><meta charset='utf-8'><title>{esc(result.region.name)}: {L['report_title']}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{esc(result.region.name)}</h1><p class='small'>{L['report_title']} · {esc(result.region.lead)} · "
             f"{L['data_as_of']}: ODHF v1.1 (2020), ESDC LMIA 2022-2023, Census 2021 · gapmap</p>",
             f"<p class='headline'>{headline_text(areas_table.iloc[-1], s, s.lang)}</p>",
             f"<p><b>{L['method']}:</b> {esc(result.method)}.</p>"]
    cols = ["area_name", "sites", "workers", f"{pre}_workers_not", f"{pre}_workers_not_share", "population", f"{pre}_pop_not",
            f"{pre}_pop_not_share"]
    shown = areas_table[cols].rename(columns=dict(zip(cols, [L["area"], L["sites"], L["workers"],
                                                              L["workers_beyond"].format(t=f"{s.headline_threshold:g}"), L["share_beyond"],
                                                              L["population"], L["people_beyond"].format(t=f"{s.headline_threshold:g}"),
                                                              L["share_beyond"] + " "])))
    parts.append(f"<h2>{L['per_area']}</h2>{_table(shown, {4, 7})}")
    cov = pd.DataFrame(coverage)[["category", "mode", "threshold_min", "sites_covered", "workers_covered", "workers_covered_share",
                                  "population_covered", "population_covered_share"]]
    cov["category"] = cov["category"].map(lambda c: cat_label(c, s.lang))
    parts.append(f"<h2>{L['coverage_curves']}</h2>{_table(cov, {5, 7})}")
    for cat in s.categories:
        png = _curve_png(result, cat, L, coverage)
        cap = L["curve_caption"].format(cat=esc(cat_label(cat, s.lang)), mode=esc(s.mode), method=esc(result.method))
        parts.append(f"<figure><img alt='{cap}' src='data:image/png;base64,{png}'><figcaption class='small'>{cap}</figcaption></figure>")
    if recommendations is not None and len(recommendations):
        rec = pd.DataFrame(recommendations)[["rank", "name", "workers_newly_covered", "people_newly_covered"]]
        rec.columns = [L["rank"], L["name"], L["newly_workers"], L["newly_people"]]
        parts.append(f"<h2>{L['recommendations']}</h2>{_table(rec)}")
    parts.append(f"<h2>{L['approximations']}</h2><ul>" + "".join(f"<li>{esc(a)}</li>" for a in result.approximations) + "</ul>")
    if result.notes:
        parts.append(f"<h2>{L['notes']}</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in result.notes) + "</ul>")
    parts.append(f"<h2>{L['sources']}</h2><ul>" + "".join(f"<li>{esc(a)}</li>" for a in attributions) + "</ul></body></html>")
    return "\n".join(parts) + "\n"
