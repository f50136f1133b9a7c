"""The `yomiage` console script: light commands first, the full command line otherwise.

A hook runs `yomiage hook` on every agent event, and `yomiage say --daemon` is a client
too: their processes must be done in tens of milliseconds, so they go straight to the
light daemon client here without importing the argument parser tree, the configuration
or any stage. Everything else goes to :func:`yomiage.cli.main`.
"""

from __future__ import annotations

import sys

_SAY_VALUE_FLAGS = {"--lang", "--session", "--priority", "--cwd"}


def main() -> int:
    """Entry point of the `yomiage` console script; returns the exit code."""
    argv = sys.argv[1:]
    if argv[:1] == ["hook"]:
        try:
            from yomiage.hooks.cli import main as hook_main
        except ImportError:
            pass
        else:
            return int(hook_main(argv[1:]))
    if argv[:1] == ["say"] and "--daemon" in argv:
        fast = _fast_say(argv[1:])
        if fast is not None:
            return fast
    from yomiage.cli import main as cli_main

    return cli_main(argv)


def _fast_say(args: list[str]) -> int | None:
    """`yomiage say TEXT --daemon [--lang L] [--session S] [--priority P] [--cwd D]`
    through the light client; None when the arguments need the full parser."""
    text: str | None = None
    opts: dict[str, str] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--daemon":
            i += 1
            continue
        name, eq, value = a.partition("=")
        if name in _SAY_VALUE_FLAGS:
            if not eq:
                if i + 1 >= len(args):
                    return None
                value = args[i + 1]
                i += 1
            opts[name[2:]] = value
        elif a.startswith("-") or text is not None:
            return None  # another flag (or a second text): the full parser decides
        else:
            text = a
        i += 1
    if text is None:
        return None
    from yomiage.daemon.sayclient import say_via_daemon

    return say_via_daemon(text, lang=opts.get("lang"), session=opts.get("session"),
                          priority=opts.get("priority"), cwd=opts.get("cwd"))
