"""The results as a terminal table, a JSON file and ``BENCH <name> <value> <unit>`` lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from recsys.evaluation.groups import bench_rows as groups_bench
from recsys.evaluation.groups import table_lines as groups_table


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(results: dict[str, Any]) -> str:
    lines: list[str] = []
    cat = results["catalog"]
    lines.append(
        f"Catalog: {cat['tracks']:,} tracks by {cat['artists']:,} Last.fm-matched artists "
        f"(of {cat['csv_rows']:,} CSV rows); {cat['hetrec_users']:,} HetRec users"
    )
    live = results.get("live")
    if live:
        lines.append("")
        lines.append(
            f"1. Live re-ranking: {live['listeners']} simulated listeners (of {live['eligible']} eligible), "
            f"{live['length']} tracks each, from the preset closest to their tags"
        )
        lines.append(
            f"{'policy':<16}{'skip':>7}{'skip 1-5':>10}{'skip last10':>13}{'to 3 in a row':>15}"
            f"{'reached':>9}{'skips first':>13}{'hidden artists':>16}{'likes':>7}"
        )
        for policy, s in live["policies"].items():
            lines.append(
                f"{policy:<16}{_f(s['skip_rate']):>7}{_f(s['skip_rate_first5']):>10}"
                f"{_f(s['skip_rate_last10']):>13}{_f(s['tracks_to_3_likes'], 1):>15}"
                f"{s['reached_3_likes']:>9.0%}{_f(s['skips_to_3_likes'], 1):>13}"
                f"{s['hidden_reached']:>16.1%}{_f(s['like_rate']):>7}"
            )
        diffs = [
            f"{policy} {s['vs_live']['skip_rate_diff']:+.3f} [{s['vs_live']['ci95'][0]:+.3f}, "
            f"{s['vs_live']['ci95'][1]:+.3f}]"
            for policy, s in live["policies"].items()
            if "vs_live" in s
        ]
        lines.append("skip rate minus live's, per listener (95% interval): " + "; ".join(diffs))
    moods = results.get("moods")
    if moods:
        lines.append("")
        lines.append(
            f"2. Mood quality: precision@{moods['k']} / nDCG@{moods['k']}, "
            "mood words removed from the index text"
        )
        lines.append(
            f"{'mood':<24}{'artists':>8}{'base':>7}{'engine p':>10}{'ndcg':>7}{'popular p':>11}{'ndcg':>7}"
            f"{'random p':>10}"
        )
        for r in moods["moods"]:
            lines.append(
                f"{r['mood']:<24}{r['relevant_artists']:>8}{_f(r['base_rate']):>7}{_f(r['engine']['p20']):>10}"
                f"{_f(r['engine']['ndcg20']):>7}{_f(r['popularity']['p20']):>11}{_f(r['popularity']['ndcg20']):>7}"
                f"{_f(r['random']['p20']):>10}"
            )
        m = moods["mean"]
        lines.append(
            f"{'mean (any tagger)':<24}{'':>15}{_f(m['engine']['p20']):>10}{_f(m['engine']['ndcg20']):>7}"
            f"{_f(m['popularity']['p20']):>11}{_f(m['popularity']['ndcg20']):>7}{_f(m['random']['p20']):>10}"
        )
        st = m["strict"]
        lines.append(
            f"{'mean (top-10 tag)':<24}{st['moods']:>8}{'':>7}{_f(st['engine']['p20']):>10}"
            f"{_f(st['engine']['ndcg20']):>7}{_f(st['popularity']['p20']):>11}"
            f"{_f(st['popularity']['ndcg20']):>7}{_f(st['random']['p20']):>10}"
        )
        for key, what in (("names", "evaluated moods"), ("name_probes", "title-word probes")):
            if key in moods:
                n = moods[key]
                led = [r["mood"] for r in n["moods"] if r["led"]]
                lines.append(
                    f"name-only matches ({what}): {n['name_only_share']:.1%} of top-{moods['k']} slots; "
                    f"led by names: {len(led)} of {len(n['moods'])}" + (f" ({', '.join(led)})" if led else "")
                )
        if moods["skipped"]:
            names = ", ".join(f"{s['mood']} ({s['relevant_artists']})" for s in moods["skipped"])
            lines.append(f"left out (fewer than 10 tagged artists in the catalog): {names}")
    hist = results.get("lastfm")
    if hist:
        lines.append("")
        lines.append(
            f"3. Last.fm histories: {hist['users']} users (of {hist['eligible_users']} eligible), "
            f"20% of their catalog artists held out, {hist['artists']:,} artists"
        )
        lines.append(f"{'method':<12}{'P@10':>8}{'R@10':>8}{'nDCG@10':>9}")
        for method in ("engine", "popularity", "als"):
            s = hist[method]
            lines.append(f"{method:<12}{_f(s['p10']):>8}{_f(s['r10']):>8}{_f(s['ndcg10']):>9}")
    back = results.get("returning")
    if back:
        lines.append("")
        lines.append(
            f"4. Returning listeners: {back['listeners']} listeners, their visible half imported as "
            "history, then the same mood's session"
        )
        ratio = back["ratio_first5"]
        lines.append(
            f"skip rate first {back['first']}: returning {_f(back['skip_rate_first5'])}, "
            f"new {_f(back['skip_rate_first5_new'])} (ratio {_f(ratio)}); whole session: returning "
            f"{_f(back['skip_rate'])}, new {_f(back['skip_rate_new'])}"
        )
    together = results.get("groups")
    if together and together["policies"]:
        lines += ["", *groups_table(together)]
    collab = results.get("collab")
    if collab:
        lines.append("")
        lines.append(
            f"collab model {collab['version']}: {collab['rows']:,} artist-level rows of "
            f"{collab['users']:,} users (training parts; {collab['excluded_listeners']} simulated "
            "listeners left out)"
        )
    seconds = results.get("seconds", {})
    if seconds:
        lines.append("")
        lines.append("time (s): " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()))
    return "\n".join(lines)


def bench(results: dict[str, Any]) -> list[tuple[str, float, str]]:
    """The headline figures; only for the parts that ran."""
    out: list[tuple[str, float, str]] = []
    live = results.get("live")
    if live:
        p = live["policies"]
        out += [
            ("live_skip_rate", p["live"]["skip_rate"], "ratio"),
            ("live_skip_rate_static", p["static"]["skip_rate"], "ratio"),
            ("live_skip_rate_popularity", p["popularity"]["skip_rate"], "ratio"),
            ("live_skip_rate_random", p["random"]["skip_rate"], "ratio"),
            ("live_skip_rate_first5", p["live"]["skip_rate_first5"], "ratio"),
            ("live_skip_rate_last10", p["live"]["skip_rate_last10"], "ratio"),
            ("live_tracks_to_3_likes", p["live"]["tracks_to_3_likes"], "tracks"),
            ("live_tracks_to_3_likes_static", p["static"]["tracks_to_3_likes"], "tracks"),
            ("live_hidden_reached", p["live"]["hidden_reached"], "ratio"),
            ("live_hidden_reached_static", p["static"]["hidden_reached"], "ratio"),
            ("live_listeners", float(live["listeners"]), "users"),
        ]
        if "live_immediate" in p:
            out.append(("live_skip_rate_immediate", p["live_immediate"]["skip_rate"], "ratio"))
    moods = results.get("moods")
    if moods:
        m = moods["mean"]
        out += [
            ("mood_p20", m["engine"]["p20"], "ratio"),
            ("mood_p20_random", m["random"]["p20"], "ratio"),
            ("mood_p20_popularity", m["popularity"]["p20"], "ratio"),
            ("mood_ndcg20", m["engine"]["ndcg20"], "ratio"),
            ("mood_p20_strict", m["strict"]["engine"]["p20"], "ratio"),
            ("mood_p20_strict_random", m["strict"]["random"]["p20"], "ratio"),
            ("mood_p20_strict_popularity", m["strict"]["popularity"]["p20"], "ratio"),
            ("mood_moods", float(len(moods["moods"])), "moods"),
        ]
        for key, prefix in (("names", "mood_name_led"), ("name_probes", "mood_probe_name_led")):
            if key in moods:
                out += [
                    (prefix, float(moods[key]["led"]), "moods"),
                    (prefix.replace("_led", "_only_share"), moods[key]["name_only_share"], "ratio"),
                ]
    back = results.get("returning")
    if back:
        out += [
            ("returning_skip_rate_first5", back["skip_rate_first5"], "ratio"),
            ("returning_skip_rate_first5_new", back["skip_rate_first5_new"], "ratio"),
            ("returning_skip_rate", back["skip_rate"], "ratio"),
        ]
        if back["ratio_first5"] is not None:
            # A quotient of two skip rates (above 1 when returning does worse): not a share.
            out.append(("returning_first5_vs_new", back["ratio_first5"], "x"))
    hist = results.get("lastfm")
    if hist:
        out += [
            ("lastfm_ndcg10", hist["engine"]["ndcg10"], "ratio"),
            ("lastfm_ndcg10_popularity", hist["popularity"]["ndcg10"], "ratio"),
            ("lastfm_ndcg10_als", hist["als"]["ndcg10"], "ratio"),
            ("lastfm_p10", hist["engine"]["p10"], "ratio"),
            ("lastfm_recall10", hist["engine"]["r10"], "ratio"),
            ("lastfm_users", float(hist["users"]), "users"),
        ]
    if results.get("groups"):
        out += groups_bench(results["groups"])
    return out


def bench_lines(results: dict[str, Any]) -> list[str]:
    return [f"BENCH {name} {value:.4f} {unit}" for name, value, unit in bench(results)]


def write_json(results: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        **results,
        "bench": {name: {"value": value, "unit": unit} for name, value, unit in bench(results)},
    }
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    return path
