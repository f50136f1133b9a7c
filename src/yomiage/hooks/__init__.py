"""Interactive agents: hook payloads (``payload``), what the daemon does with them
(``handle``), and installing yomiage's hooks into an agent's settings (``install``).

See docs/hooks.md for the payload shapes and their sources.
"""
