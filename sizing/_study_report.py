"""A fit study's answers: coverage per garment and size, a size per body, and the chart checks.

The reduce step of a study. Per body and garment the judged sizes (each row's ``SizeFit``) go
through ``recommend``, the judgement ``judge_drapes`` makes, with the same lowered confidence per
size that could not be draped. Written as ``study.json`` and ``study.html`` (tables and
matplotlib plots embedded as PNG, so the page works offline).

A garment file (``StudyResult.garment_sizes``) has its own sizes and no size chart: its chart
answer is absent (``chart_vs_drape`` is None, the page says "n/a"), and its grading step is the
pattern's own girth step between sizes (body girth plus pattern ease, the same for every body).
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from tryon3d import __version__
from tryon3d.sizing._jobs import _FAILED_SIZE_CONFIDENCE
from tryon3d.sizing._recommend import recommend
from tryon3d.sizing._study import StudyResult, size_fit_from_json

__all__ = ["STUDY_FORMAT", "study_html", "study_json"]

STUDY_FORMAT = "tryon3d.study/1"
#: Verdict classes in report order; "failed" is a drape that could not be made or judged.
VERDICTS = ("good", "snug", "loose", "too tight", "too loose", "failed")
_COLOURS = {
    "good": "#2e7d32",
    "snug": "#9ccc65",
    "loose": "#4fc3f7",
    "too tight": "#e53935",
    "too loose": "#1565c0",
    "failed": "#9e9e9e",
}


def _r(value: Any, digits: int = 3) -> float | None:
    return (
        round(float(value), digits) if value is not None and math.isfinite(float(value)) else None
    )


def _recommend_body(rows: list[dict[str, Any]], order: list[str]) -> dict[str, Any]:
    """The recommendation for one body and garment from its rows (``judge_drapes``'s reduce)."""
    fits = {r["size"]: size_fit_from_json(r["fit_json"]) for r in rows if r["fit_json"]}
    failed = [r["size"] for r in rows if not r["fit_json"]]
    chart_size = next((r["chart_size"] for r in rows if r["chart_size"]), None)
    if not fits:
        return {
            "size": None,
            "confidence": 0.0,
            "verdict": "failed",
            "chart_size": chart_size,
            "reason": "no size could be draped",
        }
    best, confidence, reasons = recommend(fits, order, chart_size)
    confidence *= _FAILED_SIZE_CONFIDENCE ** len(failed)
    return {
        "size": best,
        "confidence": round(confidence, 3),
        "verdict": fits[best].verdict,
        "chart_size": chart_size,
        "reason": reasons[0],
    }


def _governing_ease(row: dict[str, Any]) -> float | None:
    region = row.get("governing_region")
    return row.get(f"ease_{region}_cm") if region else None


def _pattern_grading(rows: list[dict[str, Any]], sizes: list[str], region: str) -> dict[str, Any]:
    """A garment file's own grading at ``region``: its pattern girth per size (each body's girth
    plus the pattern ease on it, a median over bodies) and the step between adjacent sizes [cm],
    against the population's spread of that girth."""
    girth: dict[str, float] = {}
    for size in sizes:
        per_body = [
            r[f"body_{region}_cm"] + fit.pattern_ease_cm[region]
            for r in rows
            if r["size"] == size and r["fit_json"] and r.get(f"body_{region}_cm") is not None
            for fit in [size_fit_from_json(r["fit_json"])]
            if region in fit.pattern_ease_cm and math.isfinite(fit.pattern_ease_cm[region])
        ]
        if per_body:
            girth[size] = float(np.median(per_body))
    steps = {
        f"{a}->{b}": round(girth[b] - girth[a], 1)
        for a, b in itertools.pairwise(sizes)
        if a in girth and b in girth
    }
    bodies = {r["body_id"]: r.get(f"body_{region}_cm") for r in rows}
    values = np.array([v for v in bodies.values() if v is not None], dtype=float)
    spread = float(np.std(values)) if values.size > 1 else math.nan
    mean_step = float(np.mean(list(steps.values()))) if steps else math.nan
    return {
        "region": region,
        "pattern_girth_cm": {s: round(g, 1) for s, g in girth.items()},
        "step_cm": steps,
        "population_mean_cm": _r(np.mean(values), 1) if values.size else None,
        "population_sd_cm": _r(spread, 1),
        "mean_step_over_sd": _r(mean_step / spread, 2) if spread > 0 else None,
        "bodies": int(values.size),
    }


def study_json(result: StudyResult, *, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The study's answers as JSON-ready data (cm, shares in [0, 1]).

    Per garment: per size the share of bodies for each verdict and where the failures are, the
    governing ease percentiles; the recommended size counts; bodies no size fits; adjacent sizes
    that both fit the same bodies; the chart's grading step against the population's spread
    (for a garment file, its pattern's step: ``grading["pattern"]``); the size chart's answer
    against the drape's (None for a garment file: no chart). Per body: its measurements and
    recommendations.
    """
    from tryon3d import garments as garments_stage

    rows = list(result.rows)
    families = list(dict.fromkeys(r["garment"] for r in rows))
    per_body: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = per_body.setdefault(row["body_id"], {"sex": row["sex"], "recommended": {}})
        for name in (
            "body_height_cm",
            "body_weight_kg",
            "body_chest_cm",
            "body_waist_cm",
            "body_hips_cm",
        ):
            if row.get(name) is not None and math.isfinite(row[name]):
                entry[name.removeprefix("body_")] = round(row[name], 1)
    out_garments = {}
    for family in families:
        fam_rows = [r for r in rows if r["garment"] == family]
        charts = sorted({r["chart"] for r in fam_rows if r["chart"]})  # "": a file, no chart
        own = family in result.garment_sizes
        order = (
            list(result.garment_sizes[family])
            if own
            else list(dict.fromkeys(s for c in charts for s in garments_stage.size_chart(c)))
        )
        sizes_seen = [s for s in order if any(r["size"] == s for r in fam_rows)]
        sizes = {}
        for size in sizes_seen:
            s_rows = [r for r in fam_rows if r["size"] == size]
            verdicts = Counter(r["verdict"] for r in s_rows)
            where = Counter(w for r in s_rows for w in (r["fails_at"] or "").split(",") if w)
            ease = np.array(
                [e for e in (_governing_ease(r) for r in s_rows) if e is not None], dtype=float
            )
            sizes[size] = {
                "bodies": len(s_rows),
                "share": {v: round(verdicts.get(v, 0) / len(s_rows), 3) for v in VERDICTS},
                "fails_share": round(
                    (verdicts.get("too tight", 0) + verdicts.get("too loose", 0)) / len(s_rows), 3
                ),
                "fails_at": {w: round(n / len(s_rows), 3) for w, n in where.most_common()},
                "governing_ease_cm": (
                    {
                        "p10": _r(np.percentile(ease, 10), 1),
                        "p50": _r(np.median(ease), 1),
                        "p90": _r(np.percentile(ease, 90), 1),
                    }
                    if ease.size
                    else {}
                ),
                "errors": sorted({r["error"] for r in s_rows if r["error"]})[:5],
            }
        by_body: dict[str, list[dict[str, Any]]] = {}
        for r in fam_rows:
            by_body.setdefault(r["body_id"], []).append(r)
        recs = {}
        for bid, b_rows in by_body.items():
            recs[bid] = _recommend_body(b_rows, order)
            per_body[bid]["recommended"][family] = recs[bid]
        no_fit = sorted(
            b for b, rec in recs.items() if rec["verdict"] in ("too tight", "too loose", "failed")
        )
        good_sets = {
            b: {r["size"] for r in rs if r["verdict"] == "good"} for b, rs in by_body.items()
        }
        overlaps = []
        for a, b in itertools.pairwise(sizes_seen):
            both = sum(1 for s in good_sets.values() if a in s and b in s)
            overlaps.append(
                {
                    "sizes": [a, b],
                    "bodies_good_in_both": both,
                    "share": round(both / len(by_body), 3),
                }
            )
        region = next((r["governing_region"] for r in fam_rows if r["governing_region"]), "")
        grading = {}
        for chart in charts if region else ():  # no region: nothing was judged
            table = garments_stage.size_chart(chart)
            chart_bodies = {r["body_id"]: r for r in fam_rows if r["chart"] == chart}
            girths = np.array(
                [
                    r.get(f"body_{region}_cm")
                    for r in chart_bodies.values()
                    if r.get(f"body_{region}_cm") is not None
                ],
                dtype=float,
            )
            steps = {
                f"{a}->{b}": round(100.0 * (table[b][region] - table[a][region]), 1)
                for a, b in itertools.pairwise(sizes_seen)
                if a in table and b in table
            }
            spread = float(np.std(girths)) if girths.size > 1 else math.nan
            mean_step = float(np.mean(list(steps.values()))) if steps else math.nan
            grading[chart] = {
                "region": region,
                "step_cm": steps,
                "population_mean_cm": _r(np.mean(girths), 1) if girths.size else None,
                "population_sd_cm": _r(spread, 1),
                "mean_step_over_sd": _r(mean_step / spread, 2) if spread > 0 else None,
                "bodies": int(girths.size),
            }
        if own and region:
            grading["pattern"] = _pattern_grading(fam_rows, sizes_seen, region)
        # only where the chart's size was draped: else the drape could not have agreed
        agree = [
            rec["size"] == rec["chart_size"]
            for rec in recs.values()
            if rec["size"] and rec["chart_size"] in sizes_seen
        ]
        not_tried = sum(1 for rec in recs.values() if rec["chart_size"] not in sizes_seen)
        table_cd: dict[str, dict[str, int]] = {}
        larger = smaller = 0
        for rec in recs.values():
            if not rec["size"] or not rec["chart_size"]:
                continue
            table_cd.setdefault(rec["chart_size"], Counter())[rec["size"]] += 1
            larger += order.index(rec["size"]) > order.index(rec["chart_size"])
            smaller += order.index(rec["size"]) < order.index(rec["chart_size"])
        out_garments[family] = {
            "source": "file" if own else "family",
            "sha256": result.garment_sha256.get(family),
            "charts": charts,
            "sizes": sizes,
            "recommended": dict(Counter(rec["size"] or "none" for rec in recs.values())),
            "no_size_fits": {"bodies": no_fit, "share": round(len(no_fit) / max(1, len(recs)), 3)},
            "overlaps": overlaps,
            "grading": grading,
            "chart_vs_drape": None
            if own
            else {
                "agree_share": round(float(np.mean(agree)), 3) if agree else None,
                "chart_size_not_draped": not_tried,
                "drape_larger": larger,
                "drape_smaller": smaller,
                "table": {k: dict(v) for k, v in table_cd.items()},
            },
        }
    timings = {}
    for k in (
        "seconds_body_build",
        "seconds_place",
        "seconds_drape",
        "seconds_judge",
        "seconds_total",
    ):
        values = [r[k] for r in rows if r.get(k) is not None]
        timings[k] = _r(np.mean(values), 2) if values else None
    return {
        "format": STUDY_FORMAT,
        "tryon3d_version": __version__,
        "inputs": inputs or {},
        "jobs": {
            "total": result.job_count,
            "ran": result.ran,
            "skipped": result.skipped,
            "lost": result.lost,
            "failed": sum(1 for r in rows if r["error"]),
            "done": len(rows),
        },
        "executor": result.executor,
        "ray_resources": result.ray_resources,
        "seconds": round(result.seconds, 1),
        "mean_seconds_per_job": timings,
        "garments": out_garments,
        "bodies": per_body,
    }


# ----------------------------------------------------------------------------- HTML


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _plots(summary: dict[str, Any], rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    images = {}
    families = list(summary["garments"])
    fig, axes = plt.subplots(
        len(families),
        1,
        figsize=(
            7,
            0.8
            + (0.9 + 0.35 * max(len(summary["garments"][f]["sizes"]) for f in families))
            * len(families),
        ),
        squeeze=False,
        layout="constrained",
    )
    for ax, family in zip(axes[:, 0], families, strict=True):
        sizes = summary["garments"][family]["sizes"]
        labels = list(sizes)
        left = np.zeros(len(labels))
        for verdict in VERDICTS:
            share = np.array([sizes[s]["share"][verdict] for s in labels])
            ax.barh(labels, share, left=left, color=_COLOURS[verdict], label=verdict)
            left += share
        ax.set_xlim(0, 1)
        ax.set_title(f"{family}: fit coverage per size (share of bodies)")
    fig.legend(
        *axes[0, 0].get_legend_handles_labels(), ncol=6, fontsize=7, loc="outside lower center"
    )
    images["coverage"] = _png(fig)
    fig, axes = plt.subplots(1, len(families), figsize=(4.5 * len(families), 3.2), squeeze=False)
    for ax, family in zip(axes[0], families, strict=True):
        labels = list(summary["garments"][family]["sizes"])
        data = [
            [
                e
                for r in rows
                if r["garment"] == family and r["size"] == s
                for e in [_governing_ease(r)]
                if e is not None
            ]
            for s in labels
        ]
        keep = [i for i, d in enumerate(data) if d]
        if keep:
            ax.boxplot([data[i] for i in keep], tick_labels=[labels[i] for i in keep])
        ax.axhline(0.0, color="k", lw=0.5)
        ax.set_title(f"{family}: ease at the sizing region [cm]")
    images["ease"] = _png(fig)
    fig, axes = plt.subplots(1, len(families), figsize=(4.5 * len(families), 3.6), squeeze=False)
    for ax, family in zip(axes[0], families, strict=True):
        region = next(
            (
                r["governing_region"]
                for r in rows
                if r["garment"] == family and r["governing_region"]
            ),
            "chest",
        )
        bodies = summary["bodies"]
        order = list(summary["garments"][family]["sizes"])
        cmap = plt.get_cmap("viridis", max(2, len(order)))
        for i, size in enumerate([*order, None]):
            pts = [
                (b.get("height_cm"), b.get(f"{region}_cm"))
                for b in bodies.values()
                if b["recommended"].get(family, {}).get("size") == size and b.get(f"{region}_cm")
            ]
            if pts:
                x, y = np.array(pts, dtype=float).T
                ax.scatter(
                    x, y, s=18, color=cmap(i) if size else "#9e9e9e", label=size or "not draped"
                )
        nofit = set(summary["garments"][family]["no_size_fits"]["bodies"])
        pts = [
            (b.get("height_cm"), b.get(f"{region}_cm"))
            for bid, b in bodies.items()
            if bid in nofit and b.get(f"{region}_cm")
        ]
        if pts:
            x, y = np.array(pts, dtype=float).T
            ax.scatter(x, y, s=60, marker="x", color="#e53935", label="no size fits")
        ax.set_xlabel("height [cm]")
        ax.set_ylabel(f"{region} girth [cm]")
        ax.set_title(f"{family}: recommended size per body")
        if ax.collections:
            ax.legend(fontsize=7)
    images["scatter"] = _png(fig)
    return images


def _table(header: Sequence[str], body: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    lines = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in body
    )
    return f"<table><tr>{head}</tr>{lines}</table>"


def study_html(summary: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    """``study.html``: tables per garment and size, the chart checks, and three plots (PNG
    inline)."""
    images = _plots(summary, rows) if rows else {}
    parts = [
        f"<h1>Fit study</h1><p>{summary['jobs']['done']} of {summary['jobs']['total']} jobs done "
        f"({summary['jobs']['failed']} failed to drape, {summary['jobs']['skipped']} from an "
        "earlier run), "
        f"{len(summary['bodies'])} bodies, executor {html.escape(summary['executor'])}, "
        f"{summary['seconds']} s.</p>"
    ]
    for family, g in summary["garments"].items():
        parts.append(f"<h2>{html.escape(family)}</h2>")
        parts.append(
            _table(
                ["size", "bodies", *VERDICTS, "fails at", "ease p10/p50/p90 [cm]"],
                [
                    [
                        s,
                        v["bodies"],
                        *(f"{100 * v['share'][k]:.0f} %" for k in VERDICTS),
                        ", ".join(f"{w} {100 * x:.0f} %" for w, x in v["fails_at"].items()) or "-",
                        "/".join(
                            str(v["governing_ease_cm"].get(p, "-")) for p in ("p10", "p50", "p90")
                        ),
                    ]
                    for s, v in g["sizes"].items()
                ],
            )
        )
        nofit = g["no_size_fits"]
        parts.append(
            "<p>Recommended: "
            f"{html.escape(', '.join(f'{k} x{v}' for k, v in g['recommended'].items()))}. "
            f"No size fits {len(nofit['bodies'])} bodies ({100 * nofit['share']:.0f} %)"
            + (f": {html.escape(', '.join(nofit['bodies'][:20]))}" if nofit["bodies"] else "")
            + ".</p>"
        )
        parts.append(
            "<p>Overlaps (adjacent sizes both good): "
            + html.escape(
                ", ".join(
                    f"{o['sizes'][0]}/{o['sizes'][1]} {o['bodies_good_in_both']} bodies"
                    for o in g["overlaps"]
                )
                or "-"
            )
            + "</p>"
        )
        for chart, gr in g["grading"].items():
            what = "the file's own pattern" if chart == "pattern" else f"{chart} chart"
            parts.append(
                f"<p>Grading ({html.escape(what)}, {html.escape(str(gr['region']))}): steps "
                f"{html.escape(', '.join(f'{k} {v} cm' for k, v in gr['step_cm'].items()) or '-')}"
                "; "
                f"population {gr['population_mean_cm']} cm, sd {gr['population_sd_cm']} cm "
                f"({gr['bodies']} bodies); mean step / sd = {gr['mean_step_over_sd']}.</p>"
            )
        cd = g["chart_vs_drape"]
        if cd is None:
            parts.append(
                "<p>Size chart vs drape: n/a (a garment file's own sizes: no size chart, so no "
                "chart answer to set beside the drape's).</p>"
            )
            continue
        parts.append(
            f"<p>Size chart vs drape: agree for {cd['agree_share']} of the bodies whose chart size "
            f"was draped ({cd['chart_size_not_draped']} bodies' chart size was not); drape larger "
            f"{cd['drape_larger']}, smaller {cd['drape_smaller']}.</p>"
        )
        parts.append(
            _table(
                ["chart says", "drape says (count)"],
                [[c, ", ".join(f"{s} x{n}" for s, n in d.items())] for c, d in cd["table"].items()],
            )
        )
    for name, title in (
        ("coverage", "Fit coverage"),
        ("ease", "Ease distributions"),
        ("scatter", "Body shapes by recommended size"),
    ):
        if name in images:
            parts.append(
                f"<h2>{title}</h2><img alt='{title}' src='data:image/png;base64,{images[name]}'>"
            )
    style = (
        "body{font-family:sans-serif;max-width:70em;margin:2em auto}"
        "table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}img{max-width:100%}"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>tryon3d fit "
        f"study</title><style>{style}"
        f"</style></head><body>{''.join(parts)}</body></html>\n"
    )
