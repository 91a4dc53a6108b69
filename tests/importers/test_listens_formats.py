"""Parsing listening-history exports, each from a small file in its real shape: every valid
row becomes a Listen, every bad one is counted with its reason, and a file broken as a whole
is refused before anything is handed out."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recsys.importers.listens.reader import open_listens
from recsys.importers.listens.records import SKIP_THRESHOLD_MS, Listen, ListensFileError
from recsys.importers.report import ImportReport

SPOTIFY_ID = "4uLU6hMCjMI75M1A2tKUQC"


def read_all(path: Path, fmt: str | None = None) -> tuple[list[Listen], ImportReport, list[str]]:
    files = open_listens(path, fmt)
    report = ImportReport()
    return list(files.listens(report)), report, files.formats


def lb_listen(at: int, artist: str, title: str, **info: object) -> dict[str, object]:
    return {
        "listened_at": at,
        "recording_msid": "0f4d3b4c-0000-4000-8000-000000000000",
        "user_name": "someone",
        "track_metadata": {
            "artist_name": artist,
            "track_name": title,
            "release_name": "An Album",
            "additional_info": {"recording_msid": "x", **info},
        },
    }


def extended_row(
    ts: str, ms: int, title: str | None, artist: str | None, **extra: object
) -> dict[str, object]:
    row: dict[str, object] = {
        "ts": ts,
        "username": "someone",
        "platform": "android",
        "ms_played": ms,
        "conn_country": "DE",
        "master_metadata_track_name": title,
        "master_metadata_album_artist_name": artist,
        "master_metadata_album_album_name": "Album" if title else None,
        "spotify_track_uri": f"spotify:track:{SPOTIFY_ID}" if title else None,
        "episode_name": None,
        "episode_show_name": None,
        "spotify_episode_uri": None,
        "reason_start": "clickrow",
        "reason_end": "trackdone",
        "shuffle": False,
        "skipped": None,
        "offline": False,
        "incognito_mode": False,
    }
    row.update(extra)
    return row


def test_listenbrainz_jsonl_with_a_bad_line(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            lb_listen(
                1612101900,
                "Daft Punk",
                "One More Time",
                duration_ms=320000,
                spotify_id=f"https://open.spotify.com/track/{SPOTIFY_ID}",
            )
        ),
        "{not json",
        json.dumps({"listened_at": 1612101901, "track_metadata": {"artist_name": "", "track_name": "x"}}),
        json.dumps(lb_listen(5, "Old", "Clock")),  # 1970: a dead clock
        "",
        json.dumps(lb_listen(1612102000, "Air", "La femme d'argent")),
    ]
    path = tmp_path / "listens.jsonl"
    path.write_text("\n".join(lines) + "\n")
    listens, report, formats = read_all(path)
    assert formats == ["listenbrainz"]
    assert [(x.artist, x.title) for x in listens] == [
        ("Daft Punk", "One More Time"),
        ("Air", "La femme d'argent"),
    ]
    first = listens[0]
    assert first.spotify_id == SPOTIFY_ID and first.track_duration_ms == 320000
    assert first.listened_at == datetime.fromtimestamp(1612101900, UTC)
    assert first.outcome == "complete" and first.album == "An Album"
    assert report.rows_seen == 5
    assert report.skipped == {"not JSON": 1, "missing artist_name": 1, "implausible time": 1}


def test_listenbrainz_json_array(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(
        json.dumps([lb_listen(1612101900 + i, "Björk", f"Song {i}") for i in range(50)], indent=2)
    )
    listens, report, formats = read_all(path)
    assert formats == ["listenbrainz"] and len(listens) == 50 and report.skipped_total == 0


def test_lastfm_headerless_csv_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "scrobbles.csv"
    path.write_bytes(
        "\ufeffBeyoncé,Lemonade,Hold Up,31 Jan 2021 14:05\n"
        '"Simon & Garfunkel","Bookends","Mrs. Robinson, Pt. 2",01 Feb 2021 09:00\n'
        "Now,Playing,Song,\n"
        "Short,Row\n"
        "Bad,Date,Song,yesterday\n".encode()
    )
    listens, report, formats = read_all(path)
    assert formats == ["lastfm"]
    assert [(x.artist, x.title) for x in listens] == [
        ("Beyoncé", "Hold Up"),
        ("Simon & Garfunkel", "Mrs. Robinson, Pt. 2"),
    ]
    assert listens[0].listened_at == datetime(2021, 1, 31, 14, 5, tzinfo=UTC)
    assert listens[0].album == "Lemonade" and listens[0].outcome == "complete"
    assert report.skipped == {"no date": 1, "wrong number of fields": 1, "bad date": 1}


def test_lastfm_csv_with_a_header_prefers_the_unix_time(tmp_path: Path) -> None:
    path = tmp_path / "lastfm.csv"
    path.write_text(
        "uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid\n"
        '1612101900,"31 Jan 2021, 14:05",Radiohead,,OK Computer,,Airbag,\n'
    )
    listens, _report, _ = read_all(path)
    assert listens[0].listened_at == datetime.fromtimestamp(1612101900, UTC)
    assert listens[0].title == "Airbag"


def test_spotify_extended_short_and_long_plays_and_podcasts(tmp_path: Path) -> None:
    rows = [
        extended_row("2021-01-31T14:05:12Z", 200_000, "Song", "Artist"),
        extended_row("2021-01-31T14:06:00Z", 5_000, "Song", "Artist", reason_end="fwdbtn", skipped=True),
        extended_row(
            "2021-01-31T14:07:00Z", SKIP_THRESHOLD_MS - 1, "Intro", "Artist", reason_end="trackdone"
        ),
        extended_row("2021-01-31T14:08:00Z", SKIP_THRESHOLD_MS - 1, "Song", "Artist", reason_end="endplay"),
        extended_row("2021-01-31T14:09:00Z", 90_000, "Song", "Artist", reason_end="fwdbtn", skipped=True),
        extended_row(
            "2021-01-31T14:10:00Z",
            600_000,
            None,
            None,
            episode_name="Ep 1",
            spotify_episode_uri="spotify:episode:1",
        ),
        extended_row("not a time", 1000, "Song", "Artist"),
    ]
    path = tmp_path / "Streaming_History_Audio_2021_3.json"
    path.write_text(json.dumps(rows))
    listens, report, formats = read_all(path)
    assert formats == ["spotify_extended"]
    assert [x.outcome for x in listens] == ["complete", "skip", "complete", "skip", "complete"]
    assert listens[0].spotify_id == SPOTIFY_ID and listens[0].ms_played == 200_000
    assert report.skipped == {"podcast episode": 1, "bad ts": 1}


def test_spotify_account_history(tmp_path: Path) -> None:
    rows = [
        {"endTime": "2023-01-31 14:05", "artistName": "Artist", "trackName": "Long", "msPlayed": 180_000},
        {"endTime": "2023-01-31 14:06", "artistName": "Artist", "trackName": "Short", "msPlayed": 2_000},
        {"endTime": "2023-01-31", "artistName": "Artist", "trackName": "Bad", "msPlayed": 2_000},
        {"endTime": "2023-01-31 14:07", "podcastName": "Pod", "episodeName": "Ep", "msPlayed": 9},
    ]
    path = tmp_path / "StreamingHistory_music_0.json"
    path.write_text(json.dumps(rows))
    listens, report, formats = read_all(path)
    assert formats == ["spotify_account"]
    assert [(x.title, x.outcome) for x in listens] == [("Long", "complete"), ("Short", "skip")]
    assert listens[0].listened_at == datetime(2023, 1, 31, 14, 5, tzinfo=UTC)
    assert report.skipped == {"bad endTime": 1, "podcast episode": 1}


def write_hetrec(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "artists.dat").write_text(
        "id\tname\turl\tpictureURL\n1\tMALICE MIZER\thttp://x\thttp://y\n"
        "2\tDiary of Dreams\thttp://x\thttp://y\n"
    )
    (folder / "user_artists.dat").write_bytes(
        b"userID\tartistID\tweight\r\n2\t1\t13883\r\n2\t2\t11690\r\n3\t2\t7\r\n3\t99\t5\r\n4\t1\t0\r\n"
    )
    return folder


def test_hetrec_folder(tmp_path: Path) -> None:
    listens, report, formats = read_all(write_hetrec(tmp_path / "hetrec"))
    assert formats == ["hetrec"]
    assert [(x.listener, x.artist, x.weight, x.title, x.listened_at) for x in listens] == [
        ("hetrec:2", "MALICE MIZER", 13883.0, None, None),
        ("hetrec:2", "Diary of Dreams", 11690.0, None, None),
        ("hetrec:3", "Diary of Dreams", 7.0, None, None),
    ]
    assert listens[0].dedupe() == "artist:1"
    assert report.skipped == {"unknown artist id": 1, "bad weight": 1}


def test_a_zip_of_spotify_files_reads_the_histories_and_ignores_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "Spotify Extended Streaming History/Streaming_History_Audio_2021.json",
            json.dumps([extended_row("2021-01-31T14:05:12Z", 200_000, "Song", "Artist")]),
        )
        archive.writestr("Spotify Extended Streaming History/Streaming_History_Video_2021.json", "[]")
        archive.writestr("Spotify Extended Streaming History/ReadMeFirst.pdf", b"%PDF-1.4")
        archive.writestr("Userdata.json", json.dumps({"username": "x"}))
    listens, _, formats = read_all(path)
    assert formats == ["spotify_extended"] and len(listens) == 1


def test_the_same_listen_has_the_same_dedupe_key_and_others_differ(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        "\n".join(json.dumps(lb_listen(1612101900, "The Beatles", t)) for t in ("Help!", "HELP", "Yesterday"))
    )
    listens, _, _ = read_all(path)
    keys = [x.dedupe() for x in listens]
    assert keys[0] == keys[1] != keys[2]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "cut.json",
            json.dumps([extended_row("2021-01-31T14:05:12Z", 1, "S", "A")] * 3)[:-40],
            "broken JSON in row 3",
        ),
        ("empty.json", "", "empty"),
        ("other.json", json.dumps([{"some": "thing"}]), "not a listening history"),
        ("words.txt", "hello there\n", "not a listening history"),
    ],
)
def test_a_file_broken_as_a_whole_is_refused(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ListensFileError, match=message):
        open_listens(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("Artist,Album,Caf\xe9,31 Jan 2021 14:05\n".encode("latin-1") * 3)
    with pytest.raises(ListensFileError, match="not UTF-8"):
        open_listens(path)


def test_the_format_can_be_forced(tmp_path: Path) -> None:
    path = tmp_path / "whatever.dat"
    path.write_text(json.dumps([]))
    with pytest.raises(ListensFileError):
        open_listens(path)
    assert open_listens(path, "spotify_account").rows == 0


def test_a_big_json_array_streams_in_chunks(tmp_path: Path) -> None:
    rows = [
        extended_row(f"2021-02-0{1 + i % 9}T10:00:00Z", 40_000 + i, f"Song {i} " + "x" * 200, "Artist")
        for i in range(3000)
    ]
    path = tmp_path / "Streaming_History_Audio_2021.json"
    path.write_text(json.dumps(rows, indent=2))
    listens, report, _ = read_all(path)
    assert len(listens) == 3000 and report.skipped_total == 0
    assert listens[-1].ms_played == 42_999
