"""The overlapped narrator: sentences → translate → synthesize → sink, one thread per stage.

This is the only module that knows about threads and queues. Stages::

    source (read + segment)  ──► pending (lag-trimmable)  ──► translate ──► [2] ──►
    synthesize (chunk by chunk) ──► [audio chunks] ──► sink (write + play marks)

Sentence N+1 is translated and synthesized while N plays; a voice's first chunk goes to
the sink as soon as it exists. The reader never waits on a slow stage during live
playback (pending sentences are trimmed by the lag policy instead); for files it waits
only when ``max_pending`` sentences are queued. An engine error on one sentence is
logged in one line and the next sentence goes on. Every sentence gets a
:class:`~yomiage.records.Timeline`.

Example::

    report = Pipeline(PipelineOptions(live=False), translator, voice, sink).run(sentences)
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from typing import Any

from yomiage.audio.base import Sink, unheard_seconds
from yomiage.narrate.lag import LagPolicy, estimate_seconds, skip_notice
from yomiage.narrate.options import PipelineOptions, RunReport, sentences_from_lines
from yomiage.narrate.timeline import TimelineWindow
from yomiage.records import AudioChunk, Sentence, SentenceKind, Timeline
from yomiage.translate.base import Translator
from yomiage.translate.streaming import can_stream, translate_stream
from yomiage.tts.base import Voice
from yomiage.tts.prepare import IdlePreparer

log = logging.getLogger(__name__)

__all__ = ["Pipeline", "PipelineOptions", "RunReport", "sentences_from_lines"]

_DONE: Any = object()  # end-of-stream marker passed down the queues
_POLL = 0.05  # seconds between checks of the stop flag while blocked
JOIN_TIMEOUT_S = 0.5
"""After Ctrl-C, how long the stages get (in all) to end: one that is inside a long
native call is left, and the command then exits without interpreter finalisation
(see :func:`yomiage.cli.main`), which would abort under a running engine."""


@dataclass(eq=False)
class _Job:
    sentence: Sentence
    timeline: Timeline
    generation: int
    estimate: float
    translation: str | None = None  # preset for notices: already in the target language
    started: bool = False
    pieces: queue.Queue[Any] | None = None  # a streamed translation, piece by piece


class _Pending:
    """Sentences waiting for translation: a deque the lag policy can trim."""

    def __init__(self) -> None:
        self.items: deque[_Job] = deque()
        self.cond = threading.Condition()
        self.closed = False


class Pipeline:
    """Narrates sentences through a translator, a voice and a sink, stages overlapped.

    Engines must be loaded (and warmed) before :meth:`run`; the sink must be open.
    """

    def __init__(self, options: PipelineOptions, translator: Translator, voice: Voice,
                 sink: Sink, spill: Callable[[Timeline], None] | None = None) -> None:
        """``spill`` gets each finished timeline that leaves the bounded window
        (:class:`~yomiage.narrate.timeline.TimelineWindow`): the ``--timeline`` writer."""
        self.options = options
        self.translator = translator
        self.voice = voice
        self.sink = sink
        self._lag = LagPolicy(options.max_lag if options.live else 0.0,
                              options.source_lang, options.speed)
        self._pending = _Pending()
        self._translated: queue.Queue[Any] = queue.Queue(maxsize=options.translated_queue)
        self._audio: queue.Queue[Any] = queue.Queue(maxsize=options.audio_queue)
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        # Cleared while the voice works on a sentence's first chunk: translating the next
        # sentence then would share the cores and delay the sound that is due first.
        self._may_translate = threading.Event()
        self._may_translate.set()
        self._synth_busy = threading.Event()  # the voice is working on a sentence
        self._lock = threading.Lock()  # generation, in-flight set, timelines
        self._sink_lock = threading.Lock()  # a stale chunk never slips past an interrupt
        self._generation = 0
        self._turn: int | None = None
        self._inflight: dict[int, _Job] = {}
        self._unplayed: list[_Job] = []  # handed to the sink, end not yet heard
        self._queued_audio_s = 0.0  # seconds of chunks in the audio queue
        self._preparer = IdlePreparer(voice)  # the voice's warm-up steps in idle time
        self._timelines = TimelineWindow(spill=spill)  # bounded: flat memory for a week
        self.output_error: str | None = None
        """Why the sink refused audio (the run then stopped), None while it works."""
        self._streams = options.stream_translation and can_stream(translator)
        # Engines that can stream (greedy CTranslate2) decode sentences with different
        # length limits as separate batches anyway: a batch holding the sentence due next
        # would only make it wait for the others. Engines that batch for real (PyTorch on
        # a GPU) keep it in the batch.
        self._head_alone = can_stream(translator)

    # ----------------------------------------------------------------- public API
    def run(self, sentences: Iterable[Sentence]) -> RunReport:
        """Speak ``sentences`` (pulled lazily, on a thread of their own) until they end.

        Returns when everything queued has been written and played (EOF drain), or at
        once on Ctrl-C (``report.interrupted``; sound stopped, the sink left to close).
        """
        started = time.perf_counter()
        threads = [
            threading.Thread(target=self._guard, args=(self._read, sentences),
                             name="yomiage-read", daemon=True),
            threading.Thread(target=self._guard, args=(self._translate_loop,),
                             name="yomiage-translate", daemon=True),
            threading.Thread(target=self._guard, args=(self._synth_loop,),
                             name="yomiage-synth", daemon=True),
            threading.Thread(target=self._guard, args=(self._play_loop,),
                             name="yomiage-play", daemon=True),
        ]
        for t in threads:
            t.start()
        interrupted = False
        try:
            while threads[-1].is_alive():
                threads[-1].join(_POLL)
        except KeyboardInterrupt:
            interrupted = True
            self.abort()
        stopped = interrupted or self._stop.is_set()  # (Ctrl-C, or the output failed)
        unfinished = self._join(threads, JOIN_TIMEOUT_S if stopped else 5.0)
        with self._lock:
            timelines = sorted(self._timelines, key=lambda t: (t.read_at, t.seq))
            earlier = self._timelines.earlier if self._timelines.evicted else None
        return RunReport(timelines, time.perf_counter() - started, interrupted,
                         earlier=earlier, output_error=self.output_error,
                         unfinished=unfinished)

    @staticmethod
    def _join(threads: list[threading.Thread], timeout: float) -> list[str]:
        """Join the stage threads within ``timeout`` seconds in all; the names of those
        still running (a voice inside one long native call, a reader blocked on input).

        A second Ctrl-C while waiting gives up waiting (the threads are daemons)."""
        deadline = time.perf_counter() + timeout
        try:
            for t in threads:
                t.join(max(0.0, deadline - time.perf_counter()))
        except KeyboardInterrupt:
            pass
        return [t.name for t in threads if t.is_alive()]

    def abort(self) -> None:
        """Stop at once: silence the sink, drop everything queued, end the stages."""
        self._stop.set()
        self._cut("stopped")
        with self._pending.cond:
            self._pending.closed = True
            self._pending.cond.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is pending or being translated/synthesized; True if idle."""
        return self._idle.wait(timeout)

    # ------------------------------------------------------------------- stages
    def _guard(self, fn: Any, *args: Any) -> None:
        """Run a stage; an unexpected error ends the run cleanly instead of hanging it."""
        try:
            fn(*args)
        except Exception:
            log.exception("internal error in %s; stopping", threading.current_thread().name)
            self.abort()
            self._offer(self._translated, _DONE)
            self._offer(self._audio, _DONE)

    def _read(self, sentences: Iterable[Sentence]) -> None:
        try:
            for sentence in sentences:
                if self._stop.is_set():
                    break
                self._admit(sentence)
        finally:
            with self._pending.cond:
                self._pending.closed = True
                self._pending.cond.notify_all()

    def _admit(self, sentence: Sentence) -> None:
        opts = self.options
        if opts.live and opts.interrupt and self._turn is not None and sentence.turn > self._turn:
            self._cut("interrupted")
        self._turn = sentence.turn if self._turn is None else max(self._turn, sentence.turn)
        tl = Timeline(seq=sentence.seq, text=sentence.text, read_at=sentence.read_at,
                      segmented_at=sentence.segmented_at or None)
        if sentence.kind is not SentenceKind.PROSE:
            tl.extra["kind"] = sentence.kind.value
        job = _Job(sentence, tl, self._generation,
                   estimate_seconds(sentence.text, opts.source_lang, opts.speed))
        with self._lock:
            self._timelines.append(tl)
        cond = self._pending.cond
        with cond:
            while (not opts.live and len(self._pending.items) >= opts.max_pending
                   and not self._stop.is_set()):
                cond.wait(_POLL)
            job.generation = self._generation
            self._pending.items.append(job)
            self._idle.clear()
            cond.notify_all()

    def _take(self) -> _Job | None:
        """Next job to translate (after lag trimming), or None at the end."""
        cond = self._pending.cond
        with cond:
            while not self._pending.items and not self._pending.closed:
                cond.wait(_POLL)
            if not self._pending.items:
                return None
            pending = self._pending.items
            drop = self._lag.to_drop([j.sentence for j in pending], self._unspoken())
            dropped = [pending.popleft() for _ in range(drop)]
            job = pending.popleft()
            with self._lock:
                self._inflight[id(job)] = job
            cond.notify_all()
        if dropped:
            for d in dropped:
                d.timeline.skipped = True
                d.timeline.extra["reason"] = "lag"
            log.info("lag above %.0f s: skipped %d sentences", self.options.max_lag, len(dropped))
            notice = self._notice_job(len(dropped), job)
            cond = self._pending.cond
            with cond:  # speak the notice first, then the job
                pending.appendleft(job)
                with self._lock:
                    self._inflight.pop(id(job), None)
                    self._inflight[id(notice)] = notice
            return notice
        return job

    def _notice_job(self, count: int, before: _Job) -> _Job:
        text = skip_notice(count, self.options.target_lang)
        now = time.perf_counter()
        s = replace(before.sentence, text=text, kind=SentenceKind.NOTICE, read_at=now,
                    segmented_at=now)
        tl = Timeline(seq=before.sentence.seq, text=text, read_at=now, segmented_at=now,
                      extra={"kind": "notice", "skip_notice": count})
        with self._lock:
            self._timelines.append(tl)
        return _Job(s, tl, before.generation, estimate_seconds(text, self.options.target_lang),
                    translation=text)

    def _unspoken(self) -> float:
        """Seconds of speech on its way: in-flight jobs + what the sink has not played."""
        with self._lock:
            # audio already written is counted by the sink, the rest by estimate
            inflight = sum(max(0.0, j.estimate - j.timeline.audio_seconds)
                           for j in self._inflight.values())
        try:
            return inflight + self.sink.pending_seconds()
        except Exception:  # a sink that cannot tell is treated as caught up
            return inflight

    def _translate_loop(self) -> None:
        while (job := self._take()) is not None:
            if self._stale(job):
                continue
            if job.translation is None:
                # the sound due first gets the cores: wait for the voice's first chunk
                while not self._may_translate.wait(_POLL) and not self._stop.is_set():
                    pass
            # The sentence the voice needs next goes alone (streamed when it may be), so
            # that it never waits for the others; those already queued behind it while
            # the voice is busy follow as one batch.
            more = self._take_more()
            if job.translation is None and self._streams:
                self._translate_streaming(job)
            elif not self._head_alone:
                more = [job, *more]
            elif not self._deliver([job]):
                break
            if more and not self._deliver(more):
                break
        self._put(self._translated, _DONE)

    def _deliver(self, jobs: list[_Job]) -> bool:
        """Translate ``jobs`` (one call) unless they have a translation, then hand them to
        the voice in order; False once the run stops."""
        todo = [j for j in jobs if j.translation is None and not self._stale(j)]
        if todo:
            self._translate(todo)
        now = time.perf_counter()
        for j in jobs:
            if j.timeline.error is not None or self._stale(j):
                continue
            j.timeline.translated_at = j.timeline.translated_at or now
            j.timeline.translation = j.translation
            self._handing_over()
            if not self._put(self._translated, j):
                return False
        return True

    def _handing_over(self) -> None:
        """A job goes to an idle voice: its first chunk gets the cores from now on, not
        only once the voice thread has woken up and taken it (else the next translation
        could start in between)."""
        if not self._synth_busy.is_set() and self._translated.empty():
            self._may_translate.clear()

    def _take_more(self) -> list[_Job]:
        """While the voice is busy, the sentences queued behind the one taken are
        translated after it as one batch (a whole message often arrives at once; a batch
        costs far less than one by one)."""
        if self.options.translate_batch <= 1 or not self._synth_busy.is_set():
            return []
        more: list[_Job] = []
        with self._pending.cond:
            items = self._pending.items
            while items and len(more) < self.options.translate_batch - 1 \
                    and items[0].translation is None:
                more.append(items.popleft())
            with self._lock:
                for j in more:
                    self._inflight[id(j)] = j
            self._pending.cond.notify_all()
        return more

    def _translate(self, todo: list[_Job]) -> None:
        """Translate ``todo`` (one call); on a batch failure retry one by one."""
        opts = self.options
        started = time.perf_counter()
        for j in todo:
            j.timeline.extra["translate_start"] = started
        texts = [j.sentence.text for j in todo]
        try:
            if len(todo) == 1:
                outs = [self.translator.translate(texts[0], opts.source_lang, opts.target_lang)]
            else:
                outs = self.translator.translate_batch(texts, opts.source_lang,
                                                       opts.target_lang)
                if len(outs) != len(todo):
                    raise RuntimeError(f"{len(outs)} translations for {len(todo)} sentences")
        except Exception as exc:
            if len(todo) == 1:
                self._fail(todo[0], "translation", exc)
                return
            for j in todo:
                self._translate([j])
            return
        done = time.perf_counter()
        for j, out in zip(todo, outs, strict=True):
            j.translation = out
            j.timeline.translated_at = done
            if len(todo) > 1:
                j.timeline.extra["batch"] = len(todo)

    def _translate_streaming(self, job: _Job) -> None:
        """Translate one sentence piece by piece, handing each piece to the voice as soon
        as the decoder has written it. ``translated_at`` is the first piece's time.

        The sentence the voice needs next goes this way even while the voice is busy:
        pieces that arrive before the voice gets to it are spoken together (as a whole
        translation would be), and the voice can start on the first phrase of a sentence
        whose end is still being decoded instead of waiting for a whole batch."""
        opts, tl = self.options, job.timeline
        tl.extra["translate_start"] = time.perf_counter()
        tl.extra["streamed"] = True
        job.pieces = queue.Queue()
        if not self._put(self._translated, job):
            return
        parts: list[str] = []
        try:
            with closing(translate_stream(self.translator, job.sentence.text,
                                          opts.source_lang, opts.target_lang)) as stream:
                for piece in stream:
                    if job.generation != self._generation or self._stop.is_set():
                        break
                    tl.translated_at = tl.translated_at or time.perf_counter()
                    parts.append(piece)
                    job.pieces.put(piece)
        except Exception as exc:
            tl.error = f"translation: {exc}"
            log.warning("translation failed on sentence %d (%s): %s", job.sentence.seq,
                        job.sentence.text[:40], exc)
        finally:
            job.translation = tl.translation = "".join(parts).strip()
            tl.extra["translated_all_at"] = time.perf_counter()
            job.pieces.put(_DONE)

    def _texts(self, job: _Job) -> Iterator[str]:
        """What the voice speaks for ``job``: its translation, or for a streamed one each
        piece as it comes (pieces that arrived while the voice was busy go together)."""
        if job.pieces is None:
            yield job.translation or ""
            return
        while (piece := self._get(job.pieces)) not in (_DONE, None):
            batch = [piece]
            while True:
                try:
                    more = job.pieces.get_nowait()
                except queue.Empty:
                    break
                if more is _DONE:
                    yield "".join(batch)
                    return
                batch.append(more)
            yield "".join(batch)

    def _voice_idle(self) -> None:
        """While the voice waits for a sentence: it prepares itself once nothing has been
        queued or playing for a while (tts/prepare.py)."""
        if self._ahead() > 0:  # still playing: the idle second starts after
            self._preparer.busy()
        else:
            self._preparer.idle()

    def _synth_loop(self) -> None:
        while (job := self._get(self._translated, self._voice_idle)) is not _DONE:
            self._preparer.busy()
            if job is None:
                break
            if self._stale(job):
                self._may_translate.set()  # (cleared when the job was handed over)
                continue
            tl = job.timeline
            self._may_translate.clear()
            self._synth_busy.set()
            try:
                for text in self._texts(job):
                    tl.extra.setdefault("synth_start", time.perf_counter())
                    if not self._speak(job, text):
                        break
            except Exception as exc:
                tl.error = f"voice: {exc}"
                log.warning("voice %s failed on sentence %d: %s", self.voice.name,
                            job.sentence.seq, exc)
            finally:
                self._may_translate.set()
                self._synth_busy.clear()
            tl.extra["synth_end"] = time.perf_counter()
            self._preparer.busy()
            if not self._put(self._audio, (job, None)):
                break
        self._put(self._audio, _DONE)

    def _speak(self, job: _Job, text: str) -> bool:
        """Synthesize ``text`` chunk by chunk into the audio queue; False once the job is
        stale or the run stops."""
        for chunk in self.voice.stream(text, ahead_s=self._ahead()):
            self._may_translate.set()
            if self._stale(job):
                return False
            job.timeline.extra.setdefault("first_chunk_at", time.perf_counter())
            with self._lock:
                self._queued_audio_s += chunk.duration
            if not self._put(self._audio, (job, chunk)):
                return False
        return True

    def _ahead(self) -> float:
        """Seconds of speech made but not yet heard: chunks on their way to the sink and
        what the sink has not played (a WAV file: nobody waits, see unheard_seconds)."""
        with self._lock:
            queued = self._queued_audio_s
        return queued + unheard_seconds(self.sink)

    def _play_loop(self) -> None:
        job: _Job | None = None
        try:
            while (item := self._get(self._audio)) is not _DONE:
                if item is None:
                    return
                job, chunk = item
                if chunk is not None:
                    with self._lock:
                        self._queued_audio_s = max(0.0, self._queued_audio_s - chunk.duration)
                if chunk is None:
                    self._end_sentence(job)
                elif not self._stale(job):
                    self._write(job, chunk)
            if not self._stop.is_set():
                self.sink.drain()
        except OSError as exc:  # a full disk, a closed pipe: the run cannot go on
            self._output_failed(job, exc)

    def _output_failed(self, job: _Job | None, exc: OSError) -> None:
        """The sink cannot take audio: say so once, count it against the sentence being
        written (or the last one), and stop the run."""
        why = exc.strerror or str(exc) or type(exc).__name__
        if self.output_error is None:
            self.output_error = why
            log.error("cannot write the audio to %s: %s; stopping",
                      getattr(self.sink, "name", "the output"), why)
            with self._lock:
                kept = list(self._timelines) if job is None else []
                target = job.timeline if job is not None else (kept[-1] if kept else None)
            if target is not None and target.error is None:
                target.error = f"output: {why}"
        self.abort()

    def _write(self, job: _Job, chunk: AudioChunk) -> None:
        tl = job.timeline
        with self._sink_lock:
            if self._stale(job):
                return
            first = not job.started
            if first:
                job.started = True
                tl.first_audio_at = time.perf_counter()
                with self._lock:
                    self._unplayed = [j for j in self._unplayed
                                      if j.timeline.play_end_at is None]
                    self._unplayed.append(job)
            self.sink.write(chunk)
            if first:
                # A mark after the first chunk fires when that chunk has been heard; its
                # start is that moment less the chunk's length. (A mark before it would
                # fire one output buffer early on an idle live sink.)
                def on_start(t: float, tl: Timeline = tl, length: float = chunk.duration) -> None:
                    if not tl.skipped:
                        tl.play_start_at = max(t - length, tl.first_audio_at or t)

                self.sink.mark(on_start)
        tl.audio_seconds += chunk.duration

    def _end_sentence(self, job: _Job) -> None:
        tl = job.timeline
        if job.started and not self._stale(job):

            def on_end(t: float, tl: Timeline = tl) -> None:
                if not tl.skipped and "cut" not in tl.extra:
                    tl.play_end_at = max(t, tl.play_start_at or t)

            with self._sink_lock:
                self.sink.mark(on_end)
        self._finish(job)

    # ------------------------------------------------------------------ helpers
    def _fail(self, job: _Job, stage: str, exc: Exception) -> None:
        job.timeline.error = f"{stage}: {exc}"
        log.warning("%s failed on sentence %d (%s): %s", stage, job.sentence.seq,
                    job.sentence.text[:40], exc)
        self._finish(job)

    def _finish(self, job: _Job) -> None:
        with self._lock:
            self._inflight.pop(id(job), None)
            empty = not self._inflight
        with self._pending.cond:
            if empty and not self._pending.items:
                self._idle.set()

    def _stale(self, job: _Job) -> bool:
        if job.generation != self._generation or self._stop.is_set():
            self._finish(job)
            if not job.started and not job.timeline.skipped and job.timeline.error is None:
                job.timeline.skipped = True
                job.timeline.extra.setdefault("reason", "interrupted")
            return True
        return False

    def _cut(self, reason: str) -> None:
        """Drop everything queued or playing (new turn, Ctrl-C)."""
        with self._pending.cond:
            self._generation += 1
            dropped = list(self._pending.items)
            self._pending.items.clear()
            self._pending.cond.notify_all()
        for job in dropped:
            job.timeline.skipped = True
            job.timeline.extra["reason"] = reason
        with self._lock:
            cut = list(self._inflight.values()) + self._unplayed
            self._inflight.clear()
            self._unplayed = []
        for job in cut:  # audio already handed over but not (fully) heard
            tl = job.timeline
            if tl.play_end_at is not None or tl.skipped:
                continue
            if tl.play_start_at is None:
                tl.skipped = True
                tl.extra["reason"] = reason
            else:
                tl.extra["cut"] = reason
        self._idle.set()
        self._safe_stop()
        with self._sink_lock:  # a chunk written during the first stop() is cut too
            self._safe_stop()

    def _safe_stop(self) -> None:
        try:
            self.sink.stop()
        except Exception as exc:
            log.warning("could not stop the audio output: %s", exc)

    def _put(self, q: queue.Queue[Any], item: Any) -> bool:
        """Blocking put that gives up when the run stops; True if the item went in."""
        while True:
            try:
                q.put(item, timeout=_POLL)
                return True
            except queue.Full:
                if self._stop.is_set():
                    return self._offer(q, item)

    def _get(self, q: queue.Queue[Any], while_waiting: Callable[[], None] | None = None) -> Any:
        """Blocking get; None when the run stops. ``while_waiting`` runs at each poll
        that finds the queue empty."""
        while True:
            try:
                return q.get(timeout=_POLL)
            except queue.Empty:
                if self._stop.is_set():
                    return None
                if while_waiting is not None:
                    while_waiting()

    @staticmethod
    def _offer(q: queue.Queue[Any], item: Any) -> bool:
        try:
            q.put_nowait(item)
            return True
        except queue.Full:
            return False

