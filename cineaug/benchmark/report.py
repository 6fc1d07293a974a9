"""``render_report``: Markdown + self-contained HTML from ``results.jsonl`` and the saved artefacts alone.

Contents: Dice against training-set size per arm (mean ± sd over seeds), a table, a paired test
of each arm against the best baseline arm (over all pairs, then per size; per size over test
subjects too, where the runs recorded per-subject scores), a montage of example
predictions, the GIF of synthetic cycles, and the wall time.

The paired test is the Wilcoxon signed-rank test (two-sided, ``scipy.stats.wilcoxon``) on the mean
Dice over classes, pairing runs of the same training-set size and seed (same subjects, same
initial weights): it assumes no normality, which a handful of pairs cannot show.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # the object API: no pyplot, no backend switched at import
from scipy.stats import wilcoxon  # noqa: E402

from ..atomic import atomic_write_bytes  # noqa: E402
from ..viz import overlay_cycle  # noqa: E402
from .arms import ARMS, BASELINE_ARMS  # noqa: E402
from .volumes import PREFIX  # noqa: E402

CLASSES = ("rv", "myocardium", "lv")
Block = tuple[str, Any]  # ("h"|"p", text), ("table", (header, rows)), ("img", file name)


def read_results(out: str | os.PathLike) -> list[dict[str, Any]]:
    """The runs of ``out/results.jsonl`` (NaN restored for unscored values)."""
    rows = [json.loads(line) for line in (Path(out) / "results.jsonl").read_text().splitlines() if line]
    return [{k: v if k == "held_out" else _nan(v) for k, v in r.items()} for r in rows]


def headline_rows(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """The rows as the report reads them, and the unit of their scores.

    Where every run was scored per 3D volume (:mod:`.volumes`), ``dice_*``, ``hd95_*`` and
    ``*_by_subject`` are the per-volume values (the unit the challenges report) and the per-frame
    mean Dice moves to ``frame_dice_mean``; otherwise the rows are returned as they are, and where
    only some runs were scored per volume the unit says so (one report never mixes units).
    """
    scored = sum(f"{PREFIX}dice_mean" in r for r in rows)
    if not rows or scored < len(rows):
        lacking = f" ({len(rows) - scored} of {len(rows)} runs lack per-volume scores)" if scored else ""
        return rows, f"per frame{lacking}"
    remapped = [
        {
            **r,
            "frame_dice_mean": r["dice_mean"],
            **{k[len(PREFIX) :]: v for k, v in r.items() if k.startswith(PREFIX)},
        }
        for r in rows
    ]
    return remapped, "per 3D volume in the native grid"


def _nan(value: Any) -> Any:
    """None -> NaN, inside per-subject dicts too."""
    if isinstance(value, dict):
        return {k: _nan(v) for k, v in value.items()}
    return math.nan if value is None else value


def _arms(rows: list[dict[str, Any]]) -> list[str]:
    present = {r["arm"] for r in rows}
    return [a for a in ARMS if a in present] + sorted(present - set(ARMS))


def _stat(rows: list[dict[str, Any]], arm: str, size: int, key: str) -> tuple[float, float, int]:
    v = np.array([r[key] for r in rows if r["arm"] == arm and r["size"] == size], float)
    v = v[~np.isnan(v)]
    return (
        (float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0, len(v))
        if len(v)
        else (math.nan, 0.0, 0)
    )


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    keys = ["dice_mean"] + [f"dice_{c}" for c in CLASSES if any(not math.isnan(r[f"dice_{c}"]) for r in rows)]
    sizes = sorted({r["size"] for r in rows})
    arms = _arms(rows)
    colours = matplotlib.colormaps["tab20" if len(arms) > 10 else "tab10"]
    markers = "os^Dvp<>hX"
    fig = Figure(figsize=(4 * len(keys) + 2.2, 3.6))
    axes = fig.subplots(1, len(keys), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for i, arm in enumerate(arms):  # one colour and marker per arm; baselines dashed
            stats = [_stat(rows, arm, s, key) for s in sizes]
            mean, sd = np.array([m for m, _, _ in stats]), np.array([s for _, s, _ in stats])
            ax.errorbar(
                sizes,
                mean,
                yerr=sd,
                marker=markers[i % len(markers)],
                color=colours(i % colours.N),
                capsize=3,
                label=arm,
                ls="--" if arm in BASELINE_ARMS else "-",
            )
        ax.set(
            xscale="log", xticks=sizes, xlabel="training subjects", ylabel="Dice", title=key.replace("_", " ")
        )
        ax.set_xticklabels([str(s) for s in sizes])
        ax.minorticks_off()
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))  # beside, not on, the data
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = [
        "arm",
        "size",
        "runs",
        "Dice mean",
        *[f"Dice {c}" for c in CLASSES],
        "HD95 mean (mm)",
        "train s",
    ]
    per_frame = all("frame_dice_mean" in r for r in rows)
    if per_frame:
        header.insert(-1, "Dice mean per frame")
    body = []
    for arm in _arms(rows):
        for size in sorted({r["size"] for r in rows}):
            m, sd, n = _stat(rows, arm, size, "dice_mean")
            if n == 0:
                continue
            cells = [f"{_stat(rows, arm, size, f'dice_{c}')[0]:.3f}" for c in CLASSES]
            hd = _stat(rows, arm, size, "hd95_mean")
            secs = _stat(rows, arm, size, "train_seconds")[0]
            frame = [f"{_stat(rows, arm, size, 'frame_dice_mean')[0]:.3f}"] if per_frame else []
            body.append(
                [
                    arm,
                    str(size),
                    str(n),
                    f"{m:.3f} ± {sd:.3f}",
                    *cells,
                    f"{hd[0]:.2f} ± {hd[1]:.2f}",
                    *frame,
                    f"{secs:.0f}",
                ]
            )
    return header, body


def _best_baseline(rows: list[dict[str, Any]]) -> str | None:
    """The baseline arm with the highest mean Dice over all its runs (None without baseline runs)."""
    baselines = [a for a in _arms(rows) if a in BASELINE_ARMS]
    if not baselines:
        return None
    return max(baselines, key=lambda a: np.nanmean([r["dice_mean"] for r in rows if r["arm"] == a]))


def paired_tests(rows: list[dict[str, Any]]) -> tuple[str | None, list[list[str]]]:
    """Each non-best arm against the best baseline arm (highest mean Dice), over matched size x seed pairs.

    Returns:
        The reference arm (None without baseline runs) and rows ``[arm, pairs, mean difference, p]``.
    """
    by_run = {(r["arm"], r["size"], r["seed"]): r["dice_mean"] for r in rows}
    best = _best_baseline(rows)
    if best is None:
        return None, []
    out = []
    for arm in _arms(rows):
        if arm == best:
            continue
        pairs = [
            (v, by_run[(best, s, k)])
            for (a, s, k), v in by_run.items()
            if a == arm and (best, s, k) in by_run
        ]
        diff = np.array([a - b for a, b in pairs if not (math.isnan(a) or math.isnan(b))])
        p = float(wilcoxon(diff).pvalue) if len(diff) and np.any(diff != 0) else math.nan
        mean = f"{diff.mean():+.3f}" if len(diff) else "n/a"
        out.append([arm, str(len(diff)), mean, "n/a" if math.isnan(p) else f"{p:.3g}"])
    return best, out


def paired_by_size(rows: list[dict[str, Any]]) -> tuple[str | None, list[list[str]]]:
    """Each other arm minus the best baseline arm, per training size, over matched seeds.

    Returns:
        The reference arm (None without baseline runs) and rows
        ``[arm, size, pairs, mean Dice difference, wins, mean HD95 difference]``.
    """
    best = _best_baseline(rows)
    if best is None:
        return None, []
    by_run = {(r["arm"], r["size"], r["seed"]): r for r in rows}
    out = []
    for arm in _arms(rows):
        if arm == best:
            continue
        for size in sorted({r["size"] for r in rows}):
            pairs = [
                (r, by_run[(best, size, seed)])
                for (a, s, seed), r in by_run.items()
                if a == arm and s == size and (best, size, seed) in by_run
            ]
            dice = np.array([a["dice_mean"] - b["dice_mean"] for a, b in pairs], float)
            hd = np.array([a["hd95_mean"] - b["hd95_mean"] for a, b in pairs], float)
            dice, hd = dice[~np.isnan(dice)], hd[~np.isnan(hd)]
            if len(dice):
                out.append(
                    [
                        arm,
                        str(size),
                        str(len(dice)),
                        f"{dice.mean():+.3f}",
                        f"{int((dice > 0).sum())}/{len(dice)}",
                        f"{hd.mean():+.2f}" if len(hd) else "n/a",
                    ]
                )
    return best, out


def paired_by_subject(
    rows: list[dict[str, Any]], per_seed: bool = False
) -> tuple[str | None, list[list[str]]]:
    """Each other arm minus the best baseline arm, per training size, paired over test subjects.

    Per size, the seeds both arms ran (with per-subject scores) are matched; each test subject's Dice
    and HD95 are averaged over those seeds for either arm, and the Wilcoxon signed-rank test runs on
    the subjects' differences. The unit is the test patient, as in most segmentation papers; the
    seed-paired tables above carry the variance of drawing the training patients.

    Args:
        rows: result rows (:func:`read_results`).
        per_seed: one row per (size, seed), each run's test on its own, instead of one per size.

    Returns:
        The reference arm (None without baseline runs) and rows ``[arm, size, seeds, subjects,
        mean Dice difference, subjects won, p, mean HD95 difference]``; ``seeds`` is how many seeds
        were pooled, or with ``per_seed`` the seed itself.
    """
    best = _best_baseline(rows)
    if best is None:
        return None, []
    by_run = {(r["arm"], r["size"], r["seed"]): r for r in rows if r.get("dice_by_subject")}
    out = []
    for arm in _arms(rows):
        for size in sorted({r["size"] for r in rows}) if arm != best else ():
            seeds = sorted(k for (a, s, k) in by_run if a == arm and s == size and (best, size, k) in by_run)
            for group in [[k] for k in seeds] if per_seed else [seeds]:  # no seeds: no subjects, no row
                row = _paired_subjects(by_run, arm, best, size, group)
                if row is not None:
                    out.append([arm, str(size), str(group[0] if per_seed else len(group)), *row])
    return best, out


def _paired_subjects(
    by_run: dict[tuple[str, int, int], dict[str, Any]], arm: str, best: str, size: int, seeds: list[int]
) -> list[str] | None:
    """``[subjects, mean Dice difference, subjects won, p, mean HD95 difference]`` of ``arm`` minus
    ``best`` at ``size``, each subject's scores averaged over ``seeds``; None without subjects."""
    diffs: dict[str, dict[str, list[float]]] = {"dice": {}, "hd95": {}}
    for metric in diffs:
        for seed in seeds:
            mine = by_run[(arm, size, seed)][f"{metric}_by_subject"]
            theirs = by_run[(best, size, seed)][f"{metric}_by_subject"]
            for subject in mine.keys() & theirs.keys():
                diffs[metric].setdefault(subject, []).append(mine[subject] - theirs[subject])
    dice, hd = (np.array([_mean(diffs[m].get(s, [])) for s in sorted(diffs["dice"])]) for m in diffs)
    dice, hd = dice[~np.isnan(dice)], hd[~np.isnan(dice) & ~np.isnan(hd)]  # HD95: the same subjects
    if not len(dice):
        return None
    p = float(wilcoxon(dice).pvalue) if np.any(dice != 0) else math.nan
    return [
        str(len(dice)),
        f"{dice.mean():+.3f}",
        f"{int((dice > 0).sum())}/{len(dice)}",
        "n/a" if math.isnan(p) else f"{p:.3g}",
        f"{hd.mean():+.2f}" if len(hd) else "n/a",
    ]


