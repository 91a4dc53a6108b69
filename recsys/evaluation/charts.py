"""PNG charts of the results (matplotlib, Agg back end: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLOURS = {
    "live": "#1f77b4",
    "live_immediate": "#9edae5",
    "static": "#ff7f0e",
    "popularity": "#2ca02c",
    "random": "#7f7f7f",
    "engine": "#1f77b4",
    "als": "#d62728",
}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # before pyplot: the evaluation runs headless
    import matplotlib.pyplot as plt

    return plt


def skip_by_position(live: dict[str, Any], path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for policy, stats in live["policies"].items():
        ys = stats["skip_by_position"]
        xs = [i + 1 for i, y in enumerate(ys) if y is not None]
        ax.plot(
            xs,
            [y for y in ys if y is not None],
            marker="o" if policy == "live" else None,
            markersize=3,
            linewidth=2.2 if policy == "live" else 1.4,
            linestyle="--" if policy == "live_immediate" else "-",
            color=COLOURS.get(policy),
            label=f"{policy} ({stats['skip_rate']:.0%} overall)",
        )
    ax.set_xlabel("position in the session")
    ax.set_ylabel("skip rate")
    ax.set_ylim(0, 1)
    ax.set_title(f"Skip rate by position ({live['listeners']} simulated listeners)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def mood_precision(moods: dict[str, Any], path: Path) -> Path:
    plt = _pyplot()
    rows = moods["moods"]
    methods = ("engine", "popularity", "random")
    fig, ax = plt.subplots(figsize=(max(8, 0.45 * len(rows) + 2), 4.8))
    width = 0.8 / len(methods)
    for j, method in enumerate(methods):
        ax.bar(
            [i + (j - 1) * width for i in range(len(rows))],
            [r[method]["p20"] for r in rows],
            width,
            label=method,
            color=COLOURS[method],
        )
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r["mood"] for r in rows], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("precision@20")
    ax.set_title("Mood quality: tracks by artists listeners tagged with the mood")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def lastfm_ndcg(lastfm: dict[str, Any], path: Path) -> Path:
    plt = _pyplot()
    methods = ("engine", "popularity", "als")
    fig, ax = plt.subplots(figsize=(6, 4))
    values = [lastfm[m]["ndcg10"] for m in methods]
    bars = ax.bar(methods, values, color=[COLOURS[m] for m in methods])
    for bar, value in zip(bars, values, strict=True):
        ax.annotate(f"{value:.3f}", (bar.get_x() + bar.get_width() / 2, value), ha="center", va="bottom")
    ax.set_ylabel("nDCG@10 (artists)")
    ax.set_title(f"Last.fm held-out artists ({lastfm['users']} users)")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_charts(results: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if "live" in results:
        written.append(skip_by_position(results["live"], out / "skip_by_position.png"))
    if "moods" in results and results["moods"]["moods"]:
        written.append(mood_precision(results["moods"], out / "mood_p20.png"))
    if "lastfm" in results and results["lastfm"]["users"]:
        written.append(lastfm_ndcg(results["lastfm"], out / "lastfm_ndcg10.png"))
    return written
