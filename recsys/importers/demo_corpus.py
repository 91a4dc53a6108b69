"""Which pieces of music21's bundled public-domain corpus make up the demo catalog.

The selection is a deterministic function of the files on disk: each collection lists its
files (or, for ABC opus files, its tunes) in sorted order and takes `limit` of them evenly
spaced, so a reel collection contributes reels from A to Z rather than its first pages.
A piece is named by a *ref*: the corpus-relative path, plus "#<X number>" for one tune of an
ABC file ("essenFolksong/han1.abc#12"). Refs are the cache keys and the records' media_ref.

About 1,100 pieces: German and Chinese folk songs (Essen), Irish, Scottish and American
fiddle and fife tunes (O'Neill, Ryan, Aird, ...), Bach chorales, Renaissance madrigals and
masses (Monteverdi, Palestrina, Josquin), trecento songs, Haydn/Mozart/Beethoven string
quartets, and single pieces from Joplin to Webern.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from recsys.importers.abc_index import tune_numbers

PieceKind = Literal[
    "folk_song",
    "dance_tune",
    "air",
    "chorale",
    "vocal_polyphony",
    "chamber",
    "keyboard",
    "art_song",
    "modern",
]
# When one piece exists in several encodings, the first in this order is used.
_FORMAT_PREFERENCE = (".mxl", ".musicxml", ".xml", ".krn", ".abc")


@dataclass(frozen=True, slots=True)
class Collection:
    name: str
    patterns: tuple[str, ...]  # globs relative to the corpus root
    album: str  # "{work}" is replaced by the prettified folder or file name
    genres: tuple[str, ...]
    artist: str | None  # None: the composer from the score's metadata
    kind: PieceKind
    limit: int = 10_000
    tunes: bool = False  # ABC opus file: every X: tune is its own piece
    shared_numbering: bool = False  # tune numbers run across files (a number is one tune)
    descriptors: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    title: str | None = None  # for one-piece collections whose metadata has no usable title


TRAD = "Traditional"
COLLECTIONS: tuple[Collection, ...] = (
    Collection(
        "essen",
        ("essenFolksong/*.abc",),
        "Essen Folksong Collection",
        ("folk", "folk song"),
        TRAD,
        "folk_song",
        220,
        tunes=True,
        exclude=("essenFolksong/test*",),
    ),
    Collection(
        "oneills",
        ("oneills1850/*.abc",),
        "O'Neill's Music of Ireland (1850)",
        ("folk", "celtic"),
        TRAD,
        "dance_tune",
        160,
        tunes=True,
        shared_numbering=True,
        descriptors=("irish", "fiddle"),
    ),
    Collection(
        "ryans",
        ("ryansMammoth/*.abc",),
        "Ryan's Mammoth Collection (1883)",
        ("folk", "celtic"),
        TRAD,
        "dance_tune",
        200,
        descriptors=("fiddle",),
    ),
    Collection(
        "airds",
        ("airdsAirs/*.abc",),
        "Aird's Selection of Airs (1782-1797)",
        ("folk", "celtic"),
        TRAD,
        "air",
        80,
        tunes=True,
        descriptors=("scottish", "fife"),
    ),
    Collection(
        "fife",
        ("miscFolk/americanfifeopus.abc",),
        "The American Veteran Fifer",
        ("folk", "march"),
        TRAD,
        "dance_tune",
        25,
        tunes=True,
        descriptors=("american", "fife", "military"),
    ),
    Collection(
        "northumbrian",
        ("miscFolk/northumbrianminstrelsyopus.abc",),
        "Northumbrian Minstrelsy",
        ("folk",),
        TRAD,
        "air",
        25,
        tunes=True,
        descriptors=("english", "northumbrian"),
    ),
    Collection(
        "nottingham",
        ("nottingham-dataset/*.abc",),
        "Nottingham Folk Music Database",
        ("folk",),
        TRAD,
        "dance_tune",
        tunes=True,
        descriptors=("english",),
    ),
    Collection(
        "bach",
        ("bach/bwv*.mxl",),
        "Bach Chorales",
        ("chorale", "baroque"),
        "Johann Sebastian Bach",
        "chorale",
        150,
        descriptors=("choral", "sacred", "four-part harmony"),
        exclude=("bach/bwv846.mxl",),
    ),
    Collection(
        "bach_keyboard",
        ("bach/bwv846.mxl",),
        "The Well-Tempered Clavier",
        ("baroque", "classical"),
        "Johann Sebastian Bach",
        "keyboard",
        descriptors=("prelude", "keyboard"),
        title="Prelude in C Major, BWV 846",
    ),
    Collection(
        "monteverdi",
        ("monteverdi/*.mxl",),
        "Madrigals, Books 3-5",
        ("madrigal", "renaissance"),
        "Claudio Monteverdi",
        "vocal_polyphony",
        descriptors=("choral", "italian"),
    ),
    Collection(
        "palestrina",
        ("palestrina/*.krn",),
        "Masses",
        ("sacred", "renaissance"),
        "Giovanni Pierluigi da Palestrina",
        "vocal_polyphony",
        70,
        descriptors=("choral", "mass", "latin"),
    ),
    Collection(
        "josquin",
        ("josquin/*.abc",),
        "Chansons and Motets",
        ("renaissance",),
        "Josquin des Prez",
        "vocal_polyphony",
        descriptors=("choral", "chanson"),
    ),
    Collection(
        "trecento",
        ("trecento/*.xml",),
        "Trecento Songs",
        ("medieval",),
        None,
        "vocal_polyphony",
        40,
        descriptors=("ars nova", "italian"),
    ),
    Collection(
        "ciconia",
        ("ciconia/*.xml",),
        "Medieval Polyphony",
        ("medieval",),
        "Johannes Ciconia",
        "vocal_polyphony",
        descriptors=("canon",),
    ),
    Collection(
        "luca",
        ("luca/*.xml",),
        "Medieval Polyphony",
        ("medieval", "sacred"),
        "D. Luca",
        "vocal_polyphony",
        descriptors=("choral", "mass"),
    ),
    Collection(
        "lusitano",
        ("lusitano/*.mxl",),
        "Motets",
        ("renaissance", "sacred"),
        "Vicente Lusitano",
        "vocal_polyphony",
        descriptors=("choral",),
    ),
    Collection(
        "beethoven",
        ("beethoven/*.mxl", "beethoven/*/*.mxl", "beethoven/*/*.krn"),
        "String Quartet {work}",
        ("classical", "string quartet"),
        "Ludwig van Beethoven",
        "chamber",
        descriptors=("strings",),
    ),
    Collection(
        "haydn",
        ("haydn/*/*.mxl",),
        "String Quartet {work}",
        ("classical", "string quartet"),
        "Joseph Haydn",
        "chamber",
        descriptors=("strings",),
    ),
    Collection(
        "mozart_quartets",
        ("mozart/k80/*", "mozart/k155/*", "mozart/k156/*", "mozart/k458/*"),
        "String Quartet {work}",
        ("classical", "string quartet"),
        "Wolfgang Amadeus Mozart",
        "chamber",
        descriptors=("strings",),
    ),
    Collection(
        "mozart_sonata",
        ("mozart/k545/*",),
        "Piano Sonata {work}",
        ("classical", "piano"),
        "Wolfgang Amadeus Mozart",
        "keyboard",
        descriptors=("sonata",),
    ),
    Collection(
        "schumann_quartet",
        ("schumann_robert/opus41no1/*",),
        "String Quartet {work}",
        ("romantic", "string quartet"),
        "Robert Schumann",
        "chamber",
        descriptors=("strings",),
    ),
    Collection(
        "schumann_songs",
        ("schumann_robert/*.xml", "schumann_robert/*.mxl"),
        "Dichterliebe and Lieder",
        ("romantic", "lied"),
        "Robert Schumann",
        "art_song",
        descriptors=("voice and piano", "german"),
        # opus48no2.mxl is a second edition of dichterliebe_no2.xml.
        exclude=("schumann_robert/opus48no2.mxl",),
    ),
    Collection(
        "clara",
        ("schumann_clara/*.mxl", "schumann_clara/*/*.xml"),
        "Piano Works",
        ("romantic", "piano"),
        "Clara Schumann",
        "keyboard",
    ),
    Collection(
        "joplin",
        ("joplin/*.mxl",),
        "Piano Rags",
        ("ragtime",),
        "Scott Joplin",
        "keyboard",
        descriptors=("rag", "piano", "american"),
    ),
    Collection(
        "chopin",
        ("chopin/*.krn",),
        "Mazurkas",
        ("romantic", "piano"),
        "Frédéric Chopin",
        "keyboard",
        descriptors=("mazurka", "polish"),
    ),
    Collection(
        "schubert",
        ("schubert/*.xml",),
        "Winterreise",
        ("romantic", "lied"),
        "Franz Schubert",
        "art_song",
        descriptors=("voice and piano", "german"),
    ),
    Collection(
        "handel",
        ("handel/*/*.mxl",),
        "Rinaldo",
        ("baroque", "opera"),
        "George Frideric Handel",
        "art_song",
        descriptors=("aria",),
    ),
    Collection(
        "corelli",
        ("corelli/*/*.xml",),
        "Trio Sonatas, Op. 3",
        ("baroque", "chamber music"),
        "Arcangelo Corelli",
        "chamber",
        descriptors=("trio sonata", "strings"),
    ),
    Collection(
        "cpebach",
        ("cpebach/*.mxl",),
        "Keyboard Works",
        ("baroque", "classical"),
        "Carl Philipp Emanuel Bach",
        "keyboard",
    ),
    Collection(
        "verdi",
        ("verdi/*.mxl",),
        "Rigoletto",
        ("romantic", "opera"),
        "Giuseppe Verdi",
        "art_song",
        descriptors=("aria", "italian"),
    ),
    Collection(
        "weber",
        ("weber/*.mxl",),
        "Clarinet Concertino",
        ("romantic", "classical"),
        "Carl Maria von Weber",
        "chamber",
        descriptors=("clarinet",),
    ),
    Collection(
        "beach",
        ("beach/*.musicxml",),
        "Songs",
        ("romantic", "song"),
        "Amy Beach",
        "art_song",
        descriptors=("voice and piano", "american"),
    ),
    Collection(
        "liliuokalani",
        ("liliuokalani/*.mxl",),
        "Songs",
        ("hawaiian", "song"),
        "Liliuokalani",
        "art_song",
        descriptors=("hawaiian", "farewell"),
    ),
    Collection(
        "johnson",
        ("johnson_j_r/*.mxl",),
        "Songs",
        ("hymn", "americana"),
        "J. Rosamond Johnson",
        "art_song",
        descriptors=("anthem", "american"),
    ),
    Collection(
        "berlin",
        ("leadSheet/berlin*.mxl",),
        "Popular Songs",
        ("ragtime", "popular song"),
        "Irving Berlin",
        "art_song",
        descriptors=("lead sheet", "american"),
    ),
    Collection(
        "foster",
        ("leadSheet/foster*.mxl",),
        "Popular Songs",
        ("popular song", "americana"),
        "Stephen Foster",
        "art_song",
        descriptors=("parlor song", "american"),
    ),
    Collection(
        "webern",
        ("webern/*.mxl",),
        "Geistliche Lieder",
        ("modern", "classical"),
        "Anton Webern",
        "art_song",
        descriptors=("atonal", "twelve-tone"),
    ),
    Collection(
        "schoenberg",
        ("schoenberg/*/*.mxl",),
        "Six Little Piano Pieces {work}",
        ("modern", "classical"),
        "Arnold Schoenberg",
        "modern",
        descriptors=("atonal", "piano"),
    ),
)
COLLECTION_BY_NAME: dict[str, Collection] = {c.name: c for c in COLLECTIONS}


@dataclass(frozen=True, slots=True)
class Piece:
    ref: str
    collection: str


def corpus_root() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


def split_ref(ref: str) -> tuple[str, int | None]:
    path, _, number = ref.partition("#")
    return path, int(number) if number else None


def _files(root: Path, collection: Collection) -> list[Path]:
    excluded = {p for pattern in collection.exclude for p in root.glob(pattern)}
    found = {p for pattern in collection.patterns for p in root.glob(pattern) if p.is_file()} - excluded
    # One encoding per piece: movement1.krn is dropped when movement1.mxl exists.
    best: dict[Path, Path] = {}
    for path in sorted(found):
        if path.suffix.lower() not in _FORMAT_PREFERENCE:
            continue
        stem = path.with_suffix("")
        current = best.get(stem)
        if current is None or _FORMAT_PREFERENCE.index(path.suffix.lower()) < _FORMAT_PREFERENCE.index(
            current.suffix.lower()
        ):
            best[stem] = path
    return sorted(best.values())


def _refs(root: Path, collection: Collection) -> list[str]:
    refs: list[str] = []
    numbers_seen: set[int] = set()
    for path in _files(root, collection):
        relative = path.relative_to(root).as_posix()
        if not collection.tunes:
            refs.append(relative)
            continue
        if not collection.shared_numbering:
            numbers_seen.clear()
        for number in tune_numbers(path):
            # O'Neill's files overlap (0626-0635 inside 0626-0700): the same tune twice.
            if number not in numbers_seen:
                numbers_seen.add(number)
                refs.append(f"{relative}#{number}")
    return refs


def _evenly(items: list[str], limit: int) -> list[str]:
    if len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


@cache
def select_pieces() -> tuple[Piece, ...]:
    """The demo catalog's pieces, in a fixed order."""
    root = corpus_root()
    pieces: list[Piece] = []
    for collection in COLLECTIONS:
        pieces += [Piece(ref, collection.name) for ref in _evenly(_refs(root, collection), collection.limit)]
    return tuple(pieces)


def iter_pieces(collections: set[str] | None = None) -> Iterator[Piece]:
    return (piece for piece in select_pieces() if collections is None or piece.collection in collections)
