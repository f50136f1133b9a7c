"""Settings: defaults < config file (TOML) < environment (YOMIAGE_*) < command-line flags.

``load_config`` is the only place that merges them; every stage receives plain option
values from the resulting :class:`Config`.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, get_type_hints

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from platformdirs import user_cache_dir, user_config_dir

APP = "yomiage"
ENV_PREFIX = "YOMIAGE_"


@dataclass(frozen=True)
class Config:
    """Every user-settable option, with its default."""

    source_lang: str = "en"
    """Language the agent writes in (ISO 639-1)."""
    target_lang: str = "ja"
    """Language the listener hears (ISO 639-1)."""
    translator: str = "auto"
    """Translation engine: auto, ctranslate2, openvino (CPU), torch (CUDA) or none."""
    translation_model: str = "auto"
    """Model name from `yomiage models list`, a local directory, or auto (per pair)."""
    device: str = "auto"
    """auto, cpu or cuda."""
    compute_type: str = "auto"
    """CTranslate2/PyTorch precision: auto, int8, float16, bfloat16, float32, int8_float16."""
    gpu_compile: bool = True
    """PyTorch engines on a CUDA GPU: torch.compile / CUDA graphs, paid for at load
    (false = plain eager PyTorch; faster start, slower speech)."""
    beam_size: int = 1
    """1 = greedy decoding (fastest)."""
    threads: int = 0
    """Intra-op threads for translation and voice (0 = engine default for latency)."""
    cpu_bf16: bool = True
    """Kokoro on a CPU with bfloat16 units (AMX, AVX512-BF16) and OpenVINO installed: run
    its vocoder in bfloat16 (~1.3x faster; false = float32 throughout)."""
    voice: str = "auto"
    """Voice, e.g. kokoro:jf_alpha, piper:en_US-joe-medium, openjtalk, espeak:en.

    auto picks the best installed voice for the language."""
    speed: float = 1.0
    """Speaking rate multiplier."""
    volume: float = 1.0
    """Output gain (1.0 = unchanged)."""
    out: str | None = None
    """None = speakers; a .wav path; '-' = raw PCM on stdout; 'null' = discard."""
    tools: str = "none"
    """Tool calls: none or brief ("Reading main.py")."""
    thinking: bool = False
    """Speak the model's thinking too."""
    subagents: bool = False
    """Speak subagents' prose too."""
    announce_success: bool = False
    """Say so when a run ends well (failures are always announced)."""
    code_notice: bool = False
    """Say "code omitted" where a code block is skipped."""
    max_clause_chars: int = 120
    """Sentences longer than this are cut at clause boundaries so speech starts early."""
    stream_translation: bool = True
    """Start speaking a sentence's first translated phrase while the rest is decoded."""
    max_lag: float = 12.0
    """Live playback: drop the oldest pending speech beyond this many seconds (0 = never)."""
    interrupt: bool = True
    """A new user turn or run cuts the speech of the previous one."""
    max_sentences: int = 0
    """Speak at most this many sentences of each reply (0 = all)."""
    skip_code_heavy: bool = False
    """Skip replies that are mostly code."""
    timeline: str | None = None
    """Write each sentence's timeline as JSON lines to this file."""
    cache_dir: str = dataclasses.field(default_factory=lambda: user_cache_dir(APP))
    """Where downloaded models and the translation cache live."""
    offline: bool = False
    """Never try the network (also HF_HUB_OFFLINE=1)."""
    daemon: str = "off"
    """Clients (`yomiage [FILE|-]`, `yomiage say`): off = narrate in this process; on =
    hand the text to the shared daemon (starting one); auto = use a running daemon."""
    daemon_policy: str = "fair"
    """The daemon's order between sessions: fair (round-robin, whole replies), fifo, latest."""
    daemon_idle_timeout: float = 0.0
    """The daemon unloads its engines after this many idle seconds (0 = never)."""
    daemon_lead_in: bool = True
    """The daemon names the project when the voice changes to another session."""


def config_path() -> Path:
    """The user's config file (it need not exist)."""
    override = os.environ.get(ENV_PREFIX + "CONFIG")
    if override:
        return Path(override)
    return Path(user_config_dir(APP)) / "config.toml"


