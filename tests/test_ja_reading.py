"""Latin-script words in Japanese text are read as Japanese developers say them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yomiage.tts.ja_reading import (
    integer_reading,
    is_acronym,
    japanese_reading,
    loanwords,
    split_words,
    token_reading,
    version_reading,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("READMEを更新し、pytestを実行しました。",
         "リードミーを更新し、パイテストを実行しました。"),
        ("GitHubのActionsを確認", "ギットハブのアクションズを確認"),
        ("JSONとAPIとSQL", "ジェイソンとエーピーアイとエスキューエル"),
        ("parse_date関数", "パース・デート関数"),
        ("datetime.fromisoformatで", "デートタイム・フロム・アイソ・フォーマットで"),
        ("getUserByIdは", "ゲット・ユーザー・バイ・アイディーは"),
        ("DATABASE_URLが", "データベース・ユーアールエルが"),
        ("main.pyの42行目", "メイン・ドット・パイの42行目"),
        ("src/utils/format.tsの関数", "フォーマット・ドット・ティーエスの関数"),
        ("Node.jsで", "ノードジェイエスで"),
        ("C++とC#", "シープラスプラスとシーシャープ"),
        ("v0.7.5に上げました", "バージョンゼロテンナナテンゴーに上げました"),
        ("バージョンをv0.7.5に", "バージョンをゼロテンナナテンゴーに"),
        ("2GBを超えて", "2ギガバイトを超えて"),
        ("120msに下がりました", "120ミリ秒に下がりました"),
        ("ＲＥＡＤＭＥ", "リードミー"),  # full-width Latin
        ("Pythonのバージョンは3.12です", "パイソンのバージョンはサンテンイチニーです"),
        ("約1.5倍", "約イチテンゴー倍"),
        ("400-458行目", "400から458行目"),  # OpenJTalk: ヨンゼロゼロ−…
        ("2〜3分、61-80%", "2から3分、61から80%"),
        ("3.10-3.12に対応", "サンテンイチゼロからサンテンイチニーに対応"),
        ("2025-12-01に公開", "2025年12月1日に公開"),
        ("x86-64版", "エックス・86・64版"),
        ("V8で", "ブイ・8で"),  # a name, not a version
        ("localhost:3001を開く", "ローカルホストの3001番ポートを開く"),
        ("Tailwind CSS v4 (v3から)", "テイルウィンド シーエスエス バージョン4 (バージョン3から)"),
        ("session_cwdを使う", "セッション・シーダブリューディーを使う"),  # no vowel: spelled
    ],
)
def test_readings(text: str, expected: str) -> None:
    assert japanese_reading(text) == expected


def test_japanese_without_latin_is_unchanged() -> None:
    for text in ("テストを実行しました。", "三件あります。", "42行目", "12:30に", ""):
        assert japanese_reading(text) == text


@given(st.text(alphabet="あいうえおかきくけこ漢字、。「」0123456789 "))
def test_text_without_latin_passes_through(text: str) -> None:
    assert japanese_reading(text) == text


def test_acronyms_are_spelled_words_are_not() -> None:
    assert is_acronym("CLI") and is_acronym("HTTP") and is_acronym("SDK")
    assert not is_acronym("README") and not is_acronym("DATABASE") and not is_acronym("Go")
    assert token_reading("XYZ") == "エックスワイゼット"
    assert token_reading("HTTPServer") == "エイチティーティーピー・サーバー"


def test_short_words_in_capitals_are_words_not_acronyms() -> None:
    """Emphasis and keywords in capitals ("do NOT", "ALL", SQL's AND) were spelled."""
    assert japanese_reading("絶対にNOTと書いてください。") == "絶対にノットと書いてください。"
    assert japanese_reading("ALLのテストとAND条件") == "オールのテストとアンド条件"
    assert token_reading("NO") == "ノー" and token_reading("PUT") == "プット"
    assert token_reading("SQL") == "エスキューエル" and token_reading("CLI") == "シーエルアイ"


def test_identifiers_split_into_words() -> None:
    assert split_words("parse_date") == ["parse", "date"]
    assert split_words("fix-login") == ["fix", "login"]
    assert split_words("HTTPServer") == ["HTTP", "Server"]
    assert split_words("useEffect") == ["useEffect"]  # a dictionary word stays whole


def test_numbers() -> None:
    assert integer_reading("12") == "ジュウニ"
    assert integer_reading("404") == "ヨンヒャクヨン"
    assert integer_reading("8601") == "ハッセンロッピャクイチ"
    assert integer_reading("0") == "ゼロ"
    assert version_reading("3.12.1") == "サンテンジュウニテンイチ"


def test_dictionary_is_katakana() -> None:
    table = loanwords()
    assert len(table) > 300
    for word, kana in table.items():
        assert kana and all("゠" <= c <= "ヿ" for c in kana), (word, kana)


def test_unknown_words_use_the_library() -> None:
    pytest.importorskip("e2k")
    out = japanese_reading("Kotlinとlambdaとframework")
    assert out.isascii() is False and not any(c.isascii() and c.isalpha() for c in out)


def test_japanese_voices_read_before_cutting_phrases() -> None:
    pytest.importorskip("pyopenjtalk")
    from yomiage.tts.openjtalk import OpenJTalkVoice

    voice = OpenJTalkVoice()
    for text in ("src/utils/format.tsの関数を整理しました。",
                 "READMEを更新し、pytestを実行しました。"):
        phrases = voice.phrases(text)
        assert phrases and not any(c.isascii() and c.isalpha() for p in phrases for c in p)