def _mean(values: list[float]) -> float:
    """Mean of the non-NaN values; NaN (without a warning) when there is none."""
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    return float(v.mean()) if len(v) else math.nan


def merge_results(out: str | os.PathLike, sources: Sequence[str | os.PathLike]) -> Path:
    """Gather the runs of several benchmark folders (e.g. one per worker) into ``out/results.jsonl``.

    Runs are keyed by (arm, size, seed); the first folder that holds a run wins. ``benchmark.json``
    is taken from the first folder that has one, with the union of arms and seeds.

    Raises:
        FileNotFoundError: a source without ``results.jsonl``.
        ValueError: the sources disagree on the training length (``steps``), the protocol, the
            ``augment`` or the ``precision``.
    """
    out = Path(out)
    runs: dict[tuple[str, int, int], str] = {}
    meta: dict[str, Any] = {}
    for source in map(Path, sources):
        path = source / "results.jsonl"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no results to merge")
        for line in path.read_text().splitlines():
            if line:
                row = json.loads(line)
                runs.setdefault((row["arm"], row["size"], row["seed"]), line)
        if not meta and (source / "benchmark.json").is_file():
            meta = json.loads((source / "benchmark.json").read_text())
    rows = [json.loads(line) for line in runs.values()]
    steps = {row["steps"] for row in rows}
    if len(steps) > 1:
        raise ValueError(f"the folders were trained for different numbers of steps: {sorted(steps)}")
    for key, default in (("protocol", None), ("augment", "per-sample"), ("precision", "fp32")):
        values = {row.get(key, default) for row in rows} - {None}  # rows from before the key: its default
        if len(values) > 1:
            raise ValueError(f"the folders ran under different {key}s: {sorted(values)}; merge one at a time")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "results.jsonl", "".join(line + "\n" for line in runs.values()).encode())
    if meta:
        meta["arms"] = list(dict.fromkeys(arm for arm, _, _ in runs))
        meta["seeds"] = sorted({seed for _, _, seed in runs})
        meta["sizes"] = sorted({size for _, size, _ in runs})
        meta["merged_from"] = [str(s) for s in sources]
        meta.pop("wall_seconds", None)  # one folder's wall time is not the merged runs
        atomic_write_bytes(out / "benchmark.json", (json.dumps(meta, indent=2) + "\n").encode())
    return out


