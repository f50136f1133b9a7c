"""Text → IPA phonemes through the ``espeak-ng`` program (Piper voices, non-Japanese Kokoro).

espeak-ng is GPL-3.0, so it is run as a separate program rather than loaded into this
Apache-2.0 process. One program per espeak voice stays running and answers line by line
on its stdin (about 1 ms a phrase instead of ~9 ms for starting a program per call); when
it cannot start or misbehaves, each call starts its own program as before. Clause
punctuation, which the program drops, is put back because both Piper and Kokoro were
trained with it.

Example::

    >>> espeak_ipa("Hello, world.", "en-us")  # doctest: +SKIP
    'həlˈoʊ, wˈɜːld.'
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import re
import select
import shutil
import subprocess
import threading
import time

from yomiage.tts.en_reading import english_reading

log = logging.getLogger(__name__)

_PUNCT = re.compile(r"([,.!?;:—…]+)(?=\s|$)")
# Sent after each request: its own output line tells where the request's output ends.
SENTINEL = "qqqx"
# espeak-ng reads stdin lines into a 1000-byte buffer: longer text would be cut mid-word.
MAX_LINE_BYTES = 900
_ANSWER_TIMEOUT = 5.0
MAX_RESTARTS = 3  # then one program per call for that voice


@functools.lru_cache(maxsize=1)
def espeak_program() -> str | None:
    """Path of the espeak-ng program, or None when it is not installed."""
    return shutil.which("espeak-ng") or shutil.which("espeak")


class EspeakProcess:
    """One running ``espeak-ng -q --ipa`` that phonemizes one line per request.

    Thread-safe. ``ask`` raises RuntimeError when the program does not answer
    properly; the process is then closed and must not be used again.
    """

    def __init__(self, exe: str, voice: str) -> None:
        # No text argument and no --stdin: espeak-ng reads stdin one line at a time and
        # answers (and flushes) each line at once.
        self._proc = subprocess.Popen(
            [exe, "-q", "--ipa", "-v", voice],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self._lock = threading.Lock()
        self._buf = b""
        self._closed = False
        self.voice = voice
        self._sentinel = self._request(SENTINEL.encode(), probe=True)[0]
        if not self._sentinel.strip():
            self.close()
            raise RuntimeError("espeak-ng gave no phonemes for the sentinel word")

    def ask(self, words: str) -> str:
        """IPA for ``words`` (one clause: no newline, no clause punctuation needed)."""
        line = " ".join(words.split())
        if not line:
            return ""
        with self._lock:
            lines = self._request(line.encode() + b"\n" + SENTINEL.encode())
        return " ".join(b" ".join(lines).decode("utf-8", "replace").split())

    def _request(self, payload: bytes, probe: bool = False) -> list[bytes]:
        """Send ``payload`` + newline; the lines before the sentinel's answer.

        ``probe``: read just one line (learning the sentinel's answer).
        """
        if self._closed or self._proc.stdin is None or self._proc.stdout is None:
            raise RuntimeError("espeak-ng process is closed")
        try:
            self._proc.stdin.write(payload + b"\n")
            self._proc.stdin.flush()
            out: list[bytes] = []
            deadline = time.monotonic() + _ANSWER_TIMEOUT
            while True:
                line = self._readline(deadline)
                if probe:
                    return [line]
                if line == self._sentinel:
                    return out
                out.append(line)
        except (OSError, RuntimeError) as exc:
            self.close()
            raise RuntimeError(f"espeak-ng process failed: {exc}") from exc

    def _readline(self, deadline: float) -> bytes:
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise RuntimeError("no answer in time")
            data = os.read(fd, 65536)
            if not data:
                raise RuntimeError("the program exited")
            self._buf += data
        line, self._buf = self._buf.split(b"\n", 1)
        return line.strip()

    def close(self) -> None:
        """Stop the program (idempotent)."""
        self._closed = True
        try:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
        except OSError:
            pass
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=5)


_processes: dict[str, EspeakProcess | None] = {}
_restarts: dict[str, int] = {}
_pool_lock = threading.Lock()


def _process_for(voice: str) -> EspeakProcess | None:
    """The running program for ``voice``; None once starting it has failed."""
    with _pool_lock:
        if voice not in _processes:
            exe = espeak_program()
            try:
                _processes[voice] = EspeakProcess(exe, voice) if exe else None
            except (OSError, RuntimeError) as exc:
                log.info("espeak-ng: one program per call for %s (%s)", voice, exc)
                _processes[voice] = None
        return _processes[voice]


def _forget(proc: EspeakProcess) -> None:
    """Drop a failed program: the next call starts a fresh one, up to MAX_RESTARTS times."""
    with _pool_lock:
        if _processes.get(proc.voice) is proc:
            _restarts[proc.voice] = _restarts.get(proc.voice, 0) + 1
            if _restarts[proc.voice] > MAX_RESTARTS:
                log.info("espeak-ng: one program per call for %s from now on", proc.voice)
                _processes[proc.voice] = None
            else:
                del _processes[proc.voice]


@atexit.register
def close_processes() -> None:
    """Stop every running espeak-ng program of this module."""
    with _pool_lock:
        for proc in _processes.values():
            if proc is not None:
                proc.close()
        _processes.clear()


def _ipa_once(exe: str, words: str, voice: str) -> str:
    try:
        proc = subprocess.run(
            [exe, "-q", "--ipa", "-v", voice, "--", words],
            capture_output=True, text=True, check=True, timeout=20,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"espeak-ng failed on {words[:40]!r}: {exc}") from exc
    return " ".join(proc.stdout.split())


def _ipa_words(exe: str, words: str, voice: str, persistent: bool) -> str:
    # Text that reads like the sentinel word would end its own answer early.
    fits = len(words.encode()) <= MAX_LINE_BYTES
    fits = fits and re.sub(r"[^a-z]", "", words.lower()) != SENTINEL
    proc = _process_for(voice) if persistent and fits else None
    if proc is not None:
        try:
            return proc.ask(words)
        except RuntimeError as exc:
            log.warning("espeak-ng: %s; restarting it", exc)
            _forget(proc)
    return _ipa_once(exe, words, voice)


def espeak_ipa(text: str, voice: str, *, persistent: bool = True) -> str:
    """IPA with stress marks for ``text`` in espeak-ng voice ``voice``, punctuation kept.

    English voices read code names, UTC offsets and standards' numbers as words first
    (:func:`yomiage.tts.en_reading.english_reading`).
    ``persistent`` = ask the running program (False: start one program per clause, the
    former path, kept for comparison). Raises RuntimeError when espeak-ng is missing or
    fails.
    """
    exe = espeak_program()
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (Debian/Ubuntu: apt-get install espeak-ng)")
    if voice.startswith("en"):  # code names, UTC offsets, standards' numbers
        text = english_reading(text)
    out: list[str] = []
    for i, part in enumerate(_PUNCT.split(text)):
        if i % 2:
            out.append(part)
            continue
        words = " ".join(part.split())
        if not words:
            continue
        if out:
            out.append(" ")
        out.append(_ipa_words(exe, words, voice, persistent))
    return "".join(out).strip()
