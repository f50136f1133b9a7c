"""A translation cache: in-memory LRU, optionally backed by a SQLite file on disk.

Agents repeat themselves ("Let me check the tests."); a hit costs microseconds instead
of a model call. ``CachedTranslator`` wraps any Translator and keeps its interface.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path

from yomiage.translate.base import Translator
from yomiage.translate.streaming import can_stream, translate_stream

log = logging.getLogger(__name__)

Key = tuple[str, str, str, str]


class TranslationCache:
    """Maps (model, src, tgt, text) to a translation; thread-safe.

    Attributes:
        hits, misses: counters since creation (for benchmarks and `--verbose`).
    """

    def __init__(self, max_entries: int = 4096, path: Path | None = None) -> None:
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._mem: OrderedDict[Key, str] = OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(path), check_same_thread=False)
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS t (model TEXT, src TEXT, tgt TEXT, text TEXT,"
                    " out TEXT, PRIMARY KEY (model, src, tgt, text))"
                )
                self._db.commit()
            except (sqlite3.Error, OSError) as exc:
                log.warning("translation cache %s unusable (%s); keeping it in memory only",
                            path, exc)
                self._db = None

    def get(self, key: Key) -> str | None:
        """The cached translation, or None (counts a hit or a miss)."""
        with self._lock:
            value = self._mem.get(key)
            if value is not None:
                self._mem.move_to_end(key)
            elif self._db is not None:
                row = self._db.execute(
                    "SELECT out FROM t WHERE model=? AND src=? AND tgt=? AND text=?", key
                ).fetchone()
                if row is not None:
                    value = row[0]
                    self._put_mem(key, value)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
            return value

    def put(self, key: Key, value: str) -> None:
        """Remember a translation (and write it through to disk when a file is set)."""
        with self._lock:
            self._put_mem(key, value)
            if self._db is not None:
                try:
                    self._db.execute("INSERT OR REPLACE INTO t VALUES (?, ?, ?, ?, ?)",
                                     (*key, value))
                    self._db.commit()
                except sqlite3.Error as exc:
                    log.warning("translation cache write failed: %s", exc)

    def _put_mem(self, key: Key, value: str) -> None:
        self._mem[key] = value
        self._mem.move_to_end(key)
        while len(self._mem) > self.max_entries:
            self._mem.popitem(last=False)

    def __len__(self) -> int:
        return len(self._mem)

    def close(self) -> None:
        """Close the disk file, if any."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class CachedTranslator:
    """A Translator that answers repeated sentences from a cache."""

    def __init__(self, inner: Translator, cache: TranslationCache | None = None) -> None:
        self.inner = inner
        self.cache = cache if cache is not None else TranslationCache()
        self.name = inner.name

    def translate(self, text: str, src: str, tgt: str) -> str:
        """Same as the inner translator's, from the cache when seen before."""
        key = (self.name, src, tgt, text)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        out = self.inner.translate(text, src, tgt)
        self.cache.put(key, out)
        return out

    def translate_batch(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        """Translate only the texts not cached, in one inner batch; keeps order."""
        results: list[str | None] = [self.cache.get((self.name, src, tgt, t)) for t in texts]
        todo = [i for i, r in enumerate(results) if r is None]
        if todo:
            fresh = self.inner.translate_batch([texts[i] for i in todo], src, tgt)
            for i, out in zip(todo, fresh, strict=True):
                results[i] = out
                self.cache.put((self.name, src, tgt, texts[i]), out)
        return [r if r is not None else "" for r in results]

    def translate_stream(self, text: str, src: str, tgt: str) -> Iterator[str]:
        """The inner engine's pieces as they come (one piece from the cache when seen
        before); a translation streamed to its end is cached whole."""
        key = (self.name, src, tgt, text)
        hit = self.cache.get(key)
        if hit is not None:
            yield hit
            return
        pieces: list[str] = []
        for piece in translate_stream(self.inner, text, src, tgt):
            pieces.append(piece)
            yield piece
        self.cache.put(key, "".join(pieces).strip())

    def streams(self) -> bool:
        """True when the inner engine yields pieces before its translation is complete."""
        return can_stream(self.inner)

    def warmup(self) -> None:
        """Warm the inner engine (the cache needs none)."""
        self.inner.warmup()

    def describe(self) -> dict[str, object]:
        """The inner engine's description plus cache counters."""
        inner = getattr(self.inner, "describe", None)
        info: dict[str, object] = dict(inner()) if callable(inner) else {"engine": self.name}
        info.update(cache_entries=len(self.cache), cache_hits=self.cache.hits,
                    cache_misses=self.cache.misses)
        return info
