"""Last.fm HetRec profiles and enrichment, on tiny files in the real formats."""

from __future__ import annotations

from pathlib import Path

from recsys.catalog import TrackRecord
from recsys.importers.lastfm import enrich, load_artist_profiles, match_rate, normalise_artist


def _write(path: Path, lines: list[str], encoding: str = "utf-8", newline: str = "\n") -> None:
    path.write_bytes((newline.join(lines) + newline).encode(encoding))


def _hetrec(folder: Path) -> Path:
    _write(
        folder / "artists.dat",
        [
            "id\tname\turl\tpictureURL",
            "1\tBeyoncé\thttp://x\thttp://y",
            "2\tThe Beatles\thttp://x\thttp://y",
            "3\tSimon & Garfunkel\thttp://x\thttp://y",
            "4\tObscure Act\thttp://x\thttp://y",
        ],
    )
    # Latin-1 with CRLF, as published.
    _write(
        folder / "tags.dat",
        [
            "tagID\ttagValue",
            "1\tR&B",
            "2\tpop",
            "3\tseen live",
            "4\tfemale vocalists",
            "5\tbritish",
            "6\tclassic rock",
            "7\ttropicália",
            "8\tonce",
            "9\t80s",
            "10\tbeyonce",
        ],
        encoding="latin-1",
        newline="\r\n",
    )
    tagged = ["userID\tartistID\ttagID\tday\tmonth\tyear"]
    # Each (user, artist, tag) is one assignment; user ids make them distinct.
    for user, artist, tag in (
        [(u, 1, 1) for u in range(5)]
        + [(u, 1, 2) for u in range(3)]
        + [(u, 1, 4) for u in range(4)]
        + [(u, 1, 3) for u in range(6)]
        + [(u, 1, 10) for u in range(3)]
        + [(u, 2, 6) for u in range(6)]
        + [(u, 2, 5) for u in range(3)]
        + [(u, 2, 2) for u in range(2)]
        + [(u, 2, 9) for u in range(3)]
        + [(u, 3, 7) for u in range(3)]
        + [(1, 3, 8)]
    ):
        tagged.append(f"{user}\t{artist}\t{tag}\t1\t4\t2009")
    _write(folder / "user_taggedartists.dat", tagged, newline="\r\n")
    listens = ["userID\tartistID\tweight"] + [f"{u}\t1\t{100 + u}" for u in range(50)]
    listens += [f"{u}\t2\t10" for u in range(10)] + ["1\t3\t5"]
    _write(folder / "user_artists.dat", listens, newline="\r\n")
    return folder


def test_normalise_artist() -> None:
    assert normalise_artist("Beyoncé") == normalise_artist("BEYONCE") == "beyonce"
    assert normalise_artist("The Beatles") == normalise_artist("beatles")
    assert normalise_artist("Simon & Garfunkel") == normalise_artist("Simon and Garfunkel")
    assert normalise_artist("Jay-Z") == normalise_artist("JAY Z") == normalise_artist("Jay Z")
    assert normalise_artist("AC/DC") == normalise_artist("ACDC")
    assert normalise_artist("Sigur Rós") == normalise_artist("Sigur Ros")
    assert normalise_artist("Mø") == "mo"
    assert normalise_artist("!!!") == "!!!"


def test_profiles_from_real_formats(tmp_path: Path) -> None:
    profiles = load_artist_profiles(_hetrec(tmp_path))
    beyonce = profiles["beyonce"]
    assert (
        beyonce.name == "Beyoncé"
        and beyonce.listeners == 50
        and beyonce.plays == sum(100 + u for u in range(50))
    )
    # "seen live" is junk, "beyonce" is her own name; weights are shares of the top tag.
    assert beyonce.top_tags == [("r&b", 1.0), ("female vocalists", 0.8), ("pop", 0.6)]
    assert beyonce.popularity == 100.0
    beatles = profiles["beatles"]
    # Ties are broken by name; "80s" is spelled as the CSV importers spell decades.
    assert beatles.top_tags == [("classic rock", 1.0), ("1980s", 0.5), ("british", 0.5), ("pop", 0.333)]
    assert 0 < beatles.popularity < beyonce.popularity
    simon = profiles["simonandgarfunkel"]
    assert simon.top_tags == [("tropicália", 1.0)]  # Latin-1 decoded; the one-off tag "once" dropped
    assert profiles["obscureact"].listeners == 0 and profiles["obscureact"].popularity == 0.0


def test_enrich_fills_only_what_is_missing(tmp_path: Path) -> None:
    profiles = load_artist_profiles(_hetrec(tmp_path))
    bare = TrackRecord(source="spotify", external_id="a", title="Halo", artists=["Beyonce", "Someone"])
    assert enrich(bare, profiles)
    assert bare.genres == ["r&b", "pop"]
    assert bare.descriptors == ["female vocalists"]
    assert bare.popularity == 100.0

    tagged = TrackRecord(
        source="spotify",
        external_id="b",
        title="X",
        artists=["Unknown", "The Beatles"],
        genres=["merseybeat"],
        popularity=12.0,
        descriptors=["1960s"],
    )
    assert enrich(tagged, profiles, max_tags=2)
    assert tagged.genres == ["merseybeat"] and tagged.popularity == 12.0
    assert tagged.descriptors == ["1960s", "classic rock", "1980s"]

    stranger = TrackRecord(source="spotify", external_id="c", title="Y", artists=["Nobody"])
    assert not enrich(stranger, profiles)
    assert stranger.genres == [] and stranger.popularity is None


def test_match_rate(tmp_path: Path) -> None:
    profiles = load_artist_profiles(_hetrec(tmp_path))
    records = [
        TrackRecord(source="s", external_id="1", title="a", artists=["Beyoncé"]),
        TrackRecord(source="s", external_id="2", title="b", artists=["beyonce", "Nobody"]),
        TrackRecord(source="s", external_id="3", title="c", artists=["Nobody"]),
        TrackRecord(source="s", external_id="4", title="d", artists=["Simon and Garfunkel"]),
    ]
    rate = match_rate(records, profiles)
    assert (rate.tracks, rate.matched_tracks, rate.artists, rate.matched_artists) == (4, 3, 3, 2)
    assert "2 of 3 distinct artists" in str(rate)
