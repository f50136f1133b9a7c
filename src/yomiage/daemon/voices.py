"""A distinct, stable voice per project (``cwd``), overridable in the config.

With several voices of the listener's language installed, each project gets one chosen by
a hash of its path — the same after restarts — moved to the next free voice while another
live project holds it. ``[daemon_voices]`` in the config file maps a project path to a
voice name. The loaded voices are kept (warm) in a small pool.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from yomiage.config import Config, config_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

log = logging.getLogger(__name__)

MAX_LOADED = 4
"""Voices kept loaded at once besides the default one."""


def stable_index(key: str, n: int) -> int:
    """A number in [0, n) that depends only on ``key`` (not on the process's hash seed)."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % n


def choose_voice(project: str, candidates: list[str], taken: Iterable[str] = (),
                 overrides: Mapping[str, str] | None = None) -> str | None:
    """The voice for ``project``: its override, else the hashed pick among ``candidates``
    moved on to the next one not in ``taken`` while any is free; None without candidates."""
    if overrides:
        key = normalise_project(project)
        for path, voice in overrides.items():
            if normalise_project(path) == key:
                return voice
    if not candidates:
        return None
    start = stable_index(normalise_project(project), len(candidates))
    busy = set(taken)
    for k in range(len(candidates)):
        name = candidates[(start + k) % len(candidates)]
        if name not in busy:
            return name
    return candidates[start]


def normalise_project(path: str) -> str:
    """``path`` without a trailing slash and with ``~`` expanded (the override key)."""
    p = str(Path(path).expanduser())
    return p.rstrip("/") or "/"


def read_overrides(path: Path | None = None) -> dict[str, str]:
    """The ``[daemon_voices]`` table of the config file (project path → voice)."""
    path = path or config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        log.warning("cannot read [daemon_voices] from %s: %s", path, exc)
        return {}
    table = data.get("daemon_voices", {})
    if not isinstance(table, dict):
        log.warning("%s: daemon_voices must be a table of project = voice", path)
        return {}
    return {str(k): str(v) for k, v in table.items() if isinstance(v, str)}


def _engine(name: str) -> str:
    return name.partition(":")[0]


class VoicePool:
    """The default voice plus per-project voices of one language, loaded on first use.

    A voice of the default voice's engine that can switch voices in place (Kokoro's
    ``with_voice``) shares its model; others are loaded with ``loader(cfg, lang)`` (which
    loads and warms one: ``narrate.engines.load_warm_voice``). A voice that fails to load
    is logged once and the default is used instead.
    """

    def __init__(self, cfg: Config, lang: str, default: Any,
                 loader: Callable[[Config, str], Any],
                 candidates: list[str] | None = None,
                 overrides: Mapping[str, str] | None = None) -> None:
        self.cfg = cfg
        self.lang = lang
        self.default = default
        self._loader = loader
        self._overrides = dict(overrides or {})
        if candidates is None:
            candidates = self._candidates()
        self.candidates = candidates
        self._loaded: dict[str, Any] = {default.name: default}
        self._failed: set[str] = set()
        self._lock = threading.Lock()

    def _candidates(self) -> list[str]:
        """Installed voices of the default voice's engine (per-project variety without a
        drop in quality); only when the config leaves the voice to yomiage."""
        if self.cfg.voice != "auto":
            return []
        from yomiage.tts.registry import installed_voices

        engine = _engine(self.default.name)
        return [v for v in installed_voices(self.cfg, self.lang) if _engine(v) == engine]

    def name_for(self, project: str, taken: Iterable[str] = ()) -> str:
        """The voice name ``project`` should use (default's name when there is no choice)."""
        if len(self.candidates) < 2 and not self._overrides:
            return str(self.default.name)
        return choose_voice(project, self.candidates, taken, self._overrides) or \
            str(self.default.name)

    def _sibling(self, name: str) -> Any:
        """``name`` made from the default voice's loaded model where its engine can switch
        voices in place (Kokoro: another style vector, no second model in memory)."""
        engine, _, ident = name.partition(":")
        maker = getattr(self.default, "with_voice", None)
        if callable(maker) and ident and engine == _engine(str(self.default.name)):
            return maker(ident)
        return None

    def get(self, name: str) -> Any:
        """The loaded voice ``name`` (loading it now), or the default one."""
        with self._lock:
            voice = self._loaded.get(name)
            if voice is not None:
                return voice
            if name in self._failed:
                return self.default
            try:
                voice = self._sibling(name) or self._loader(replace(self.cfg, voice=name),
                                                             self.lang)
            except Exception as exc:  # any engine failure: the default voice speaks
                log.warning("voice %s could not load (%s); using %s", name, exc,
                            self.default.name)
                self._failed.add(name)
                return self.default
            if len(self._loaded) > MAX_LOADED:
                for old in list(self._loaded):
                    if old != self.default.name:
                        del self._loaded[old]
                        break
            self._loaded[name] = voice
            return voice
