"""Tiny data sets in the real file formats, made by the tests themselves.

A Hit-Predictor-format CSV (UTF-8, CRLF, 20 columns, decade from the file name) and a
HetRec folder (artists.dat UTF-8 LF; tags.dat Latin-1 CRLF; the two user files CRLF).
Four clusters of artists with distinct sound and distinct tags, and listeners who each
play one cluster: an easy case where a session that learns must beat random.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

REAL_DATA = Path("/work/shared/data")

# cluster → (tags, feature ranges)
CLUSTERS: dict[str, tuple[list[str], dict[str, tuple[float, float]]]] = {
    "sad": (
        ["sad", "acoustic", "folk", "singer-songwriter"],
        {
            "energy": (0.1, 0.3),
            "valence": (0.05, 0.25),
            "acousticness": (0.7, 0.95),
            "danceability": (0.3, 0.45),
            "tempo": (70, 90),
            "loudness": (-14, -9),
            "instrumentalness": (0.0, 0.1),
        },
    ),
    "party": (
        ["party", "dance", "pop", "club"],
        {
            "energy": (0.8, 0.95),
            "valence": (0.75, 0.95),
            "acousticness": (0.0, 0.1),
            "danceability": (0.8, 0.95),
            "tempo": (118, 130),
            "loudness": (-6, -3),
            "instrumentalness": (0.0, 0.05),
        },
    ),
    "metal": (
        ["heavy metal", "metal", "dark", "aggressive", "heavy"],
        {
            "energy": (0.9, 0.99),
            "valence": (0.1, 0.3),
            "acousticness": (0.0, 0.05),
            "danceability": (0.3, 0.45),
            "tempo": (140, 170),
            "loudness": (-5, -2.5),
            "instrumentalness": (0.0, 0.3),
        },
    ),
    "chill": (
        ["chill", "chillout", "mellow", "downtempo", "ambient"],
        {
            "energy": (0.2, 0.4),
            "valence": (0.4, 0.6),
            "acousticness": (0.4, 0.7),
            "danceability": (0.55, 0.7),
            "tempo": (85, 100),
            "loudness": (-13, -9),
            "instrumentalness": (0.5, 0.9),
        },
    ),
}
ARTISTS_PER_CLUSTER = 12
TRACKS_PER_ARTIST = 3
USERS_PER_CLUSTER = 10
HEADER = (
    "track,artist,uri,danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,"
    "liveness,valence,tempo,duration_ms,time_signature,chorus_hit,sections,target,decade"
)


def artist_name(cluster: str, i: int) -> str:
    # One accented name per cluster: the join must survive normalisation.
    return f"{cluster.title()} Bänd {i}" if i == 0 else f"{cluster.title()} Artist {i}"


def write_spotify(folder: Path) -> Path:
    rng = random.Random(5)
    folder.mkdir(parents=True, exist_ok=True)
    lines = [HEADER]
    n = 0
    for cluster, (_, ranges) in CLUSTERS.items():
        for a in range(ARTISTS_PER_CLUSTER):
            for t in range(TRACKS_PER_ARTIST):
                n += 1
                f = {k: rng.uniform(lo, hi) for k, (lo, hi) in ranges.items()}
                lines.append(
                    f"Song {cluster} {a}-{t},{artist_name(cluster, a)},spotify:track:{n:022d},"
                    f"{f['danceability']:.3f},{f['energy']:.3f},{rng.randrange(12)},{f['loudness']:.2f},"
                    f"{rng.randrange(2)},0.04,{f['acousticness']:.3f},{f['instrumentalness']:.3f},0.12,"
                    f"{f['valence']:.3f},{f['tempo']:.1f},200000,4,30.0,10,{rng.randrange(2)},1990"
                )
    (folder / "dataset-of-90s.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return folder


def write_hetrec(folder: Path) -> Path:
    rng = random.Random(6)
    folder.mkdir(parents=True, exist_ok=True)
    artist_ids: dict[tuple[str, int], int] = {}
    rows = ["id\tname\turl\tpictureURL"]
    for cluster in CLUSTERS:
        for a in range(ARTISTS_PER_CLUSTER):
            artist_ids[(cluster, a)] = len(artist_ids) + 1
            name = artist_name(cluster, a)
            rows.append(f"{artist_ids[(cluster, a)]}\t{name}\thttp://www.last.fm/music/x\thttp://img/x.jpg")
    # An artist with no tracks in the catalog, played by everyone: listening beyond the catalog.
    rows.append(f"{len(artist_ids) + 1}\tNobody In The Catalog\thttp://x\thttp://y")
    (folder / "artists.dat").write_text("\n".join(rows) + "\n", encoding="utf-8")

    tags = sorted({t for tags, _ in CLUSTERS.values() for t in tags} | {"música triste"})
    tag_ids = {t: i for i, t in enumerate(tags, start=1)}
    (folder / "tags.dat").write_bytes(
        ("tagID\ttagValue\r\n" + "".join(f"{i}\t{t}\r\n" for t, i in tag_ids.items())).encode("latin-1")
    )

    plays = ["userID\tartistID\tweight"]
    tagged = ["userID\tartistID\ttagID\tday\tmonth\tyear"]
    user = 1
    for cluster, (cluster_tags, _) in CLUSTERS.items():
        for _ in range(USERS_PER_CLUSTER):
            user += 1
            favourites = rng.sample(range(ARTISTS_PER_CLUSTER), 8)
            for a in sorted(favourites):
                plays.append(f"{user}\t{artist_ids[(cluster, a)]}\t{rng.randrange(50, 5000)}")
            plays.append(f"{user}\t{len(artist_ids) + 1}\t{rng.randrange(10, 100)}")
            for a in sorted(favourites[:5]):
                for tag in sorted(rng.sample(cluster_tags, 3)):
                    tagged.append(f"{user}\t{artist_ids[(cluster, a)]}\t{tag_ids[tag]}\t1\t1\t2010")
            if cluster == "sad":
                tagged.append(f"{user}\t{artist_ids[(cluster, 0)]}\t{tag_ids['música triste']}\t1\t1\t2010")
    (folder / "user_artists.dat").write_bytes(("\r\n".join(plays) + "\r\n").encode("ascii"))
    (folder / "user_taggedartists.dat").write_bytes(("\r\n".join(tagged) + "\r\n").encode("ascii"))
    return folder


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("eval-data")
    return write_hetrec(root / "lastfm"), write_spotify(root / "spotify")
