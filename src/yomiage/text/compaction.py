"""A compaction summary → the part of it worth hearing.

When Claude Code compacts a conversation, an agent writes ``<analysis>…</analysis>``
(a chronological retelling, its scratch pad) and ``<summary>…</summary>`` with numbered
sections: "1. Primary Request and Intent", "2. Key Technical Concepts", "3. Files and
Code Sections", … "8. Current Work", "9. Optional Next Step". With ``--subagents`` that
agent's text reaches the narrator. The listener heard the session itself; what the
summary adds is where the work stands and what comes next, so only the sections named
in :data:`SPOKEN_SECTIONS` are kept (the whole summary when none is found), and the
analysis never::

    >>> compaction_digest("<analysis>x</analysis><summary>\\n1. Intent:\\n  a\\n"
    ...                   "2. Current Work:\\n  b\\n</summary>")
    '2. Current Work:\\n  b'
    >>> compaction_digest("Plain prose.") is None
    True
"""

from __future__ import annotations

import re

SPOKEN_SECTIONS = ("current work", "next step")
"""Words in a top-level section title that make the section spoken."""

_SECTION = re.compile(r"(?m)^(?:#{1,6}[ \t]*)?\**\d{1,2}\.[ \t]+\**(?P<title>[^:\n]{3,80}?)\**:")


def compaction_digest(text: str) -> str | None:
    """The markdown to speak for a compaction summary, or None when ``text`` is not one
    (it has no ``<summary>`` tag)."""
    start = text.find("<summary>")
    if start < 0:
        return None
    end = text.find("</summary>", start)
    body = text[start + len("<summary>") : end if end >= 0 else len(text)]
    heads = list(_SECTION.finditer(body))
    kept: list[str] = []
    for k, m in enumerate(heads):
        title = m.group("title").lower()
        if any(word in title for word in SPOKEN_SECTIONS):
            stop = heads[k + 1].start() if k + 1 < len(heads) else len(body)
            kept.append(body[m.start() : stop].strip())
    return "\n\n".join(kept) if kept else body.strip()