def _montage(out: Path, rows: list[dict[str, Any]], path: Path) -> bool:
    size, seed = max(r["size"] for r in rows), min(r["seed"] for r in rows)
    files = [(a, out / "predictions" / f"{a}-n{size}-s{seed}.npz") for a in _arms(rows)]
    files = [(a, f) for a, f in files if f.is_file()]
    if not files:
        return False
    first = np.load(files[0][1])
    image = first["image"].astype(np.float32)  # [K,H,W]
    columns = [("image", overlay_cycle(image)), ("truth", overlay_cycle(image, first["truth"]))]
    columns += [(a, overlay_cycle(image, np.load(f)["pred"])) for a, f in files]
    k = len(image)
    fig = Figure(figsize=(1.6 * len(columns), 1.6 * k + 0.4))
    axes = fig.subplots(k, len(columns), squeeze=False)
    for j, (title, clip) in enumerate(columns):
        for i in range(k):
            axes[i][j].imshow(clip[i])
            axes[i][j].axis("off")
        axes[0][j].set_title(title, fontsize=7)
    fig.suptitle(f"test frames, {size} training subjects, seed {seed}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def _markdown(blocks: list[Block]) -> str:
    parts = []
    for kind, value in blocks:
        if kind == "h":
            parts.append(f"## {value}")
        elif kind == "p":
            parts.append(value)
        elif kind == "img":
            parts.append(f"![{value}]({value})")
        else:
            header, body = value
            lines = [header, ["---"] * len(header), *body]
            parts.append("\n".join("| " + " | ".join(cells) + " |" for cells in lines))
    return "# Segmentation benchmark\n\n" + "\n\n".join(parts) + "\n"


def _html(blocks: list[Block], out: Path) -> str:
    parts = []
    for kind, value in blocks:
        if kind == "h":
            parts.append(f"<h2>{html.escape(value)}</h2>")
        elif kind == "p":
            parts.append(f"<p>{html.escape(value)}</p>")
        elif kind == "img":
            mime = "image/gif" if value.endswith(".gif") else "image/png"
            data = base64.b64encode((out / value).read_bytes()).decode()
            parts.append(f'<img alt="{value}" src="data:{mime};base64,{data}">')
        else:
            header, body = value
            head = "".join(f"<th>{html.escape(c)}</th>" for c in header)
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in body)
            parts.append(f"<table><tr>{head}</tr>{rows}</table>")
    style = "body{font-family:sans-serif;max-width:1100px;margin:auto}"
    style += "td,th{padding:2px 8px;border:1px solid #ccc}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>cineaug benchmark</title>"
        f"<style>{style}</style></head><body><h1>Segmentation benchmark</h1>{''.join(parts)}</body></html>\n"
    )


