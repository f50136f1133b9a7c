"""Vocabulary maps built from a model's own vocabulary for the target script."""

from __future__ import annotations

from pathlib import Path

from yomiage.translate.vmap import (
    VMAP_LANG_FILE,
    ensure_vmap,
    japanese_kanji,
    vmap_lines,
    vmap_marker,
    vmap_tokens,
)

VOCAB = ["<s>", "<pad>", "</s>", "<unk>", "▁the", "▁テスト", "通", "り", "▁", ".", "。", "、",
         "12", "▁API", "▁CPUs", "eng_Latn", "jpn_Jpan", "__ja__", "▁тест", "▁테스트", "中"]


def test_japanese_keeps_kana_han_punctuation_and_acronyms() -> None:
    keep = set(vmap_tokens(VOCAB, "ja", "jpn_Jpan"))
    assert {"▁テスト", "通", "り", "中", "。", "、", ".", "12", "▁", "▁API", "</s>"} <= keep
    assert "jpn_Jpan" in keep
    assert not keep & {"▁the", "▁CPUs", "eng_Latn", "__ja__", "▁тест", "▁테스트", "<pad>"}


def test_russian_keeps_cyrillic_only() -> None:
    keep = set(vmap_tokens(VOCAB, "ru"))
    assert "▁тест" in keep and "▁テスト" not in keep and "▁the" not in keep


def test_one_constant_line() -> None:
    # Per-source rules would change the candidate set between calls, which CTranslate2
    # 4.8 cannot handle when the set shrinks; see test_vmap_survives_varying_inputs.
    for lang in ("ja", "fr", "ko"):
        lines = vmap_lines([*VOCAB, "x", "▁Y"], lang)
        assert len(lines) == 1 and lines[0].startswith("\t")
    assert {"x", "▁Y"} <= set(vmap_lines([*VOCAB, "x", "▁Y"], "ja")[0][1:].split(" "))


def test_ensure_vmap_writes_once_per_target(tmp_path: Path) -> None:
    assert ensure_vmap(tmp_path, VOCAB, "ja")
    first = (tmp_path / "vmap.txt").stat().st_mtime_ns
    assert ensure_vmap(tmp_path, VOCAB, "ja")
    assert (tmp_path / "vmap.txt").stat().st_mtime_ns == first
    assert ensure_vmap(tmp_path, VOCAB, "ko")
    assert "▁테스트" in (tmp_path / "vmap.txt").read_text(encoding="utf-8")
    assert not ensure_vmap(tmp_path / "missing", VOCAB, "ja")


def test_japanese_drops_chinese_only_han_tokens() -> None:
    vocab = [*VOCAB, "▁我们", "这", "说话", "时间", "時間", "国", "▁発表", "経済", "ので", "学习"]
    ja = set(vmap_tokens(vocab, "ja", "jpn_Jpan"))
    assert {"時間", "国", "▁発表", "経済", "ので", "中"} <= ja
    assert not ja & {"▁我们", "这", "说话", "时间", "学习"}
    # Chinese keeps them all.
    assert {"▁我们", "这", "说话", "时间", "時間"} <= set(vmap_tokens(vocab, "zh"))


def test_japanese_kanji_covers_jis_and_windows_932() -> None:
    assert all(japanese_kanji(ch) for ch in "日本語漢字経國髙𠮟")
    assert not any(japanese_kanji(ch) for ch in "们这说让认识")


def test_a_map_from_older_rules_is_rebuilt(tmp_path: Path) -> None:
    (tmp_path / "vmap.txt").write_text("\tstale\n", encoding="utf-8")
    (tmp_path / VMAP_LANG_FILE).write_text("ja\n")  # written by an older yomiage
    assert ensure_vmap(tmp_path, VOCAB, "ja")
    assert "stale" not in (tmp_path / "vmap.txt").read_text(encoding="utf-8")
    assert (tmp_path / VMAP_LANG_FILE).read_text() == vmap_marker("ja")
