"""The daemon's state and its one voice: sessions, the scheduler, engines, the sink.

:class:`Core` is what the socket server drives (``server.py`` only parses and answers).
One speaker thread takes the next sentence from the :class:`~.scheduler.Scheduler`,
translates it (streamed where the engine can), synthesizes it with the session's voice
and writes it to the sink, at most ``AHEAD_S`` seconds of audio ahead of what is heard.
Cuts (interrupt, stop, skip, pause) silence the sink; sentences of *other* sessions that
were cut before they were heard go back to the head of their queues, so those sessions
keep their place. Engines load on a thread of their own after the socket is bound
(messages queue meanwhile) and, with an idle timeout, unload and load again on demand.

Every sentence's fate can be written to a JSON-lines record (``record``): ``start`` (first
audio written), ``end`` (heard to its end), ``cut`` (silenced while playing), ``drop``
(never heard: interrupt, stop, lag) — the end-to-end tests and benchmarks read it.
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from yomiage.audio.base import unheard_seconds
from yomiage.config import Config
from yomiage.daemon.scheduler import Item, Scheduler
from yomiage.daemon.sessions import Session
from yomiage.daemon.voices import VoicePool, read_overrides
from yomiage.narrate.lag import LagPolicy, skip_notice
from yomiage.records import Sentence, SentenceKind
from yomiage.tts.prepare import IdlePreparer

log = logging.getLogger(__name__)

AHEAD_S = 1.5
"""Seconds of audio written ahead of what is heard (the next sentence is synthesized
while the current one ends; a cut never has much to throw away)."""
SESSION_TTL_S = 3600.0
"""A session silent this long, with nothing queued, is forgotten (its state freed)."""
MAX_QUEUED = 2000
"""Sentences one session may have queued; beyond, the oldest are dropped."""
_DONE: Any = object()  # end of a streamed translation
SENTENCE_KIND_PRIORITY = {SentenceKind.PROSE: "reply", SentenceKind.THINKING: "reply",
                          SentenceKind.TOOL: "tool", SentenceKind.NOTICE: "alert"}


@dataclass(eq=False)
class Utterance:
    """What an :class:`Item` carries: one sentence and how to say it."""

    text: str
    lang: str
    translate: bool
    generation: int
    kind: str = "prose"
    arrived: float = field(default_factory=time.perf_counter)
    first_of_reply: bool = False
    started: bool = False
    ended: bool = False
    cut: bool = False
    spoken: str = ""
    audio_s: float = 0.0
    lead_in: str = ""
    skipped: int = 0
    """For a lag notice: how many sentences it stands for."""


def lead_in_text(project: str, lang: str) -> str:
    """The short lead-in that names a project when the voice changes speaker."""
    return f"{project}：" if lang in ("ja", "zh") else f"{project}:"


class Core:
    """Sessions, scheduling and speech of one daemon (see the module docstring)."""

    def __init__(self, cfg: Config, *, policy: str = "fair", fair_unit: str = "reply",
                 idle_timeout: float = 0.0,
                 record: Path | None = None, lead_in: bool = True,
                 loader: Callable[[Config], Any] | None = None,
                 sink_opener: Callable[[Config, int], Any] | None = None) -> None:
        self.cfg = cfg
        self.policy = policy
        self.idle_timeout = idle_timeout
        self.lead_in = lead_in
        self.cond = threading.Condition()
        self.sched = Scheduler(policy, fair_unit)
        self.sessions: dict[str, Session] = {}
        self.paused = False
        self.started = time.monotonic()
        self.shutdown = threading.Event()
        self.engines: Any = None
        self.sink: Any = None
        self.load_error: str | None = None
        self.load_s: float | None = None
        self._loading = False
        self._loader = loader or functools.partial(_load_engines, warm=self._nothing_queued)
        self._sink_opener = sink_opener or _open_sink
        self._pools: dict[str, VoicePool] = {}
        # Lock order: cond before _sink_lock. _in_sink changes under _sink_lock.
        self._sink_lock = threading.RLock()
        self._in_sink: list[Item] = []  # written, end not heard yet (oldest first)
        self._current: Item | None = None  # being translated/synthesized
        self._last_speaker: str | None = None
        self._last_active = time.monotonic()
        self._preparer: IdlePreparer | None = None  # the voice's warm-up steps when idle
        self._pruned_at = 0.0
        self.first_audio_ms: deque[float] = deque(maxlen=10000)
        self._record: TextIO | None = None
        self._record_lock = threading.Lock()
        if record is not None:
            self._record = open(record, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._realtime = cfg.out in (None, "", "timing")
        self._lag = LagPolicy(cfg.max_lag if self._realtime else 0.0, cfg.source_lang,
                              cfg.speed)
        self._speaker = threading.Thread(target=self._speak_loop, name="yomiage-speaker",
                                         daemon=True)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start loading the engines and the speaker thread."""
        self.ensure_loaded()
        self._speaker.start()

    def ensure_loaded(self) -> None:
        """Load the engines on a thread unless they are loaded or loading."""
        with self.cond:
            if self.engines is not None or self._loading:
                return
            self._loading = True
        threading.Thread(target=self._load, name="yomiage-load", daemon=True).start()

    def _load(self) -> None:
        t0 = time.perf_counter()
        try:
            engines = self._loader(self.cfg)
            sink = self.sink or self._sink_opener(self.cfg, engines.voice.sample_rate)
        except Exception as exc:  # one line in the log; the daemon keeps answering
            log.error("cannot load the engines: %s", exc)
            with self.cond:
                self.load_error = str(exc)
                self._loading = False
                self.cond.notify_all()
            return
        pool = VoicePool(self.cfg, engines.voice.language, engines.voice, _load_voice,
                         overrides=read_overrides())
        with self.cond:
            self.engines, self.sink = engines, sink
            self._pools = {engines.voice.language: pool}
            self._preparer = IdlePreparer(engines.voice)
            self.load_error = None
            self.load_s = time.perf_counter() - t0
            self._loading = False
            self._last_active = time.monotonic()
            for s in self.sessions.values():
                s.voice = None  # chosen again among the voices now known
            self.cond.notify_all()
        log.info("engines ready in %.1f s: %s", self.load_s, engines.summary_line())

    def _nothing_queued(self) -> bool:
        """True while no speech waits (the engines' warm-up would only delay it)."""
        with self.cond:
            return self.sched.queued() == 0

    @property
    def ready(self) -> bool:
        """True once the engines and the sink are loaded."""
        return self.engines is not None

    def unload(self) -> None:
        """Drop the engines (idle timeout); the next message loads them again."""
        with self.cond:
            if self.engines is None or self._current is not None or self._in_sink:
                return
            self.engines = None
            self._pools = {}
            self._preparer = None
        gc.collect()
        log.info("idle for %.0f s: engines unloaded", self.idle_timeout)

    def close(self) -> None:
        """Stop speaking, close the sink and the record (the daemon is exiting)."""
        self.shutdown.set()
        with self.cond:
            self.cond.notify_all()
        if self._speaker.is_alive():
            self._speaker.join(2.0)
        sink = self.sink
        if sink is not None:
            try:
                sink.stop()
                sink.__exit__(None, None, None)
            except Exception as exc:
                log.warning("closing the audio output: %s", exc)
        if self._record is not None:
            with self._record_lock:
                self._record.close()
                self._record = None

    # ------------------------------------------------------------------- sessions
    def session(self, sid: str, msg: dict[str, Any] | None = None) -> Session:
        """The session ``sid`` (created on first use); must hold ``cond``."""
        s = self.sessions.get(sid)
        if s is None:
            s = self.sessions[sid] = Session(sid, self.cfg)
        msg = msg or {}
        s.touch(msg.get("cwd"), msg.get("project"), msg.get("agent"))
        self._last_active = time.monotonic()
        if s.voice is None and self.engines is not None:
            self._choose_voice(s)
        return s

    def _choose_voice(self, s: Session) -> None:
        """Pick ``s``'s voice now and load it in the background (a new project's first
        sentence then does not wait for its voice to load); must hold ``cond``."""
        pool = self._pools.get(self.engines.voice.language)
        if pool is None:
            return
        taken = [o.voice for o in self.sessions.values() if o.voice and o is not s]
        s.voice = pool.name_for(s.cwd or s.id, taken)
        if s.voice != pool.default.name:
            threading.Thread(target=pool.get, args=(s.voice,), name="yomiage-voice",
                             daemon=True).start()

    def queue_sentences(self, s: Session, sentences: list[Sentence], *,
                        priority: str | None = None, lang: str | None = None,
                        translate: bool = True) -> int:
        """Queue ``sentences`` of session ``s``; must hold ``cond``. Returns how many."""
        if not sentences:
            return 0
        for sen in sentences:
            prio = priority or SENTENCE_KIND_PRIORITY.get(sen.kind, "reply")
            key = (s.generation, sen.message_id or sen.turn)
            first = prio == "reply" and s.first_of(key)
            u = Utterance(sen.text, lang or self.cfg.source_lang, translate, s.generation,
                          kind=sen.kind.value, first_of_reply=first)
            self.sched.push(Item(s.id, prio, reply=key, payload=u))
        self._trim(s)
        self.cond.notify_all()
        if not self.ready:
            self.ensure_loaded()
        return len(sentences)

    def _trim(self, s: Session) -> None:
        """Lag control and the queue limit for session ``s``; must hold ``cond``.

        Beyond ``max_lag`` seconds of queued speech, the oldest sentences go and one
        notice ("Skipped three sentences.") takes their place — one for the session,
        counting every sentence skipped since it was last heard."""
        items = self.sched.items(s.id)
        over = len(items) - MAX_QUEUED
        if over > 0:
            for it in self.sched.trim(s.id, over):
                self._note_drop(it, "queue full")
        if self._lag.max_lag <= 0:
            return
        items = self.sched.items(s.id)
        notices = [i for i in items if i.payload.skipped]
        content = [i for i in items if i.priority != "alert" and not i.payload.skipped]
        drop = self._lag.to_drop([Sentence(i.payload.text) for i in content], 0.0)
        if drop <= 0:
            return
        dropped = content[:drop]
        for it in dropped:
            self._note_drop(it, "lag")
        count = drop + sum(n.payload.skipped for n in notices)
        lang = self._voice_lang()
        rest = [i for i in items if i not in dropped and i not in notices]
        first = next((i for i in rest if i.priority != "alert"), None)
        notice = Item(s.id, "reply", reply=first.reply if first else None, payload=Utterance(
            skip_notice(count, lang), lang, False, s.generation, kind="notice", skipped=count))
        at = rest.index(first) if first is not None else len(rest)
        self.sched.replace(s.id, [*rest[:at], notice, *rest[at:]])

    def _voice_lang(self) -> str:
        e = self.engines
        return str(e.target_lang) if e is not None else self.cfg.target_lang

    # ----------------------------------------------------------------------- cuts
    def interrupt(self, sid: str) -> int:
        """A new prompt in ``sid``: drop its queue and cut its sentence; returns how many
        sentences were dropped or cut."""
        with self.cond:
            s = self.sessions.get(sid)
            if s is None:
                return 0
            s.generation += 1
            dropped = self.sched.drop(sid)
            for it in dropped:
                self._note_drop(it, "interrupted")
            cut = self._cut_where(lambda it: it.session == sid, "interrupted")
            self.cond.notify_all()
        return len(dropped) + cut

    def stop(self, sid: str | None = None) -> int:
        """Silence and drop everything of ``sid`` (None: of everyone)."""
        with self.cond:
            targets = [sid] if sid is not None else list(self.sessions)
            for t in targets:
                if t in self.sessions:
                    self.sessions[t].generation += 1
            dropped = self.sched.drop(sid)
            for it in dropped:
                self._note_drop(it, "stopped")
            cut = self._cut_where(lambda it: sid is None or it.session == sid, "stopped")
            self.cond.notify_all()
        return len(dropped) + cut

    def skip(self) -> bool:
        """Cut the sentence now playing (the oldest one not yet heard to its end)."""
        with self.cond:
            playing = self._in_sink[0] if self._in_sink else self._current
            if playing is None:
                return False
            self._cut_where(lambda it: it is playing, "skipped")
            self.cond.notify_all()
        return True

    def pause(self) -> None:
        """Hold all speech; what was cut before it was heard is spoken after resume."""
        with self.cond:
            self.paused = True
            self._cut_where(lambda it: False, "paused")
            self.cond.notify_all()

    def resume(self) -> None:
        """Speak again after :meth:`pause`."""
        with self.cond:
            self.paused = False
            self.cond.notify_all()

    def forget(self, sid: str) -> None:
        """Drop ``sid``'s speech and state (its agent session ended)."""
        self.interrupt(sid)
        with self.cond:
            self.sched.forget(sid)
            self.sessions.pop(sid, None)

    def _cut_where(self, hit: Callable[[Item], bool], reason: str) -> int:
        """Cut the unheard items for which ``hit`` is true; the others cut with them by
        the sink's stop go back to the head of their queues. Must hold ``cond``."""
        unheard = [*self._in_sink]
        cur = self._current
        if cur is not None and cur not in unheard:
            unheard.append(cur)
        targets = [it for it in unheard if hit(it)]
        if not targets and reason != "paused":
            return 0
        with self._sink_lock:
            for it in unheard:
                it.payload.cut = True  # the speaker stops writing it
            if self.sink is not None:
                try:
                    self.sink.stop()
                except Exception as exc:
                    log.warning("could not stop the audio output: %s", exc)
            self._in_sink = []
        for it in reversed(unheard):
            if it in targets:
                self._note_cut(it, reason)
            else:
                it.payload = replace(it.payload, cut=False, started=False, ended=False,
                                     spoken="", audio_s=0.0, lead_in="")
                self.sched.push_front(it)
                self._write_record("requeue", it, reason=reason)
        return len(targets)

    # ------------------------------------------------------------------- speaking
    def _speak_loop(self) -> None:
        while not self.shutdown.is_set():
            item = self._next_item()
            if item is None:
                continue
            try:
                self._speak(item)
            except Exception as exc:  # an engine error on one sentence: log, go on
                log.warning("could not speak %r: %s", item.payload.text[:40], exc)
            finally:
                if self._preparer is not None:
                    self._preparer.busy()
                with self.cond:
                    self.sched.done(item, item.payload.audio_s)
                    if self._current is item:
                        self._current = None
                    self.cond.notify_all()
            self._wait_ahead()

    def _next_item(self) -> Item | None:
        with self.cond:
            while not self.shutdown.is_set():
                if self.ready and not self.paused and self.sched.queued():
                    item = self.sched.next()
                    if item is None:
                        continue
                    s = self.sessions.get(item.session)
                    if s is None or item.payload.generation != s.generation:
                        self.sched.done(item)
                        self._note_drop(item, "interrupted")
                        continue
                    self._current = item
                    return item
                self.cond.wait(0.2)
                self._prepare_when_idle()
                self._prune()
                if self.idle_timeout > 0 and self.ready and not self.sched.queued() and \
                        time.monotonic() - self._last_active > self.idle_timeout:
                    self.cond.release()
                    try:
                        self.unload()
                    finally:
                        self.cond.acquire()
        return None

    def _prepare_when_idle(self) -> None:
        """One of the voice's preparation steps, if nothing is queued or playing and has
        not been for a while (called by the speaker thread, holding ``cond``)."""
        prep = self._preparer
        if prep is None or prep.done or not self.ready or self.sched.queued():
            return
        if unheard_seconds(self.sink) > 0:  # still playing: the idle second starts after
            prep.busy()
            return
        self.cond.release()
        try:
            prep.idle()
        finally:
            self.cond.acquire()

    def _prune(self, now: float | None = None) -> list[str]:
        """Forget sessions silent for ``SESSION_TTL_S`` with nothing queued or playing
        (checked at most every 10 s); must hold ``cond``. Returns their ids."""
        now = time.monotonic() if now is None else now
        if now - self._pruned_at < 10.0:
            return []
        self._pruned_at = now
        old = [sid for sid, s in self.sessions.items()
               if now - s.last_seen > SESSION_TTL_S and self.idle(sid)]
        for sid in old:
            self.sched.forget(sid)
            del self.sessions[sid]
        if old:
            log.info("forgot %d idle sessions", len(old))
        return old

    def _wait_ahead(self) -> None:
        sink = self.sink
        while sink is not None and not self.shutdown.is_set():
            try:
                if sink.pending_seconds() <= AHEAD_S:
                    return
            except Exception:
                return
            time.sleep(0.01)

    def _voice_for(self, s: Session, lang: str) -> Any:
        pool = self._pools.get(lang)
        if pool is None:
            try:
                default = _load_voice(replace(self.cfg, voice="auto"), lang)
            except Exception as exc:
                log.warning("no %s voice (%s): using %s", lang, exc, self.engines.voice.name)
                return self.engines.voice
            pool = self._pools[lang] = VoicePool(self.cfg, lang, default, _load_voice,
                                                 overrides=read_overrides())
        if lang == self.engines.voice.language:
            if s.voice is None:
                with self.cond:
                    self._choose_voice(s)
            return pool.get(s.voice or str(pool.default.name))
        return pool.default

    def _speak(self, item: Item) -> None:
        u: Utterance = item.payload
        engines = self.engines
        with self.cond:
            s = self.sessions.get(item.session)
            if s is None or engines is None:
                return
            change = (self.lead_in and self._last_speaker is not None
                      and self._last_speaker != item.session
                      and len(self.sessions) > 1 and bool(s.project))
            self._last_speaker = item.session
        out_lang = engines.target_lang if u.translate else u.lang
        voice = self._voice_for(s, out_lang)
        if change:
            u.lead_in = lead_in_text(s.project, voice.language)
            for chunk in voice.stream(u.lead_in):
                if u.cut or self.shutdown.is_set():
                    return
                self._write(item, chunk)
        pieces = self._translated(engines, u) if u.translate else iter([u.text])
        for text in pieces:  # a streamed translation: each piece as the decoder writes it
            if u.cut or self.shutdown.is_set():
                return
            if not text.strip():
                continue
            u.spoken += text
            for chunk in voice.stream(text, ahead_s=unheard_seconds(self.sink)):
                if u.cut or self.shutdown.is_set():
                    return
                self._write(item, chunk)
        self._end(item)

    def _translated(self, engines: Any, u: Utterance) -> Iterator[str]:
        """The translation of ``u.text``. Where the engine streams, the pieces come as the
        decoder writes them, decoded on a thread of their own while the voice speaks the
        earlier ones (and it stops decoding once ``u`` is cut)."""
        from yomiage.translate.streaming import can_stream, translate_stream

        tr = engines.translator
        src, tgt = self.cfg.source_lang, engines.target_lang
        if not (self.cfg.stream_translation and can_stream(tr)):
            yield tr.translate(u.text, src, tgt)
            return
        q: queue.Queue[Any] = queue.Queue()

        def decode() -> None:
            try:
                with closing(translate_stream(tr, u.text, src, tgt)) as stream:
                    for piece in stream:
                        if u.cut or self.shutdown.is_set():
                            break
                        q.put(piece)
            except Exception as exc:  # one line; what was decoded is still spoken
                log.warning("translation failed on %r: %s", u.text[:40], exc)
            finally:
                q.put(_DONE)

        threading.Thread(target=decode, name="yomiage-decode", daemon=True).start()
        while (piece := q.get()) is not _DONE:
            yield piece

    def _write(self, item: Item, chunk: Any) -> None:
        u: Utterance = item.payload
        with self._sink_lock:
            if u.cut:
                return
            self.sink.write(chunk)
            first = not u.started
            if first:
                u.started = True
                self._in_sink.append(item)
        if first:
            wait = (time.perf_counter() - u.arrived) * 1000
            if u.first_of_reply:
                self.first_audio_ms.append(wait)
            self._write_record("start", item, wait_ms=round(wait, 1),
                               first_of_reply=u.first_of_reply)
        u.audio_s += chunk.duration
        s = self.sessions.get(item.session)
        if s is not None:
            s.spoken_s += chunk.duration

    def _end(self, item: Item) -> None:
        u: Utterance = item.payload
        if not u.started:
            return

        def on_end(_t: float) -> None:
            with self.cond:
                if u.cut or u.ended:
                    return
                u.ended = True
                with self._sink_lock:
                    if item in self._in_sink:
                        self._in_sink.remove(item)
                s = self.sessions.get(item.session)
                if s is not None:
                    s.sentences += 1
                self._last_active = time.monotonic()
                self.cond.notify_all()
            self._write_record("end", item)

        if not u.cut:  # (a cut after this check: on_end sees u.cut and does nothing)
            self.sink.mark(on_end)

    # ------------------------------------------------------------------- records
    def _note_drop(self, item: Item, reason: str) -> None:
        self._write_record("drop", item, reason=reason)

    def _note_cut(self, item: Item, reason: str) -> None:
        self._write_record("cut" if item.payload.started else "drop", item, reason=reason)

    def _write_record(self, event: str, item: Item, **extra: Any) -> None:
        if self._record is None:
            return
        u: Utterance = item.payload
        row = {"t": time.time(), "perf": time.perf_counter(), "event": event,
               "session": item.session, "priority": item.priority, "kind": u.kind,
               "text": u.text, "spoken": u.spoken, "audio_s": round(u.audio_s, 3),
               "lead_in": u.lead_in, **extra}
        with self._record_lock:
            if self._record is not None:
                self._record.write(json.dumps(row, ensure_ascii=False) + "\n")

    # -------------------------------------------------------------------- status
    def idle(self, sid: str | None = None) -> bool:
        """True when ``sid`` (None: anyone) has nothing queued or unheard; hold ``cond``."""
        busy = [*self._in_sink, *([self._current] if self._current else [])]
        if sid is None:
            return not self.sched.queued() and not busy
        return not self.sched.queued(sid) and not any(i.session == sid for i in busy)

    def status(self) -> dict[str, Any]:
        """The ``status`` reply's fields."""
        with self.cond:
            now = time.monotonic()
            sessions = [{
                "session": s.id, "project": s.project, "agent": s.agent, "voice": s.voice,
                "queued": self.sched.queued(s.id), "spoken_s": round(s.spoken_s, 2),
                "sentences": s.sentences, "last_seen_s": round(now - s.last_seen, 1),
            } for s in self.sessions.values()]
            speaking = (self._in_sink[0].session if self._in_sink else
                        self._current.session if self._current else None)
            engines = self.engines.describe() if self.engines is not None else None
            prepared = self._preparer is not None and self._preparer.done
            lat = sorted(self.first_audio_ms)
        return {
            "pid": os.getpid(), "uptime_s": round(time.monotonic() - self.started, 1),
            "ready": engines is not None, "load_error": self.load_error,
            "load_s": None if self.load_s is None else round(self.load_s, 2),
            "voice_prepared": prepared,
            "engines": engines, "out": self.cfg.out or "speakers", "policy": self.policy,
            "fair_unit": self.sched.unit,
            "paused": self.paused, "speaking": speaking, "rss_mb": rss_mb(),
            "first_audio_ms": {"p50": _pct(lat, 50), "p95": _pct(lat, 95), "n": len(lat)},
            "sessions": sessions,
        }


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return round(values[k], 1)


def rss_mb() -> float:
    """This process's resident memory in MiB (0 where it cannot be read)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            pages = int(f.read().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except (OSError, ValueError, IndexError):
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def _load_engines(cfg: Config, warm: Callable[[], bool] | None = None) -> Any:
    from yomiage.narrate.engines import load_engines

    engines = load_engines(cfg, degrade=True, warm=warm)
    for note in engines.notes:
        log.warning("%s", note)
    return engines


def _load_voice(cfg: Config, lang: str) -> Any:
    from yomiage.narrate.engines import load_warm_voice

    return load_warm_voice(cfg, lang)


def _open_sink(cfg: Config, rate: int) -> Any:
    from yomiage.narrate.output import open_output

    sink, _ = open_output(cfg, rate)
    sink.__enter__()
    return sink