def render_report(out: str | os.PathLike) -> Path:
    """Write ``report.md`` and ``report.html`` (images embedded) into ``out`` from its saved results.

    Reads ``results.jsonl`` and, when present, ``benchmark.json``, ``predictions/*.npz`` and
    ``synthetic_cycles.gif``; writes ``dice_vs_size.png`` and ``predictions.png``.

    Returns:
        The path of ``report.md``.
    """
    start = time.perf_counter()
    out = Path(out)
    rows = read_results(out)
    if not rows:
        raise ValueError(f"{out / 'results.jsonl'} holds no runs")
    rows, unit = headline_rows(rows)
    meta_path = out / "benchmark.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    blocks: list[Block] = [("h", "Setup")]
    if meta:
        proto = meta["protocol"]
        blocks.append(
            (
                "p",
                f"Training data {meta['train_data']}; test: {meta['test_data'] or meta['test_split']}. "
                f"Protocol {proto.get('name', 'quick')}: {proto.get('size', 64)} px crops, "
                f"MONAI 2D {'DynUNet' if proto.get('network') == 'dynunet' else 'UNet'} "
                f"{tuple(proto['channels'])} on frames, DiceCE loss (unannotated classes folded into "
                f"background), {'SGD (Nesterov 0.99)' if proto.get('optimizer') == 'sgd' else 'AdamW'} "
                f"lr {proto['lr']} with polynomial decay, "
                f"{proto['steps']} steps of {proto['batch_size']} frames"
                + "".join(
                    f" ({p} autocast)" for p in sorted({r.get("precision", "fp32") for r in rows} - {"fp32"})
                )
                + ", "
                + (
                    f"at most {proto['max_test_frames']} scored test frames. "
                    if proto.get("max_test_frames")
                    else "every exactly labelled test frame scored. "
                )
                + f"Generator: {meta['generator'] or 'none'}"
                + (f"; bank: {meta['bank']}" if meta.get("bank") else "")
                + (f"; simulator bank: {meta['sim_bank']}" if meta.get("sim_bank") else "")
                + "."
                + (
                    f" Skipped (no generator): {', '.join(meta['skipped_arms'])}."
                    if meta["skipped_arms"]
                    else ""
                ),
            )
        )
    described = meta.get("arm_descriptions", {})
    if described:
        arms = [a for a in _arms(rows) if a in described]
        blocks.append(("table", (["arm", "what it measures"], [[a, described[a]] for a in arms])))
    train_total = sum(r["train_seconds"] for r in rows)
    wall = (
        f"{meta['wall_seconds']:.0f} s in all"
        if meta.get("wall_seconds") is not None
        else "wall time not recorded (merged or unfinished)"
    )
    blocks.append(
        ("p", f"{len(rows)} runs; benchmark wall time {wall}, of which training {train_total:.0f} s.")
    )
    _plot(rows, out / "dice_vs_size.png")
    blocks += [("p", f"Dice and HD95 are scored {unit}.")]
    blocks += [("h", "Dice against training-set size (mean ± sd over seeds)"), ("img", "dice_vs_size.png")]
    blocks += [("h", "Results"), ("table", _table(rows))]
    best, tests = paired_tests(rows)
    if best is not None:
        blocks += [
            ("h", f"Paired test against the best baseline ({best})"),
            (
                "p",
                "Wilcoxon signed-rank, two-sided, on mean Dice over classes, pairs matched on size and seed "
                "(same subjects, same initial weights). With fewer than 6 pairs no p can fall below 0.05.",
            ),
            ("table", (["arm", "pairs", f"mean Dice - {best}", "p"], tests)),
            ("h", f"Per training size, against {best}"),
            (
                "p",
                "Mean difference over the seeds of a size (Dice: higher is better; HD95: lower is better), "
                "and how many seeds the arm won.",
            ),
            (
                "table",
                (
                    ["arm", "size", "pairs", f"Dice - {best}", "wins", f"HD95 - {best} (mm)"],
                    paired_by_size(rows)[1],
                ),
            ),
        ]
    by_subject = paired_by_subject(rows)[1]
    if best is not None and by_subject:
        header = ["arm", "size", "seeds", "subjects", f"Dice - {best}", "subjects won", "p"]
        header.append(f"HD95 - {best} (mm)")
        blocks += [
            ("h", f"Per training size, paired over test subjects, against {best}"),
            (
                "p",
                "Each test subject's mean Dice (and HD95) averaged over the seeds both arms ran; Wilcoxon "
                "signed-rank, two-sided, over the subjects' differences. The unit is the test patient: "
                "it does not carry the variance of drawing the training patients, which the seed-paired "
                "tables above do.",
            ),
            ("table", (header, by_subject)),
        ]
        if any(row[2] != "1" for row in by_subject):  # some size pools several seeds: each on its own
            blocks += [
                ("h", f"Per run, paired over test subjects, against {best}"),
                ("p", "As above, one seed at a time: each run's own test over the test subjects."),
                ("table", (["arm", "size", "seed", *header[3:]], paired_by_subject(rows, per_seed=True)[1])),
            ]
    if _montage(out, rows, out / "predictions.png"):
        blocks += [("h", "Example predictions (contours)"), ("img", "predictions.png")]
    if (out / "synthetic_cycles.gif").is_file():
        blocks += [("h", "Synthetic cycles used"), ("img", "synthetic_cycles.gif")]
    blocks.append(("p", f"Report rendered in {time.perf_counter() - start:.1f} s."))
    atomic_write_bytes(out / "report.html", _html(blocks, out).encode())
    atomic_write_bytes(out / "report.md", _markdown(blocks).encode())
    print(f"report: {out / 'report.md'} ({wall}; rendered in {time.perf_counter() - start:.1f} s)")
    return out / "report.md"
