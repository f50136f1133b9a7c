"""The pipeline with a streaming translator: speech starts on the first translated phrase."""

from __future__ import annotations

import time
from collections.abc import Iterator

from test_pipeline import FakeTranslator, FakeVoice, make_sentences, run
from yomiage.narrate.timeline import is_consistent


class StreamingTranslator(FakeTranslator):
    """Upper-cases text clause by clause (cut after ", "), ``piece_delay`` s per clause."""

    def __init__(self, piece_delay: float) -> None:
        super().__init__()
        self.piece_delay = piece_delay
        self.done_at: list[float] = []

    def translate_stream(self, text: str, src: str, tgt: str) -> Iterator[str]:
        parts = text.split(", ")
        for i, part in enumerate(parts):
            time.sleep(self.piece_delay)
            if "BOOM" in part:
                raise RuntimeError("model exploded")
            yield (part + (", " if i < len(parts) - 1 else "")).upper()
        self.done_at.append(time.perf_counter())


TEXT = "first clause here, second clause here, third clause here."


def test_first_chunk_plays_before_the_translation_is_finished() -> None:
    translator = StreamingTranslator(piece_delay=0.08)
    voice = FakeVoice(chunks=1, chunk_s=0.05)
    report, _ = run(make_sentences([TEXT]), translator=translator, voice=voice)
    tl = report.timelines[0]
    assert tl.extra.get("streamed") is True
    assert tl.first_audio_at is not None and tl.first_audio_at < translator.done_at[0] - 0.1
    assert "".join(voice.texts) == TEXT.upper()
    assert voice.texts[0] == "FIRST CLAUSE HERE, "
    assert tl.translation == TEXT.upper()
    assert is_consistent(tl)
    assert tl.translated_at is not None and tl.translated_at <= tl.first_audio_at
    assert isinstance(tl.extra.get("translated_all_at"), float)


def test_pieces_that_arrive_while_the_voice_is_busy_are_spoken_together() -> None:
    translator = StreamingTranslator(piece_delay=0.01)
    voice = FakeVoice(chunks=1, chunk_s=0.05, delay=0.1)  # slower than the decoder
    run(make_sentences([TEXT]), translator=translator, voice=voice)
    assert voice.texts == ["FIRST CLAUSE HERE, ", "SECOND CLAUSE HERE, THIRD CLAUSE HERE."]


def test_streaming_off_speaks_whole_translations() -> None:
    translator = StreamingTranslator(piece_delay=0.01)
    voice = FakeVoice(chunks=1)
    run(make_sentences([TEXT]), translator=translator, voice=voice, stream_translation=False)
    assert voice.texts == [TEXT.upper()]


def test_a_failure_mid_stream_keeps_what_was_spoken_and_the_run_goes_on() -> None:
    translator = StreamingTranslator(piece_delay=0.01)
    voice = FakeVoice(chunks=1)
    texts = ["good start, then BOOM here.", "the next one, fine."]
    report, _ = run(make_sentences(texts), translator=translator, voice=voice)
    assert report.timelines[0].error is not None and "exploded" in report.timelines[0].error
    assert voice.texts[0] == "GOOD START, "
    assert report.timelines[1].error is None
    assert report.timelines[1].translation == "THE NEXT ONE, FINE."


def test_the_sentence_due_next_is_streamed_alone_and_the_rest_batched_behind_it() -> None:
    translator = StreamingTranslator(piece_delay=0.02)
    translator.delay = 0.02  # a whole batch costs about one sentence
    voice = FakeVoice(chunks=2, chunk_s=0.05, delay=0.06)  # busy while the next is decoded
    texts = ["one, first.", "two, second.", "three, third.", "four, fourth."]
    report, _ = run(make_sentences(texts), translator=translator, voice=voice)
    tls = report.timelines
    # the second sentence was taken while the voice spoke the first: it still streams
    # alone instead of waiting for a batch with the two behind it
    assert tls[0].extra.get("streamed") and tls[1].extra.get("streamed")
    assert "batch" not in tls[1].extra
    assert translator.batches == [texts[2:]]
    assert [t.extra.get("batch") for t in tls[2:]] == [2, 2]
    assert "".join(voice.texts) == "".join(t.upper() for t in texts)  # order kept
    assert all(is_consistent(t) for t in tls)


def test_without_streaming_the_sentence_due_next_is_still_translated_alone() -> None:
    translator = StreamingTranslator(piece_delay=0.02)
    translator.delay = 0.02
    voice = FakeVoice(chunks=2, chunk_s=0.05, delay=0.06)
    texts = ["one, first.", "two, second.", "three, third.", "four, fourth."]
    run(make_sentences(texts), translator=translator, voice=voice,
        stream_translation=False)
    assert [c[0] for c in translator.calls] == texts[:2]  # one by one
    assert translator.batches == [texts[2:]]
    assert voice.texts == [t.upper() for t in texts]
