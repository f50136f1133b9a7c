"""Text → IPA phonemes through the ``espeak-ng`` program (Piper voices, non-Japanese Kokoro).

espeak-ng is GPL-3.0, so it is run as a separate program rather than loaded into this
Apache-2.0 process; one call costs a few milliseconds. Clause punctuation, which the
program drops, is put back because both Piper and Kokoro were trained with it.

Example::

    >>> espeak_ipa("Hello, world.", "en-us")  # doctest: +SKIP
    'həlˈoʊ, wˈɜːld.'
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess

_PUNCT = re.compile(r"([,.!?;:—…]+)(?=\s|$)")


@functools.lru_cache(maxsize=1)
def espeak_program() -> str | None:
    """Path of the espeak-ng program, or None when it is not installed."""
    return shutil.which("espeak-ng") or shutil.which("espeak")


def espeak_ipa(text: str, voice: str) -> str:
    """IPA with stress marks for ``text`` in espeak-ng voice ``voice``, punctuation kept.

    Raises RuntimeError when espeak-ng is missing or fails.
    """
    exe = espeak_program()
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (Debian/Ubuntu: apt-get install espeak-ng)")
    out: list[str] = []
    for i, part in enumerate(_PUNCT.split(text)):
        if i % 2:
            out.append(part)
            continue
        words = " ".join(part.split())
        if not words:
            continue
        try:
            proc = subprocess.run(
                [exe, "-q", "--ipa", "-v", voice, "--", words],
                capture_output=True, text=True, check=True, timeout=20,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"espeak-ng failed on {words[:40]!r}: {exc}") from exc
        if out:
            out.append(" ")
        out.append(" ".join(proc.stdout.split()))
    return "".join(out).strip()
