"""The translation cache: LRU in memory, optional SQLite file, wrapper semantics."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from yomiage.translate.cache import CachedTranslator, TranslationCache
from yomiage.translate.clauses import split_clauses, translate_clauses


class CountingEngine:
    """Stands in for a model in tests of the code around it: upper-cases, counts calls."""

    name = "counting"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def translate(self, text: str, src: str, tgt: str) -> str:
        return self.translate_batch([text], src, tgt)[0]

    def translate_batch(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        self.seen += list(texts)
        return [f"{tgt}:{t.upper()}" for t in texts]

    def warmup(self) -> None:
        pass


def test_lru_evicts_oldest() -> None:
    cache = TranslationCache(max_entries=2)
    cache.put(("m", "en", "ja", "a"), "A")
    cache.put(("m", "en", "ja", "b"), "B")
    assert cache.get(("m", "en", "ja", "a")) == "A"  # a is now the newest
    cache.put(("m", "en", "ja", "c"), "C")
    assert cache.get(("m", "en", "ja", "b")) is None
    assert cache.get(("m", "en", "ja", "a")) == "A"
    assert (cache.hits, cache.misses) == (2, 1)


def test_disk_cache_survives_a_new_instance(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "t.sqlite3"
    first = TranslationCache(path=path)
    first.put(("m", "en", "ja", "hello"), "こんにちは")
    first.close()
    second = TranslationCache(path=path)
    assert second.get(("m", "en", "ja", "hello")) == "こんにちは"
    assert second.get(("m", "en", "fr", "hello")) is None


def test_unwritable_disk_cache_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = TranslationCache(path=blocker / "t.sqlite3")
    cache.put(("m", "en", "ja", "a"), "A")
    assert cache.get(("m", "en", "ja", "a")) == "A"


def test_cached_translator_calls_the_engine_once_per_text() -> None:
    engine = CountingEngine()
    tr = CachedTranslator(engine)
    assert tr.translate("hi", "en", "ja") == "ja:HI"
    assert tr.translate("hi", "en", "ja") == "ja:HI"
    assert tr.translate_batch(["hi", "yo", "hi"], "en", "ja") == ["ja:HI", "ja:YO", "ja:HI"]
    assert engine.seen == ["hi", "yo"]
    assert tr.describe()["cache_hits"] == 3


def test_split_clauses_keeps_text_and_bounds_length() -> None:
    text = ("I looked through the whole repository and found that the configuration loader "
            "reads the TOML file twice because the cache key includes the modification time, "
            "which changes on every save; so I removed it.")
    clauses = split_clauses(text, 80)
    assert " ".join(clauses) == text
    assert len(clauses) > 1
    assert all(len(c) <= 80 for c in clauses)
    assert split_clauses("Short one.", 80) == ["Short one."]


def test_translate_clauses_yields_in_order() -> None:
    engine = CountingEngine()
    out = list(translate_clauses(engine, "We changed the parser, which was slow, and it "
                                 "works.", "en", "ja", 25))
    assert out == [f"ja:{c.upper()}" for c in engine.seen]
    assert len(out) >= 2
