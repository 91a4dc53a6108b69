"""Listening histories from elsewhere: ListenBrainz, Last.fm CSV, Spotify (extended and
account-data) and the HetRec Last.fm listeners. Pure parsing into `records.Listen`; matching
against the catalog and storage are the server's (app/listens_import.py).
"""
