"""The live listening session layer: `/ws`, its frame protocol, the per-user session kept in
Redis, the pub/sub bus that carries queue frames to every tab on every instance.

Nothing here knows how ranking works (that is ``recsys``); nothing in ``recsys`` knows about
WebSockets. ``realtime.ws.register(app)`` wires the layer into an app.
"""
