"""The espeak-ng coprocess never gets out of step, whatever the text."""

from __future__ import annotations

import pytest

from yomiage.tts import ipa

pytestmark = pytest.mark.skipif(ipa.espeak_program() is None, reason="espeak-ng not installed")

TRIGGERS = ["Is it a?)qqqx", "Is it a。qqqx", "Is it a！qqqx", "Is it¿qqqx", "Yes¡qqqx",
            "QQQX", "q-q-q-x", "Is it a?)qqqz", "Is it a?)qqqf"]
PLAIN = ["Hello world.", "Good morning, everyone.", "Thank you very much."]


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_text_that_spells_a_sentinel_leaves_the_next_phrases_right(trigger: str) -> None:
    ipa.close_processes()
    for text in [PLAIN[0], trigger, *PLAIN]:
        assert ipa.espeak_ipa(text, "en-us") == ipa.espeak_ipa(text, "en-us", persistent=False)


def test_the_process_resynchronises_after_an_early_sentinel() -> None:
    exe = ipa.espeak_program()
    assert exe is not None
    proc = ipa.EspeakProcess(exe, "en-us")
    try:
        # Sent straight to the process (bypassing the guard), the text ends its own
        # answer early; every later request must still get its own phonemes.
        proc.ask("Is it a?)" + ipa.SENTINELS[1])
        for text in ["Good morning", "Thank you", "one two three"]:
            assert proc.ask(text) == ipa._ipa_once(exe, text, "en-us")
    finally:
        proc.close()
