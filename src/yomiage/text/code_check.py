"""A heuristic detector of what a listener should never hear: code, JSON, full paths.

Used by the tests (every fixture's spoken sentences must pass) and handy when reading a
new session's ``yomiage text`` output::

    >>> code_findings('It failed: {"type":"error","request_id":"req_011CVk"}')
    ['json', 'request id']
    >>> code_findings("Fixed NavUser.tsx, lines 24 to 40.")
    []

It looks at spoken text (after the speech rules), so it flags what slipped through:

* ``json``: a quoted key followed by a colon (``"type":``), or ``{`` … ``:`` … ``}``;
* ``request id``: ``req_`` followed by a long token;
* ``path``: three parts or more ending in a file name or a separator
  (``src/app/main.py``, ``priv/static/assets/``; ``All/Active/Completed`` passes),
  a rooted one (``/etc/hosts``) or a Windows one (``C:\\x``); a whole URL is ``url``;
* ``code``: a statement or expression shape: ``foo(bar)`` with something inside the
  parentheses and no space before them, ``=>``, ``->``, ``&&``, ``||``, ``==``,
  ``!=``, ``===``, a line ending in ``;`` or ``{``, braces around words.

It is a heuristic: prose about ``a/b`` choices, a single ``Foo::bar`` or an emoticon can
fool it; the tests pin both what it finds and what it lets pass.
"""

from __future__ import annotations

import re

_CHECKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("json", re.compile(r"\"[\w-]+\"\s*:\s*[\"{\[\d tfn]|\{[^{}]*\w\s*:\s*[^{}]*\}")),
    ("request id", re.compile(r"\breq_[A-Za-z0-9]{8,}")),
    ("url", re.compile(r"\b(?:https?|ftp)://\S+")),
    ("path", re.compile(
        r"(?<![\w:/.])(?:~|\.{1,2})?/(?:[\w.@+-]+/)+[\w.@+-]*"  # rooted: /etc/app/x
        r"|(?<![\w/.])(?:[\w@+-][\w.@+-]*/){2,}(?:[\w@+-]*\.[A-Za-z]\w*)?(?![\w/])"  # a/b/c.py
        r"|\b[A-Za-z]:\\[^\s]*")),  # C:\x
    ("code", re.compile(
        r"\b[A-Za-z_]\w*\([^()\s][^()]*\)"  # foo(bar)
        r"|=>|\s->\s|\w->\w|&&|\|\||\s[=!]==?\s|[;{]\s*$"
        r"|\{\s*:?\w+,|\{\s*\}")),
)
_DATE = re.compile(r"^\d{1,4}/\d{1,2}/\d{1,4}$")


def code_findings(sentence: str) -> list[str]:
    """The kinds of code-like text found in ``sentence`` (empty: fine to speak)."""
    found: list[str] = []
    for kind, rx in _CHECKS:
        for m in rx.finditer(sentence):
            if kind == "path" and _DATE.match(m.group()):
                continue
            if kind == "url" and "url" not in found:
                found.append(kind)
                break
            if kind not in found:
                found.append(kind)
            break
    return found
