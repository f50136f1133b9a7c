"""The warm shared narrator: one daemon per user that every agent session feeds.

``protocol`` (messages), ``paths`` (socket, lock and log places) and ``client`` (connect,
auto-start, send) import nothing heavy, so that a client process starts in milliseconds;
``server``, ``sessions``, ``scheduler`` and ``voices`` run inside the daemon. See
docs/daemon.md for the protocol.
"""
