"""Which export a file is: by its content first, its name when the content cannot tell.

JSON: the keys of the first rows decide (Spotify extended has ``master_metadata_*``, the
account-data history ``endTime``/``msPlayed``, ListenBrainz ``listened_at``/``track_metadata``).
Text that is not JSON is read as a Last.fm CSV when its first line looks like one. A folder
is HetRec when it holds ``user_artists.dat`` and ``artists.dat``. An empty JSON array is told
by its name (``Streaming_History_Audio_*``, ``StreamingHistory*``), else refused.
"""

from __future__ import annotations

import re

from recsys.importers.listens import lastfm_csv, spotify_account, spotify_extended
from recsys.importers.listens.records import Format, ListensFileError
from recsys.importers.listens.sources import Source

_EXTENDED_NAME = re.compile(r"(streaming_history_(audio|video)_|endsong_)", re.IGNORECASE)
_ACCOUNT_NAME = re.compile(r"streaminghistory", re.IGNORECASE)
_LISTENBRAINZ_NAME = re.compile(r"listenbrainz|\.jsonl$", re.IGNORECASE)


def detect_source(source: Source) -> Format:
    """The format of one file; raises ListensFileError when it is none of them."""
    head = source.head()
    stripped = head.lstrip()
    if not stripped:
        raise ListensFileError(f"{source.name}: the file is empty")
    if stripped[0] in "[{":
        if any(f'"{key}"' in head for key in spotify_extended.MARKERS):
            return "spotify_extended"
        if all(f'"{key}"' in head for key in spotify_account.MARKERS):
            return "spotify_account"
        if '"listened_at"' in head or '"track_metadata"' in head:
            return "listenbrainz"
        if stripped.startswith("[") and stripped[1:].lstrip().startswith("]"):
            by_name = _by_name(source.name)
            if by_name is not None:
                return by_name
        raise ListensFileError(
            f"{source.name}: JSON, but not a listening history this server knows "
            "(ListenBrainz, Spotify extended or account-data history)"
        )
    if lastfm_csv.looks_like_scrobbles(stripped):
        return "lastfm"
    raise ListensFileError(
        f"{source.name}: not a listening history this server knows (ListenBrainz JSON, "
        "Last.fm CSV, Spotify JSON, or a zip of them)"
    )


def _by_name(name: str) -> Format | None:
    if _EXTENDED_NAME.search(name):
        return "spotify_extended"
    if _ACCOUNT_NAME.search(name):
        return "spotify_account"
    if _LISTENBRAINZ_NAME.search(name):
        return "listenbrainz"
    return None
