"""The cheap "already in the target language" check."""

from __future__ import annotations

import pytest

from yomiage.translate.languages import (
    LANGUAGES,
    M2M_CODES,
    NLLB_CODES,
    check_language,
    is_in_language,
)


def test_every_language_has_codes() -> None:
    assert set(NLLB_CODES) == set(LANGUAGES) == set(M2M_CODES)
    assert NLLB_CODES["ja"] == "jpn_Jpan" and M2M_CODES["ja"] == "__ja__"


@pytest.mark.parametrize(("text", "lang", "src", "expected"), [
    ("テストはすべて通りました。", "ja", "en", True),
    ("The tests pass now.", "ja", "en", False),
    ("ログの main を確認しました。", "ja", "en", True),
    ("中文测试通过了", "zh", "en", True),
    ("中文测试通过了", "ja", "en", False),  # Han without kana reads as Chinese
    ("테스트가 통과했습니다", "ko", "en", True),
    ("Тесты проходят", "ru", "en", True),
    ("Тесты проходят", "en", "ru", False),
    ("120 / 2.5 %", "ja", "en", True),  # no letters: nothing to translate
    ("The tests pass now.", "en", "ja", True),
    ("Los tests pasan y el build es rápido.", "en", "es", False),
    ("The tests pass and the build is fast.", "en", "es", True),
    ("Les tests passent et le build est rapide.", "fr", "en", True),
    ("این یک آزمایش کوچک است و پیچیده نیست", "fa", "ar", True),
    ("هذا اختبار صغير", "fa", "ar", False),
])
def test_is_in_language(text: str, lang: str, src: str, expected: bool) -> None:
    assert is_in_language(text, lang, src) is expected


def test_unknown_language_names_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"'xx' is not one of .*ja"):
        check_language("xx")
