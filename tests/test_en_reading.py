"""English voices' reading of code names, UTC offsets and standards (issue 17)."""

from __future__ import annotations

import pytest

from yomiage.tts.en_reading import english_reading, say_words, split_compound, spoken_forms


@pytest.mark.parametrize(("text", "said"), [
    ("Call datetime.fromisoformat here.", "Call date time from iso format here."),
    ("The parse_date helper.", "The parse date helper."),
    ("Set MAX_RETRIES now.", "Set MAX RETRIES now."),
    ("Use getUserName and os.path.join.", "Use get User Name and os path join."),
    ("It ran json.dumps on it.", "It ran json dumps on it."),
    ("Offset +09:00 here.", "Offset UTC plus 9 here."),
    ("At 10:00-05:30 sharp.", "At 10:00 UTC minus 5 30 sharp."),
    ("See ISO 8601 and RFC 3339, PEP 8.", "See ISO 8 6 0 1 and RFC 3 3 3 9, PEP 8."),
    ("Read lines 400-458, a 5-10% drop in 2-3.5 s.",
     "Read lines 400 to 458, a 5 to 10% drop in 2 to 3.5 s."),
    ("It takes 2+ minutes on v4 (version v0.7.5).",
     "It takes 2 or more minutes on version 4 (version 0.7.5)."),
    ("x86-64, UTF-8, V8 and 2025-12-01 stay.", "x86-64, U T F 8, V8 and 2025-12-01 stay."),
    ("Open localhost:3001, not 127.0.0.1:8080, at 12:30.",
     "Open localhost port 3001, not 127.0.0.1 port 8080, at 12:30."),
])
def test_english_reading(text: str, said: str) -> None:
    assert english_reading(text) == said


@pytest.mark.parametrize("text", [
    "Edit main.py and NavUser.tsx on github.com.",
    "Version 0.7.5 costs 3.14 ms, e.g. at 12:30 or 8:00 - 09:00.",
    "Plain words stay as they are.",
    "Launched in 2024 with 8601 users.",
])
def test_what_voices_already_say_well_is_left(text: str) -> None:
    assert english_reading(text) == text


def test_split_compound_only_when_covered() -> None:
    assert split_compound("fromisoformat") == "from iso format"
    assert split_compound("getattr") == "get attr"
    assert split_compound("basicconfig") == "basic config"
    assert split_compound("kubernetes") == "kubernetes"  # not covered: left whole
    assert split_compound("format") == "format"


@pytest.mark.parametrize(("text", "said"), [
    ("Run pytest, then mypy.", "Run pie test, then my pie."),
    ("Errors go to stderr; PYTEST too.", "Errors go to standard error; pie test too."),
    ("print to sys.stdout", "print to sys standard out"),  # a part of a dotted name
    ("the CLI and read_stdin", "the C L I and read standard in"),
    ("pytest-cov, my_pytest and pytest.ini", "pie test-cov, my pie test and pie test.ini"),
    ("utf-8 is not a pytestify or a.pytest", "U T F 8 is not a pytestify or a.pytest"),
])
def test_words_espeak_says_wrongly_are_said_as_developers_say_them(text: str, said: str) -> None:
    assert english_reading(text) == said


def test_spoken_forms_table_is_clean() -> None:
    forms = spoken_forms()
    assert len(forms) >= 20
    for word, spoken in forms.items():
        assert word == word.lower() and spoken and spoken != word
        assert say_words(word) == spoken
