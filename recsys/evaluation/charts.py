"""PNG charts of the results (matplotlib, Agg back end: no display needed).

Every series has its own colour *and* its own line style or hatch, so the charts still
read in grey scale; the engine is always blue and drawn first, the baselines after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLOURS = {
    "live": "#1f77b4",
    "live_immediate": "#17becf",
    "static": "#ff7f0e",
    "popularity": "#2ca02c",
    "random": "#7f7f7f",
    "engine": "#1f77b4",
    "als": "#d62728",
}
LINES = {"live": "-", "live_immediate": (0, (1, 1)), "static": "--", "popularity": "-.", "random": ":"}
MARKERS = {"live": "o", "live_immediate": None, "static": "s", "popularity": "^", "random": None}
HATCHES = {"engine": "", "live": "", "static": "//", "popularity": "..", "random": "xx", "als": "\\\\"}
LABELS = {
    "live": "live (re-ranked on feedback)",
    "live_immediate": "live, no skip lag (what-if)",
    "static": "static mood queue",
    "popularity": "popularity (mood pool)",
    "random": "random",
}
DPI = 110


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # before pyplot: the evaluation runs headless
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def skip_by_position(live: dict[str, Any], path: Path) -> Path:
    """Left: skip rate at each position; right: running skip rate over positions 1..n."""
    plt = _pyplot()
    fig, (raw, running) = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    for policy, stats in live["policies"].items():
        points = [(i + 1, y) for i, y in enumerate(stats["skip_by_position"]) if y is not None]
        if not points:
            continue
        xs = [x for x, _ in points]
        ys = [y for _, y in points]
        style = {
            "color": COLOURS.get(policy),
            "linestyle": LINES.get(policy, "-"),
            "linewidth": 2.4 if policy == "live" else 1.5,
            "zorder": 3 if policy == "live" else 2,
        }
        raw.plot(xs, ys, marker=MARKERS.get(policy), markersize=3.5, **style)
        total = 0.0
        cumulative = []
        for n, y in enumerate(ys, start=1):
            total += y
            cumulative.append(total / n)
        label = f"{LABELS.get(policy, policy)}: {stats['skip_rate']:.1%} overall"
        running.plot(xs, cumulative, label=label, **style)
    raw.set_title("Skip rate at each position")
    raw.set_xlabel("position in the 30-track session")
    raw.set_ylabel("share of listeners who skipped")
    running.set_title("Running skip rate (positions 1..n)")
    running.set_xlabel("tracks played so far (n)")
    for ax in (raw, running):
        ax.set_ylim(0, 1)
        ax.set_xlim(0.5, live["length"] + 0.5)
        ax.grid(alpha=0.3)
    running.legend(fontsize=8, loc="lower right")
    fig.suptitle(
        f"Live re-ranking vs. baselines: {live['listeners']} simulated HetRec listeners (lower is better)"
    )
    return _save(plt, fig, path)


def live_summary(live: dict[str, Any], path: Path) -> Path:
    """Overall skip rate (with a 95% interval over listeners) and tracks until 3 in a row."""
    plt = _pyplot()
    policies = list(live["policies"])
    stats = [live["policies"][p] for p in policies]
    fig, (skip, streak) = plt.subplots(1, 2, figsize=(11, 4.4))
    names = [LABELS.get(p, p).split(" (")[0] for p in policies]
    xs = range(len(policies))
    rates = [s["skip_rate"] for s in stats]
    errors = None
    if all("skip_rate_ci95" in s for s in stats):
        errors = [
            [r - s["skip_rate_ci95"][0] for r, s in zip(rates, stats, strict=True)],
            [s["skip_rate_ci95"][1] - r for r, s in zip(rates, stats, strict=True)],
        ]
    for ax, values, label, fmt in (
        (skip, rates, "skip rate over the session", "{:.1%}"),
        (streak, [s["tracks_to_3_likes"] for s in stats], "tracks until 3 kept in a row", "{:.1f}"),
    ):
        bars = ax.bar(
            xs,
            values,
            color=[COLOURS.get(p) for p in policies],
            hatch=None,
            edgecolor="black",
            linewidth=0.6,
            yerr=errors if ax is skip else None,
            capsize=4,
        )
        for bar, policy in zip(bars, policies, strict=True):
            bar.set_hatch(HATCHES.get(policy, ""))
        above = errors[1] if errors is not None and ax is skip else [0.0] * len(values)
        for bar, value, extra in zip(bars, values, above, strict=True):
            ax.annotate(
                fmt.format(value),
                (bar.get_x() + bar.get_width() / 2, value + extra),  # above the interval
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ax.set_xticks(list(xs))
        ax.set_xticklabels(names, rotation=20, ha="right", fontsize=8)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    skip.set_ylim(0, 1)
    skip.set_title("Skip rate (95% interval over listeners)")
    streak.set_ylim(0, live["length"] + 2)
    streak.axhline(live["length"] + 1, color="black", linewidth=0.8, linestyle=":")
    streak.set_title(f"Tracks until 3 in a row ({live['length'] + 1} = never)")
    fig.suptitle(f"Live sessions, {live['listeners']} simulated listeners (lower is better)")
    return _save(plt, fig, path)


def mood_precision(moods: dict[str, Any], path: Path) -> Path:
    """Per-mood precision@20 (any-tagger reading) and the means under both readings."""
    plt = _pyplot()
    rows = moods["moods"]
    methods = ("engine", "popularity", "random")
    fig, (per_mood, means) = plt.subplots(
        1,
        2,
        figsize=(max(10, 0.45 * len(rows) + 5), 5.2),
        gridspec_kw={"width_ratios": [max(len(rows), 1), 5]},
    )
    width = 0.8 / len(methods)
    for j, method in enumerate(methods):
        per_mood.bar(
            [i + (j - 1) * width for i in range(len(rows))],
            [r[method]["p20"] for r in rows],
            width,
            label=method,
            color=COLOURS[method],
            hatch=HATCHES[method],
            edgecolor="black",
            linewidth=0.4,
        )
    per_mood.plot(
        range(len(rows)),
        [r["base_rate"] for r in rows],
        linestyle="none",
        marker="_",
        markersize=12,
        color="black",
        label="base rate (share of relevant tracks)",
    )
    per_mood.set_xticks(range(len(rows)))
    per_mood.set_xticklabels([r["mood"] for r in rows], rotation=60, ha="right", fontsize=8)
    per_mood.set_ylabel("precision@20")
    per_mood.set_ylim(0, 1.22)
    per_mood.set_title("Per mood: artist tagged with the mood by any listener")
    per_mood.grid(axis="y", alpha=0.3)
    per_mood.legend(fontsize=8, loc="upper left", ncol=4)

    m = moods["mean"]
    readings = (("any tagger", m), ("top-10 tag", m["strict"]))
    for j, method in enumerate(methods):
        values = [part[method]["p20"] for _, part in readings]
        bars = means.bar(
            [i + (j - 1) * width for i in range(len(readings))],
            values,
            width,
            color=COLOURS[method],
            hatch=HATCHES[method],
            edgecolor="black",
            linewidth=0.4,
        )
        for bar, value in zip(bars, values, strict=True):
            means.annotate(
                f"{value:.2f}",
                (bar.get_x() + bar.get_width() / 2, value),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                fontsize=7,
            )
    means.set_xticks(range(len(readings)))
    means.set_xticklabels([name for name, _ in readings], fontsize=8)
    means.set_ylim(0, 1.22)
    means.set_title("Mean over moods", fontsize=10)
    means.grid(axis="y", alpha=0.3)
    fig.suptitle(
        f"Mood quality: precision@{moods['k']} of the mood's list (mood words removed from track text)"
    )
    return _save(plt, fig, path)


def lastfm_ndcg(lastfm: dict[str, Any], path: Path) -> Path:
    plt = _pyplot()
    methods = ("engine", "popularity", "als")
    metrics = (("p10", "P@10"), ("r10", "R@10"), ("ndcg10", "nDCG@10"))
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    width = 0.8 / len(methods)
    for j, method in enumerate(methods):
        values = [lastfm[method][key] for key, _ in metrics]
        bars = ax.bar(
            [i + (j - 1) * width for i in range(len(metrics))],
            values,
            width,
            label={"als": "implicit ALS", "engine": "engine (session profile)"}.get(method, method),
            color=COLOURS[method],
            hatch=HATCHES[method],
            edgecolor="black",
            linewidth=0.4,
        )
        for bar, value in zip(bars, values, strict=True):
            ax.annotate(
                f"{value:.3f}",
                (bar.get_x() + bar.get_width() / 2, value),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                fontsize=7,
            )
    ax.set_xticks(range(len(metrics)))
    ax.set_xticklabels([name for _, name in metrics])
    ax.set_ylabel("score (held-out artists, higher is better)")
    ax.set_title(f"Last.fm 80/20 split: top-10 artists for {lastfm['users']} users")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def write_charts(results: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if "live" in results:
        written.append(skip_by_position(results["live"], out / "skip_by_position.png"))
        written.append(live_summary(results["live"], out / "live_summary.png"))
    if "moods" in results and results["moods"]["moods"]:
        written.append(mood_precision(results["moods"], out / "mood_p20.png"))
    if "lastfm" in results and results["lastfm"]["users"]:
        written.append(lastfm_ndcg(results["lastfm"], out / "lastfm_ndcg10.png"))
    if results.get("groups") and results["groups"]["policies"]:
        written.append(groups_keep(results["groups"], out / "groups_keep.png"))
    return written


def groups_keep(groups: dict[str, Any], path: Path) -> Path:
    """Listening together: mean and least-satisfied member's keep rate per queue."""
    plt = _pyplot()
    policies = list(groups["policies"])
    fig, ax = plt.subplots(figsize=(7, 4.2))
    width = 0.38
    for i, (key, label, hatch) in enumerate((("keep_rate", "mean member", ""),
                                             ("least_keep_rate", "least-satisfied member", "//"))):
        xs = [p + (i - 0.5) * width for p in range(len(policies))]
        ax.bar(xs, [groups["policies"][p][key] for p in policies], width, label=label, hatch=hatch,
               color=["#1f77b4", "#ff7f0e", "#2ca02c"][: len(policies)], edgecolor="black")
    ax.set_xticks(range(len(policies)), [{"ours": "ours (fair, tastes)", "host": "host's taste",
                                          "average": "average taste"}.get(p, p) for p in policies])
    ax.set_ylabel("keep rate")
    ax.set_title(f"Listening together: {groups['groups']} groups of 3-5, {groups['length']} tracks")
    ax.legend()
    return _save(plt, fig, path)
