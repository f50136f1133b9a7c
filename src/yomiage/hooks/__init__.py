"""Interactive agents: what the daemon does with hook payloads (``handler``), the light
``yomiage hook`` client (``cli``), and installing yomiage's hooks into an agent's
settings (``install``).

See docs/hooks.md for the payload shapes and their sources. This module stays light: the
hook client imports it on every agent event.
"""

from __future__ import annotations

TYPE_CHECKING = False  # (not from typing: the hook client need not import it)
if TYPE_CHECKING:
    from typing import Any

    from yomiage.hooks.handler import HookHandler

_handler: HookHandler | None = None


def handle(payload: dict[str, Any], agent: str) -> list[dict[str, Any]]:
    """The daemon messages this hook payload calls for (possibly none).

    Called by the daemon, one call at a time (docs/daemon.md); the state between calls
    (each session's turn, the messages MessageDisplay showed) lives in one
    :class:`yomiage.hooks.handler.HookHandler` made on first use."""
    global _handler
    if _handler is None:
        from yomiage.hooks.handler import HookHandler

        _handler = HookHandler()
    return _handler.handle(payload, agent)
