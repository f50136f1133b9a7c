"""The overlapped pipeline with fake engines: order, overlap, back-pressure, lag, interrupts."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from yomiage.narrate.pipeline import Pipeline, PipelineOptions, RunReport
from yomiage.narrate.timeline import is_consistent
from yomiage.records import AudioChunk, Sentence, SentenceKind

SR = 16000


class FakeTranslator:
    """Upper-cases text after ``delay`` seconds; raises on text containing 'BOOM'."""

    name = "fake-translator"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[tuple[str, float]] = []
        self.batches: list[list[str]] = []

    def translate(self, text: str, src: str, tgt: str) -> str:
        time.sleep(self.delay)
        if "BOOM" in text:
            raise RuntimeError("model exploded")
        self.calls.append((text, time.perf_counter()))
        return text.upper()

    def translate_batch(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        self.batches.append(list(texts))
        if any("BOOM" in t for t in texts):
            raise RuntimeError("model exploded")
        time.sleep(self.delay)  # a batch costs about one sentence
        return [t.upper() for t in texts]

    def warmup(self) -> None:
        pass


class FakeVoice:
    """``chunks`` chunks of ``chunk_s`` seconds of tone per sentence, ``delay`` s each."""

    name = "fake-voice"
    language = "ja"
    sample_rate = SR

    def __init__(self, chunks: int = 2, chunk_s: float = 0.05, delay: float = 0.0) -> None:
        self.chunks, self.chunk_s, self.delay = chunks, chunk_s, delay
        self.texts: list[str] = []
        self.aheads: list[float] = []  # ahead_s of each call

    def stream(self, text: str, ahead_s: float = 0.0) -> Iterator[AudioChunk]:
        self.texts.append(text)
        self.aheads.append(ahead_s)
        if "CRASH" in text:
            raise RuntimeError("voice crashed")
        n = int(self.chunk_s * SR)
        for _ in range(self.chunks):
            time.sleep(self.delay)
            yield AudioChunk(np.full(n, 0.25, dtype=np.float32), SR)

    def warmup(self) -> None:
        pass


class FakeSink:
    """Records writes; with ``realtime`` it 'plays' at wall-clock speed (marks fire late)."""

    name = "fake"

    def __init__(self, realtime: bool = False) -> None:
        self.realtime = realtime
        self.written: list[tuple[float, int]] = []  # (time, samples)
        self.stops: list[float] = []
        self._end = 0.0  # perf_counter when everything written so far has played
        self._marks: list[tuple[float, int, Callable[[float], None]]] = []
        self._lock = threading.Lock()
        self._n = 0
        self._thread = threading.Thread(target=self._fire_loop, daemon=True)
        self._closed = False
        self._thread.start()

    def write(self, chunk: AudioChunk) -> None:
        now = time.perf_counter()
        with self._lock:
            self.written.append((now, len(chunk.samples)))
            if self.realtime:
                self._end = max(self._end, now) + chunk.duration

    def mark(self, callback: Callable[[float], None]) -> None:
        now = time.perf_counter()
        with self._lock:
            due = self._end if self.realtime else now
            if due <= now:
                callback(now)
                return
            self._n += 1
            heapq.heappush(self._marks, (due, self._n, callback))

    def pending_seconds(self) -> float:
        with self._lock:
            return max(0.0, self._end - time.perf_counter())

    def drain(self) -> None:
        while self.pending_seconds() > 0 or self._marks:
            time.sleep(0.005)

    def stop(self) -> None:
        now = time.perf_counter()
        with self._lock:
            self.stops.append(now)
            self._end = now
            marks, self._marks = self._marks, []
        for _, _, cb in marks:
            cb(now)

    def _fire_loop(self) -> None:
        while not self._closed:
            now = time.perf_counter()
            due: list[Callable[[float], None]] = []
            with self._lock:
                while self._marks and self._marks[0][0] <= now:
                    due.append(heapq.heappop(self._marks)[2])
            for cb in due:
                cb(now)
            time.sleep(0.002)

    def __enter__(self) -> FakeSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True


def make_sentences(texts: Sequence[str], turn: int = 0, start: int = 0) -> list[Sentence]:
    return [Sentence(text=t, seq=start + i, turn=turn) for i, t in enumerate(texts)]


def stamped(sentences: Sequence[Sentence], gap: float = 0.0) -> Iterator[Sentence]:
    """Yield sentences as a reader would: read_at/segmented_at stamped on the way out."""
    for s in sentences:
        if gap:
            time.sleep(gap)
        now = time.perf_counter()
        yield Sentence(text=s.text, seq=s.seq, kind=s.kind, turn=s.turn, read_at=now,
                       segmented_at=now)


def run(sentences: Sequence[Sentence] | Iterator[Sentence], *, live: bool = False,
        translator: FakeTranslator | None = None, voice: FakeVoice | None = None,
        sink: FakeSink | None = None, **opts: object) -> tuple[RunReport, FakeSink]:
    sink = sink or FakeSink(realtime=live)
    options = PipelineOptions(live=live, **opts)  # type: ignore[arg-type]
    src = stamped(sentences) if isinstance(sentences, list) else sentences
    with sink:
        report = Pipeline(options, translator or FakeTranslator(), voice or FakeVoice(),
                          sink).run(src)
    return report, sink


TEXTS = [f"Sentence number {i} is here." for i in range(8)]


def test_every_sentence_spoken_in_order_with_translation() -> None:
    voice = FakeVoice()
    report, sink = run(make_sentences(TEXTS), voice=voice)
    assert voice.texts == [t.upper() for t in TEXTS]
    assert [t.text for t in report.timelines] == TEXTS
    assert [t.translation for t in report.timelines] == [t.upper() for t in TEXTS]
    assert len(sink.written) == 2 * len(TEXTS)
    assert report.skipped == 0 and report.errors == 0 and not report.interrupted
    assert report.audio_seconds == pytest.approx(len(TEXTS) * 2 * 0.05)


def test_timelines_are_consistent_and_complete() -> None:
    report, _ = run(make_sentences(TEXTS), live=True, voice=FakeVoice(chunk_s=0.02), max_lag=0)
    for tl in report.timelines:
        assert is_consistent(tl), tl
        assert None not in (tl.segmented_at, tl.translated_at, tl.first_audio_at,
                            tl.play_start_at, tl.play_end_at)
        assert tl.read_at <= tl.segmented_at <= tl.translated_at  # type: ignore[operator]
        assert tl.first_audio_at <= tl.play_start_at <= tl.play_end_at  # type: ignore[operator]


def test_next_sentence_is_translated_and_synthesized_while_one_plays() -> None:
    translator = FakeTranslator(delay=0.01)
    report, _ = run(make_sentences(TEXTS[:4]), live=True, translator=translator,
                    voice=FakeVoice(chunks=3, chunk_s=0.1), max_lag=0)
    first, second = report.timelines[0], report.timelines[1]
    assert second.translated_at is not None and first.play_end_at is not None
    assert second.translated_at < first.play_end_at
    assert second.first_audio_at is not None and second.first_audio_at < first.play_end_at


def test_next_translation_waits_for_the_current_first_chunk() -> None:
    report, _ = run(make_sentences(TEXTS[:5]), translator=FakeTranslator(delay=0.01),
                    voice=FakeVoice(chunks=3, chunk_s=0.05, delay=0.05))
    tls = report.timelines
    for cur, nxt in itertools.pairwise(tls):
        start, first = nxt.extra["translate_start"], cur.extra["first_chunk_at"]
        assert isinstance(start, float) and isinstance(first, float)
        if start > cur.extra["synth_start"]:  # type: ignore[operator]
            assert start >= first
    # …and it still overlaps with the rest of the current sentence's synthesis
    assert any(n.translated_at < c.extra["synth_end"]  # type: ignore[operator]
               for c, n in itertools.pairwise(tls))


def test_sentences_queued_while_the_voice_works_are_translated_as_a_batch() -> None:
    translator = FakeTranslator(delay=0.01)
    voice = FakeVoice(chunks=3, chunk_s=0.05, delay=0.03)
    report, _ = run(make_sentences(TEXTS), translator=translator, voice=voice)
    assert translator.calls[0][0] == TEXTS[0]  # the first sentence goes alone
    assert translator.batches and all(1 < len(b) <= 4 for b in translator.batches)
    assert voice.texts == [t.upper() for t in TEXTS]  # order kept
    assert any(t.extra.get("batch") for t in report.timelines)


def test_a_failing_batch_is_retried_one_by_one() -> None:
    texts = [f"Number {i}." for i in range(4)] + ["It goes BOOM."] + ["Last one."]
    translator = FakeTranslator(delay=0.01)
    report, _ = run(make_sentences(texts), translator=translator,
                    voice=FakeVoice(chunks=3, chunk_s=0.05, delay=0.03))
    assert report.errors == 1 and report.timelines[4].error
    assert [t.translation for t in report.timelines if not t.error] == \
        [t.upper() for t in texts if "BOOM" not in t]


def test_eof_drains_everything_before_returning() -> None:
    report, sink = run(make_sentences(TEXTS[:3]), live=True,
                       voice=FakeVoice(chunks=2, chunk_s=0.1))
    assert all(t.play_end_at is not None for t in report.timelines)
    assert sink.pending_seconds() == 0
    assert time.perf_counter() >= max(t.play_end_at or 0 for t in report.timelines)


def test_reader_is_held_back_by_a_bounded_queue_when_writing_files() -> None:
    translator = FakeTranslator(delay=0.01)
    gaps: list[int] = []

    def source() -> Iterator[Sentence]:
        for s in stamped(make_sentences([f"Line {i}." for i in range(40)])):
            taken = len(translator.calls) + sum(len(b) for b in translator.batches)
            gaps.append(s.seq - taken)
            yield s

    report, _ = run(source(), translator=translator, max_pending=3, translated_queue=1,
                    audio_queue=2)
    assert len(report.timelines) == 40 and report.skipped == 0
    # pending (3) + being translated (1) + translated queue (1) + synth/audio queue + slack
    assert max(gaps) <= 9


def test_live_lag_drops_oldest_and_says_so_in_the_listeners_language() -> None:
    texts = ["This sentence is long enough to take a few seconds to say aloud."] * 12
    voice = FakeVoice(chunks=2, chunk_s=0.15)
    report, _ = run(make_sentences(texts), live=True, voice=voice, max_lag=2.0,
                    target_lang="ja")
    assert report.skipped > 0
    skipped = [t for t in report.timelines if t.skipped]
    assert all(t.extra["reason"] == "lag" for t in skipped)
    notices = [t for t in report.timelines if "skip_notice" in t.extra]
    assert notices and all("飛ばしました" in (n.translation or "") for n in notices)
    assert sum(int(n.extra["skip_notice"]) for n in notices) == report.skipped  # type: ignore[call-overload]
    assert report.timelines[-1].first_audio_at is not None  # the newest is always kept
    assert any("飛ばしました" in t for t in voice.texts)


def test_file_output_never_skips_however_far_behind() -> None:
    texts = ["This sentence is long enough to take a few seconds to say aloud."] * 12
    report, _ = run(make_sentences(texts), live=False, max_lag=0.5)
    assert report.skipped == 0
    assert len([t for t in report.timelines if t.first_audio_at]) == 12


def test_new_turn_interrupts_the_previous_speech() -> None:
    old = make_sentences([f"Old turn sentence {i}." for i in range(6)], turn=0)
    new = make_sentences(["The new turn starts."], turn=1, start=6)

    def source() -> Iterator[Sentence]:
        yield from stamped(old)
        time.sleep(0.3)
        yield from stamped(new)

    voice = FakeVoice(chunks=2, chunk_s=0.2)
    report, sink = run(source(), live=True, voice=voice, max_lag=0)
    assert sink.stops, "the sink was not stopped"
    cut = [t for t in report.timelines if t.skipped]
    assert cut and all(t.extra["reason"] == "interrupted" for t in cut)
    assert report.timelines[-1].text == "The new turn starts."
    assert report.timelines[-1].play_end_at is not None
    assert voice.texts[-1] == "THE NEW TURN STARTS."


def test_without_interrupt_a_new_turn_waits_its_turn() -> None:
    old = make_sentences([f"Old {i}." for i in range(3)], turn=0)
    new = make_sentences(["New."], turn=1, start=3)
    report, sink = run(old + new, live=True, interrupt=False, max_lag=0,
                       voice=FakeVoice(chunk_s=0.02))
    assert not sink.stops and report.skipped == 0


def test_engine_error_on_one_sentence_is_reported_and_the_rest_go_on(
        caplog: pytest.LogCaptureFixture) -> None:
    texts = ["Fine one.", "This one goes BOOM.", "Voice will CRASH here.", "Fine again."]
    voice = FakeVoice()
    report, _ = run(make_sentences(texts), voice=voice)
    assert report.errors == 2
    assert report.timelines[1].error and "translation" in report.timelines[1].error
    assert report.timelines[2].error and "voice" in report.timelines[2].error
    assert report.timelines[3].first_audio_at is not None
    assert voice.texts[-1] == "FINE AGAIN."
    assert any("model exploded" in r.getMessage() for r in caplog.records)


def test_abort_stops_sound_at_once_and_returns() -> None:
    voice = FakeVoice(chunks=4, chunk_s=0.25)
    sink = FakeSink(realtime=True)
    pipeline = Pipeline(PipelineOptions(live=True, max_lag=0), FakeTranslator(), voice, sink)
    threading.Timer(0.3, pipeline.abort).start()
    started = time.perf_counter()
    report = pipeline.run(stamped(make_sentences(TEXTS)))
    assert time.perf_counter() - started < 1.5
    assert sink.stops
    assert any(t.skipped for t in report.timelines)


def test_the_voice_is_told_how_much_speech_is_still_to_be_heard() -> None:
    voice = FakeVoice(chunks=2, chunk_s=0.2)
    sink = FakeSink(realtime=True)
    Pipeline(PipelineOptions(live=True, max_lag=0), FakeTranslator(), voice, sink).run(
        stamped(make_sentences(TEXTS[:3])))
    assert voice.aheads[0] == 0.0  # the listener waits for the first sentence
    # each later one is made while the 0.4 s before it still plays
    assert all(0.1 < a <= 0.8 for a in voice.aheads[1:]), voice.aheads


def test_into_a_wav_file_nobody_waits_so_no_sentence_is_cut_for_speed(tmp_path: Path) -> None:
    from yomiage.audio.base import NOBODY_WAITS_S
    from yomiage.audio.wav import WavSink

    voice = FakeVoice()
    with WavSink(tmp_path / "out.wav", SR) as sink:
        Pipeline(PipelineOptions(), FakeTranslator(), voice, sink).run(
            stamped(make_sentences(TEXTS[:3])))
    assert len(voice.aheads) == 3 and min(voice.aheads) >= NOBODY_WAITS_S


def test_an_idle_voice_prepares_itself_between_replies() -> None:
    class PreparingVoice(FakeVoice):
        def __init__(self) -> None:
            super().__init__()
            self.steps: list[tuple[float, int]] = []  # (when, texts spoken so far)

        def prepare_next(self) -> bool:
            self.steps.append((time.perf_counter(), len(self.texts)))
            return len(self.steps) < 3

    def reply_then_pause() -> Iterator[Sentence]:
        sentences = stamped(make_sentences(TEXTS[:2]))
        yield next(sentences)
        time.sleep(1.4)  # the agent thinks
        yield next(sentences)

    voice = PreparingVoice()
    report, _ = run(reply_then_pause(), voice=voice)
    assert len(report.timelines) == 2 and all(t.first_audio_at for t in report.timelines)
    # after a quiet second, before the second sentence came; never during a sentence
    assert voice.steps and all(n == 1 for _, n in voice.steps), voice.steps
    assert len(voice.steps) == 3  # the third said nothing was left: no more calls


def test_notice_sentences_from_the_text_half_are_translated_like_prose() -> None:
    s = [Sentence(text="The run failed.", kind=SentenceKind.NOTICE)]
    report, _ = run(s)
    assert report.timelines[0].translation == "THE RUN FAILED."
    assert report.timelines[0].extra["kind"] == "notice"