def _coerce(name: str, kind: Any, value: Any) -> Any:
    """Turn a file/env value into the field's type, or raise ValueError naming it."""
    text = str(value).strip()
    if kind is bool or kind == "bool":
        if isinstance(value, bool):
            return value
        low = text.lower()
        if low in {"1", "true", "yes", "on"}:
            return True
        if low in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"{name}: expected true or false, got {value!r}")
    if kind is int or kind == "int":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: expected a whole number, got {value!r}") from None
    if kind is float or kind == "float":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: expected a number, got {value!r}") from None
    if value is None or (text.lower() in {"", "none"} and "None" in str(kind)):
        return None
    return text


def _field_types() -> dict[str, Any]:
    hints = get_type_hints(Config)
    out: dict[str, Any] = {}
    for f in fields(Config):
        hint = hints[f.name]
        out[f.name] = hint if hint in (bool, int, float) else str(hint)
    return out


def load_config(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
    warn: Any = None,
) -> Config:
    """Merge defaults < TOML file < YOMIAGE_* environment < ``flags`` (None = not given).

    Unknown keys and bad values in the file or environment produce one warning each
    (through ``warn``, default stderr) and are ignored; bad flags raise ValueError.
    """
    env = os.environ if env is None else env
    path = config_path() if path is None else path
    say = warn or (lambda msg: print(f"yomiage: {msg}", file=sys.stderr))
    types = _field_types()
    values: dict[str, Any] = {}

    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            say(f"ignoring config file {path}: {exc}")
            data = {}
        for key, value in data.items():
            name = key.replace("-", "_")
            if name == "daemon_voices":  # a table, read by yomiage.daemon.voices
                continue
            if name not in types:
                say(f"config file {path}: unknown setting {key!r} ignored")
                continue
            try:
                values[name] = _coerce(name, types[name], value)
            except ValueError as exc:
                say(f"config file {path}: {exc}; using the default")

    for name, kind in types.items():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        try:
            values[name] = _coerce(name, kind, raw)
        except ValueError as exc:
            say(f"environment {ENV_PREFIX}{name.upper()}: {exc}; ignored")

    if env.get("HF_HUB_OFFLINE", "").strip() in {"1", "true", "TRUE", "yes"}:
        values.setdefault("offline", True)

    for name, value in (flags or {}).items():
        if value is None:
            continue
        if name not in types:
            raise ValueError(f"unknown option {name!r}")
        values[name] = _coerce(name, types[name], value)

    for name in ("cache_dir", "timeline"):  # "~/…" in a file, env or flag means home
        if isinstance(values.get(name), str):
            values[name] = os.path.expanduser(values[name])
    cfg = Config(**values)
    validate(cfg)
    return cfg


def validate(cfg: Config) -> None:
    """Raise ValueError naming the bad value and the valid ones."""
    choices = {
        "translator": {"auto", "ctranslate2", "openvino", "torch", "none"},
        "device": {"auto", "cpu", "cuda"},
        "tools": {"none", "brief"},
        "daemon": {"off", "on", "auto"},
        "daemon_policy": {"fair", "fifo", "latest"},
        "compute_type": {"auto", "int8", "int8_float32", "int8_float16", "int8_bfloat16",
                         "float16", "bfloat16", "float32"},
    }
    for name, allowed in choices.items():
        value = getattr(cfg, name)
        if value not in allowed:
            raise ValueError(f"{name}: {value!r} is not one of {', '.join(sorted(allowed))}")
    if cfg.speed <= 0 or cfg.speed > 4:
        raise ValueError(f"speed: {cfg.speed} is outside (0, 4]")
    if cfg.volume < 0 or cfg.volume > 4:
        raise ValueError(f"volume: {cfg.volume} is outside [0, 4]")
    if cfg.max_clause_chars < 20:
        raise ValueError(f"max_clause_chars: {cfg.max_clause_chars} is below 20")
    if cfg.daemon_idle_timeout < 0:
        raise ValueError(f"daemon_idle_timeout: {cfg.daemon_idle_timeout} is negative")
    if cfg.beam_size < 1:
        raise ValueError(f"beam_size: {cfg.beam_size} must be at least 1")
