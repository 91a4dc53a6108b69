"""Offline evaluation of the engine on public data (`musicrec eval`).

Three measures, each against baselines, all in-process (no PostgreSQL or Redis):
live re-ranking with simulated listeners (``live``), mood quality against Last.fm tags
(``mood_quality``) and classic top-10 recommendation on listening histories (``histories``).
``runner`` ties them together and ``cli`` is what the command calls.
"""
