"""Spotify feature CSVs: schema detection, validation, merging, encodings, progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from importers_helpers import FEATURE_HEADER, FEATURES, write_text

from recsys.importers.artists import split_artists
from recsys.importers.report import ImportReport
from recsys.importers.spotify_csv import read_spotify_csv, read_spotify_csvs
from recsys.importers.spotify_schemas import SchemaError, detect_schema

HIT_HEADER = f"track,artist,uri,{FEATURE_HEADER},duration_ms,time_signature,chorus_hit,sections,target"
ID_A = "1dtKN6wwlolkM8XZy2y9C1"
ID_B = "5hjsmSnUefdUqzsDogisiX"
ID_C = "0m8Ta268d1kBBG7lxMyWqa"
ID_D = "0xfpx7AiwgSKEtjotea2L6"


def _hit(
    track: str,
    artist: str,
    track_id: str,
    features: str = FEATURES,
    duration: str = "173533",
    target: str = "1",
) -> str:
    return f'"{track}","{artist}",spotify:track:{track_id},{features},{duration},4,32.9,9,{target}'


def test_hit_predictor_rows_decade_from_file_name_and_merge_across_files(tmp_path: Path) -> None:
    sixties = write_text(
        tmp_path / "dataset-of-60s.csv",
        "\r\n".join(
            [
                HIT_HEADER,
                _hit("Song A", "Drake Featuring Rihanna & Jay-Z", ID_A),
                _hit("Song B", "Simon & Garfunkel", ID_B, target="0"),
                _hit("Too Energetic", "X", ID_C, features=FEATURES.replace("0.6,5", "1.7,5")),
                _hit("", "Nameless", ID_D),
                _hit("Bad Length", "Y", ID_D, duration="abc"),
                _hit("Bad Id", "Z", "not-an-id"),
            ]
        )
        + "\r\n",
    )
    seventies = write_text(
        tmp_path / "dataset-of-70s.csv", HIT_HEADER + "\n" + _hit("Song B", "Simon & Garfunkel", ID_B) + "\n"
    )
    report = ImportReport()
    records = {r.external_id: r for r in read_spotify_csvs([sixties, seventies], report)}

    assert set(records) == {ID_A, ID_B}
    song_a = records[ID_A]
    assert song_a.artists == ["Drake", "Rihanna", "Jay-Z"]
    assert song_a.year == 1960 and song_a.genres == []
    assert song_a.descriptors == ["1960s", "billboard hit"]
    assert song_a.audio["energy"] == 0.6 and song_a.audio["key"] == 5.0 and song_a.audio["mode"] == 1.0
    assert song_a.duration_ms == 173533 and song_a.source == "spotify"

    song_b = records[ID_B]  # a flop in the 60s file, a hit in the 70s file: one record
    assert song_b.artists == ["Simon & Garfunkel"]
    assert song_b.year == 1960
    assert song_b.descriptors == ["1960s", "1970s", "billboard hit"]

    assert report.rows_seen == 7 and report.imported == 2 and report.merged == 1
    assert report.skipped == {
        "energy out of range": 1,
        "missing track name": 1,
        "bad duration_ms": 1,
        "bad track id": 1,
    }
    reasons = dict(report.examples)
    # Line numbers within the file; with several files, the file's name leads the reason.
    assert reasons[4] == "dataset-of-60s.csv: energy 1.7 outside 0..1"
    assert reasons[5] == "dataset-of-60s.csv: missing track name"
    assert reasons[6] == "dataset-of-60s.csv: bad duration_ms 'abc'"
    summary = report.summary()
    assert "4 rows skipped" in summary and "energy 1.7 outside 0..1" in summary


def test_hit_predictor_decade_column_wins(tmp_path: Path) -> None:
    path = write_text(tmp_path / "hits.csv", HIT_HEADER + ",decade\n" + _hit("S", "A x B", ID_A) + ",1990\n")
    (record,) = read_spotify_csv(path, ImportReport())
    assert record.year == 1990 and "1990s" in record.descriptors
    assert record.artists == ["A", "B"]


TRACKS_HEADER = (
    ",track_id,artists,album_name,track_name,popularity,duration_ms,explicit,"
    f"{FEATURE_HEADER.replace('tempo', 'tempo,time_signature')},track_genre"
)


def _track_row(index: int, track_id: str, genre: str, explicit: str = "False", popularity: str = "73") -> str:
    features = FEATURES.replace(",120.0", ",120.0,4")
    names = 'Artist One;Artist Two,"Album, Deluxe","Title"'
    return f"{index},{track_id},{names},{popularity},230666,{explicit},{features},{genre}"


def test_spotify_tracks_dataset_merges_genres_and_reads_a_bom(tmp_path: Path) -> None:
    rows = [
        TRACKS_HEADER,
        _track_row(0, ID_A, "acoustic"),
        _track_row(1, ID_B, "j-pop", explicit="True"),
        _track_row(2, ID_A, "Folk", popularity="80"),
        _track_row(3, ID_C, "rock", popularity="101"),
    ]
    path = write_text(tmp_path / "dataset.csv", "\ufeff" + "\n".join(rows) + "\n")
    report = ImportReport()
    records = {r.external_id: r for r in read_spotify_csv(path, report)}
    assert set(records) == {ID_A, ID_B}
    assert records[ID_A].genres == ["acoustic", "folk"]
    assert records[ID_A].popularity == 80.0  # the highest listing wins
    assert records[ID_A].artists == ["Artist One", "Artist Two"]
    assert records[ID_A].album == "Album, Deluxe"
    assert records[ID_B].explicit is True
    assert report.skipped == {"popularity out of range": 1}
    assert not report.warnings  # a BOM is UTF-8, nothing to warn about


def test_columns_in_any_order_and_case(tmp_path: Path) -> None:
    header = (
        "TRACK_GENRE,Track_Name,Artists,Album_Name,Popularity,Duration_ms,Explicit,Track_ID,"
        + FEATURE_HEADER.upper()
    )
    row = f"soul,Shuffled,Someone,Album,50,200000,false,{ID_A},{FEATURES}"
    (record,) = read_spotify_csv(write_text(tmp_path / "x.csv", header + "\n" + row + "\n"), ImportReport())
    assert record.title == "Shuffled" and record.genres == ["soul"] and record.audio["tempo"] == 120.0


TIDY_HEADER = (
    "track_id,track_name,track_artist,track_popularity,track_album_id,track_album_name,"
    f"track_album_release_date,playlist_name,playlist_genre,playlist_subgenre,playlist_id,{FEATURE_HEADER},duration_ms"
)


def test_tidytuesday_years_and_playlist_merge(tmp_path: Path) -> None:
    rows = [
        TIDY_HEADER,
        f"{ID_A},Song,Band feat. Guest,66,alb,Album,2019-06-14,Pop Hits,pop,dance pop,pl1,{FEATURES},194754",
        f"{ID_A},Song,Band feat. Guest,66,alb,Album,2019-06-14,Latin,latin,latin pop,pl2,{FEATURES},194754",
        f"{ID_B},Old,Someone,20,alb2,Album 2,1987,Rock,rock,classic rock,pl3,{FEATURES},200000",
        f"{ID_C},Month,Someone,20,alb3,Album 3,2005-03,Rock,rock,hard rock,pl3,{FEATURES},200000",
        f"{ID_D},Undated,Someone,20,alb4,Album 4,sometime,Rock,rock,hard rock,pl3,{FEATURES},200000",
        f"{ID_D[:-1]}X,No artist,,20,alb4,Album 4,2001,Rock,rock,hard rock,pl3,{FEATURES},200000",
    ]
    report = ImportReport()
    records = {
        r.external_id: r
        for r in read_spotify_csv(write_text(tmp_path / "spotify_songs.csv", "\n".join(rows)), report)
    }
    assert records[ID_A].genres == ["pop", "dance pop", "latin", "latin pop"]
    assert records[ID_A].artists == ["Band", "Guest"]
    assert (records[ID_A].year, records[ID_B].year, records[ID_C].year, records[ID_D].year) == (
        2019,
        1987,
        2005,
        None,
    )
    assert records[ID_A].popularity == 66.0
    assert report.field_issues == {"unreadable release date (year left empty)": 1}
    assert report.skipped == {"missing artist": 1}


def test_latin1_file_is_decoded_with_a_warning(tmp_path: Path) -> None:
    text = HIT_HEADER + "\n" + _hit("Café del Mar", "Beyoncé", ID_A) + "\n"
    report = ImportReport()
    (record,) = read_spotify_csv(write_text(tmp_path / "old.csv", text, encoding="latin-1"), report)
    assert record.title == "Café del Mar" and record.artists == ["Beyoncé"]
    assert len(report.warnings) == 1 and "not valid UTF-8" in report.warnings[0]


def test_unknown_schema_names_expected_columns(tmp_path: Path) -> None:
    path = write_text(tmp_path / "other.csv", "song,singer,bpm\nA,B,120\n")
    with pytest.raises(SchemaError) as raised:
        read_spotify_csv(path, ImportReport())
    message = str(raised.value)
    assert "song, singer, bpm" not in message  # columns are listed sorted
    assert "bpm, singer, song" in message
    assert "track_genre" in message and "playlist_genre" in message and "uri" in message


def test_detect_schema() -> None:
    assert detect_schema(HIT_HEADER.split(",")) == "hit_predictor"
    assert detect_schema(TRACKS_HEADER.split(",")) == "spotify_tracks"
    assert detect_schema(TIDY_HEADER.split(",")) == "tidytuesday"
    assert detect_schema(["\ufeff" + c.upper() for c in HIT_HEADER.split(",")]) == "hit_predictor"


def test_short_rows_are_skipped_and_progress_reaches_the_end(tmp_path: Path) -> None:
    rows = (
        [HIT_HEADER]
        + [_hit(f"S{i}", "A", f"{i:022d}") for i in range(5000)]
        + [f"Short,A,spotify:track:{ID_A},0.5"]
    )
    path = write_text(tmp_path / "many.csv", "\n".join(rows) + "\n")
    calls: list[tuple[int, int, int]] = []
    report = ImportReport()
    records = list(read_spotify_csv(path, report, on_progress=lambda *a: calls.append(a)))
    assert len(records) == 5000
    assert report.skipped == {"wrong number of fields": 1}
    assert calls and calls[-1] == (5001, calls[-1][2], calls[-1][2])
    assert [c[1] for c in calls] == sorted(c[1] for c in calls)


def test_split_artists_rule() -> None:
    assert split_artists("Drake Featuring Rihanna & Jay-Z") == ["Drake", "Rihanna", "Jay-Z"]
    assert split_artists("Earth, Wind & Fire") == ["Earth, Wind & Fire"]
    assert split_artists("Barry Manilow with Kid Creole & The Coconuts") == [
        "Barry Manilow",
        "Kid Creole & The Coconuts",
    ]
    assert split_artists("Lil Nas X Featuring Billy Ray Cyrus") == ["Lil Nas X", "Billy Ray Cyrus"]
    assert split_artists("Kygo x Selena Gomez") == ["Kygo", "Selena Gomez"]
    assert split_artists("Anuel AA, Daddy Yankee, Karol G & Ozuna") == [
        "Anuel AA",
        "Daddy Yankee",
        "Karol G",
        "Ozuna",
    ]
    assert split_artists("C Bank feat. Diamond Eyes") == ["C Bank", "Diamond Eyes"]
