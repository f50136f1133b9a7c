"""Per-project voices: stable, distinct while possible, overridable."""

from __future__ import annotations

from pathlib import Path

from yomiage.daemon.voices import choose_voice, read_overrides, stable_index

VOICES = ["kokoro:jf_alpha", "kokoro:jf_gongitsune", "kokoro:jf_nezumi", "kokoro:jm_kumo"]


def test_the_choice_is_stable_and_independent_of_the_hash_seed() -> None:
    first = choose_voice("/home/a/proj", VOICES)
    assert first == choose_voice("/home/a/proj/", VOICES)
    assert first == choose_voice("/home/a/proj", list(VOICES))
    assert stable_index("x", 7) == stable_index("x", 7)


def test_live_projects_get_distinct_voices_while_any_is_free() -> None:
    taken: list[str] = []
    for n in range(len(VOICES)):
        v = choose_voice(f"/src/project{n}", VOICES, taken)
        assert v is not None and v not in taken
        taken.append(v)
    assert choose_voice("/src/another", VOICES, taken) in VOICES  # all busy: shared


def test_projects_spread_over_the_voices() -> None:
    picks = {choose_voice(f"/src/p{n}", VOICES) for n in range(40)}
    assert picks == set(VOICES)


def test_override_wins(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('target_lang = "ja"\n[daemon_voices]\n"~/src/app" = "openjtalk"\n')
    over = read_overrides(cfg)
    assert choose_voice(str(Path.home() / "src" / "app"), VOICES, (), over) == "openjtalk"
    assert choose_voice("/elsewhere", VOICES, (), over) in VOICES
    assert choose_voice("/x", [], ()) is None


def test_config_loader_ignores_the_daemon_voices_table(tmp_path: Path) -> None:
    from yomiage.config import load_config

    cfg = tmp_path / "config.toml"
    cfg.write_text('daemon = "auto"\n[daemon_voices]\n"/a" = "espeak"\n')
    warnings: list[str] = []
    c = load_config(env={}, path=cfg, warn=warnings.append)
    assert c.daemon == "auto" and warnings == []


class _Voice:
    """A stand-in voice: the pool only keeps and hands out voices."""

    def __init__(self, name: str) -> None:
        self.name = name


def test_voice_pool_loads_each_voice_once_and_falls_back() -> None:
    from dataclasses import replace

    from yomiage.config import Config
    from yomiage.daemon.voices import VoicePool

    loads: list[str] = []

    def loader(cfg: Config, lang: str) -> _Voice:
        loads.append(cfg.voice)
        if cfg.voice == "kokoro:broken":
            raise RuntimeError("no such voice")
        return _Voice(cfg.voice)

    default = _Voice("kokoro:jf_alpha")
    pool = VoicePool(replace(Config(), voice="auto"), "ja", default, loader,
                     candidates=VOICES)
    a = pool.name_for("/src/a")
    b = pool.name_for("/src/b", taken=[a])
    assert a != b and {a, b} <= set(VOICES)
    assert pool.get(b).name == b and pool.get(b).name == b
    assert loads.count(b) == (0 if b == default.name else 1)
    assert pool.get("kokoro:broken") is default and pool.get("kokoro:broken") is default
    assert loads.count("kokoro:broken") == 1
    single = VoicePool(Config(voice="espeak"), "en", _Voice("espeak:en"), loader,
                       candidates=[])
    assert single.name_for("/src/a") == "espeak:en"


def test_kokoro_voices_of_a_project_share_the_loaded_model() -> None:
    from dataclasses import replace

    from yomiage.config import Config
    from yomiage.daemon.voices import VoicePool

    class Kokoroish(_Voice):
        def with_voice(self, voice: str) -> _Voice:
            if voice == "nope":
                raise ValueError("not installed")
            twin = Kokoroish(f"kokoro:{voice}")
            twin.model = self.model
            return twin

    default = Kokoroish("kokoro:jf_alpha")
    default.model = object()
    loads: list[str] = []
    pool = VoicePool(replace(Config(), voice="auto"), "ja", default,
                     lambda cfg, lang: loads.append(cfg.voice), candidates=VOICES)
    twin = pool.get("kokoro:jf_nezumi")
    assert twin.name == "kokoro:jf_nezumi" and twin.model is default.model and loads == []
    assert pool.get("kokoro:nope") is default
    pool.get("openjtalk")
    assert loads == ["openjtalk"]
