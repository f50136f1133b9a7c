"""Settings: defaults < config file (TOML) < environment (YOMIAGE_*) < command-line flags.

``load_config`` is the only place that merges them; every stage receives plain option
values from the resulting :class:`Config`.
"""

from __future__ import annotations

import dataclasses
import math
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
    cpu_int8: bool = True
    """With that bfloat16 vocoder (Japanese): its generator's residual convolutions in int8
    on the CPU's integer units (~1.35x faster vocoder; false = bfloat16 only)."""
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
    code_notice: str = "auto"
    """Where a skipped code block or table is announced ("Code omitted."): auto = only
    after a sentence ending in ":" that introduced it; always; never (true/false in a
    file or an environment variable mean always/never)."""
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


MAX_CONFIG_BYTES = 1_000_000
"""A config file larger than this is ignored (with a warning), never read whole."""


class SettingError(ValueError):
    """A setting's value is invalid; ``key`` names the setting (a Config field)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


def _coerce(name: str, kind: Any, value: Any) -> Any:
    """Turn a file/env/flag value into the field's type, or raise SettingError.

    Types are strict: a TOML list or table is never a string or a number, a boolean is
    never a number, and a number must be finite.
    """
    text = value.strip() if isinstance(value, str) else ""
    if isinstance(value, (list, dict, tuple, set)) or (
            not isinstance(value, (str, int, float, bool)) and value is not None):
        raise SettingError(name, f"expected a single value, got {value!r}")
    if kind is bool or kind == "bool":
        if isinstance(value, bool):
            return value
        low = text.lower()
        if low in {"1", "true", "yes", "on"}:
            return True
        if low in {"0", "false", "no", "off"}:
            return False
        raise SettingError(name, f"expected true or false, got {value!r}")
    if kind is int or kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(text)
            except ValueError:
                pass
        raise SettingError(name, f"expected a whole number, got {value!r}")
    if kind is float or kind == "float":
        number: float | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(text)
            except ValueError:
                number = None
        if number is None:
            raise SettingError(name, f"expected a number, got {value!r}")
        if not math.isfinite(number):
            raise SettingError(name, f"expected a finite number, got {value!r}")
        return number
    optional = "None" in str(kind)
    if value is None or (optional and text.lower() in {"", "none"}):
        if optional:
            return None
        raise SettingError(name, "a value is required")
    if not isinstance(value, str):
        raise SettingError(name, f"expected text, got {value!r}")
    if not text:
        raise SettingError(name, "expected text, got an empty value")
    return text


def _field_types() -> dict[str, Any]:
    hints = get_type_hints(Config)
    out: dict[str, Any] = {}
    for f in fields(Config):
        hint = hints[f.name]
        out[f.name] = hint if hint in (bool, int, float) else str(hint)
    return out


def _read_config_file(path: Path, say: Any) -> dict[str, Any]:
    """The file's table, or {} with one warning when it is too big or unreadable."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            say(f"ignoring config file {path}: {size} bytes, more than the "
                f"{MAX_CONFIG_BYTES} allowed")
            return {}
        with path.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:  # grew meanwhile, or not a regular file
            say(f"ignoring config file {path}: more than {MAX_CONFIG_BYTES} bytes")
            return {}
        return tomllib.loads(raw.decode("utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        say(f"ignoring config file {path}: {exc}")
        return {}


def _checked(name: str, kind: Any, value: Any) -> Any:
    """``value`` coerced to the field's type and checked (SettingError otherwise)."""
    if name == "code_notice" and (isinstance(value, bool) or str(value).strip().lower() in
                                  {"1", "true", "yes", "on", "0", "false", "no", "off"}):
        value = "always" if _coerce(name, bool, value) else "never"  # the old true/false
    value = _coerce(name, kind, value)
    if name in ("cache_dir", "timeline") and isinstance(value, str):
        value = os.path.expanduser(value)  # "~/…" in a file, env or flag means home
    check_setting(name, value)
    return value


def load_config(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
    warn: Any = None,
) -> Config:
    """Merge defaults < TOML file < YOMIAGE_* environment < ``flags`` (None = not given).

    Unknown keys and invalid values in the file or environment produce one warning each
    naming the source and the key (through ``warn``, default stderr), and the default
    (or the file's value, for the environment) is kept; an invalid flag raises
    :class:`SettingError` naming the setting. Files over ``MAX_CONFIG_BYTES`` are ignored.
    """
    env = os.environ if env is None else env
    path = config_path() if path is None else path
    say = warn or (lambda msg: print(f"yomiage: {msg}", file=sys.stderr))
    types = _field_types()
    values: dict[str, Any] = {}

    if path.is_file():
        for key, value in _read_config_file(path, say).items():
            name = key.replace("-", "_")
            if name == "daemon_voices":  # a table, read by yomiage.daemon.voices
                continue
            if name not in types:
                say(f"config file {path}: unknown setting {key!r} ignored")
                continue
            try:
                values[name] = _checked(name, types[name], value)
            except SettingError as exc:
                say(f"config file {path}: {exc}; using the default")

    for name, kind in types.items():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        try:
            values[name] = _checked(name, kind, raw)
        except SettingError as exc:
            say(f"environment {ENV_PREFIX}{name.upper()}: {exc.reason}; ignored")

    if env.get("HF_HUB_OFFLINE", "").strip() in {"1", "true", "TRUE", "yes"}:
        values.setdefault("offline", True)

    for name, value in (flags or {}).items():
        if value is None:
            continue
        if name not in types:
            raise SettingError(name, "unknown option")
        values[name] = _checked(name, types[name], value)

    cfg = Config(**values)
    validate(cfg)
    return cfg


_CHOICES = {
    "translator": {"auto", "ctranslate2", "openvino", "torch", "none"},
    "device": {"auto", "cpu", "cuda"},
    "tools": {"none", "brief"},
    "daemon": {"off", "on", "auto"},
    "daemon_policy": {"fair", "fifo", "latest"},
    "code_notice": {"auto", "always", "never"},
    "compute_type": {"auto", "int8", "int8_float32", "int8_float16", "int8_bfloat16",
                     "float16", "bfloat16", "float32"},
}
# name → (lowest, highest, lowest allowed itself); None = unbounded
_RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    "speed": (0.0, 4.0, False),
    "volume": (0.0, 4.0, True),
    "max_lag": (0.0, None, True),
    "daemon_idle_timeout": (0.0, None, True),
    "max_clause_chars": (20, None, True),
    "beam_size": (1, None, True),
    "threads": (0, None, True),
    "max_sentences": (0, None, True),
}


def check_setting(name: str, value: Any) -> None:
    """Raise SettingError when ``value`` is not valid for setting ``name``."""
    allowed = _CHOICES.get(name)
    if allowed is not None and value not in allowed:
        raise SettingError(name, f"{value!r} is not one of {', '.join(sorted(allowed))}")
    bounds = _RANGES.get(name)
    if bounds is None or not isinstance(value, (int, float)):
        return
    if not math.isfinite(value):
        raise SettingError(name, f"{value} is not a finite number")
    low, high, closed = bounds
    if low is not None and (value < low or (value == low and not closed)):
        raise SettingError(name, f"{value} must be {'at least' if closed else 'above'} {low:g}")
    if high is not None and value > high:
        raise SettingError(name, f"{value} must be at most {high:g}")


def validate(cfg: Config) -> None:
    """Raise SettingError naming the first bad value and the valid ones."""
    for f in fields(Config):
        check_setting(f.name, getattr(cfg, f.name))
