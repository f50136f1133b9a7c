"""Lag control: how much unspoken speech is allowed, and what is said when some is dropped.

An agent writes faster than anyone speaks. During live playback the pipeline keeps the
unspoken speech (pending sentences' estimated duration + audio the sink has not played)
under ``max_lag`` seconds by dropping the oldest pending sentences and saying so, once,
in the listener's language. Files never skip. These are plain functions and a small
policy object; the pipeline owns the queues and the locking. (``max_sentences`` and
``skip_code_heavy`` are applied earlier, by the text half: see text/flow.py.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from yomiage.records import Sentence

# Speaking rate at speed 1.0, in characters of *source* text per second. Used only to
# estimate how long a sentence that is not synthesized yet will take to say.
_CHARS_PER_SECOND: dict[str, float] = {
    "ja": 7.0, "zh": 5.5, "ko": 7.0,
    "en": 14.0, "es": 14.0, "fr": 14.0, "de": 13.0, "it": 14.0, "pt": 14.0,
    "ru": 13.0, "tr": 13.0, "hi": 12.0, "ar": 12.0, "fa": 12.0,
}
_DEFAULT_CPS = 13.0

_EN_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
               "nine", "ten", "eleven", "twelve")


def _english(n: int) -> str:
    word = _EN_NUMBERS[n] if n < len(_EN_NUMBERS) else str(n)
    noun = "sentence" if n == 1 else "sentences"
    return f"Skipped {word} {noun}."


# The notice is spoken as is (no translation), so each supported target language has
# its own wording. Digits are read correctly by every voice of these languages.
_SKIP_NOTICE: dict[str, Callable[[int], str]] = {
    "en": _english,
    "ja": lambda n: f"{n}文を飛ばしました。",
    "zh": lambda n: f"跳过了{n}句。",
    "ko": lambda n: f"{n}문장을 건너뛰었습니다.",
    "es": lambda n: f"Se omitieron {n} frases." if n != 1 else "Se omitió una frase.",
    "fr": lambda n: f"{n} phrases sautées." if n != 1 else "Une phrase sautée.",
    "de": lambda n: f"{n} Sätze übersprungen." if n != 1 else "Ein Satz übersprungen.",
    "it": lambda n: f"Saltate {n} frasi." if n != 1 else "Saltata una frase.",
    "pt": lambda n: f"{n} frases puladas." if n != 1 else "Uma frase pulada.",
    "ru": lambda n: f"Пропущено предложений: {n}.",
    "tr": lambda n: f"{n} cümle atlandı.",
    "hi": lambda n: f"{n} वाक्य छोड़े गए।",
    "ar": lambda n: f"تم تخطي {n} جمل.",
    "fa": lambda n: f"{n} جمله رد شد.",
}


def skip_notice(count: int, lang: str) -> str:
    """The short sentence that says ``count`` sentences were skipped, in ``lang``.

    Unknown languages get the English wording. Example: ``skip_notice(3, "en")`` →
    ``"Skipped three sentences."``.
    """
    return _SKIP_NOTICE.get(lang, _english)(count)


def estimate_seconds(text: str, lang: str, speed: float = 1.0) -> float:
    """Rough speaking time of ``text`` (source language ``lang``) at ``speed``."""
    cps = _CHARS_PER_SECOND.get(lang, _DEFAULT_CPS) * max(speed, 0.1)
    return len(text) / cps


@dataclass
class LagPolicy:
    """Decides which pending sentences to drop so unspoken speech stays under ``max_lag``.

    ``max_lag`` ≤ 0 means never drop. The newest pending sentence is always kept.
    """

    max_lag: float
    lang: str
    speed: float = 1.0

    def to_drop(self, pending: Sequence[Sentence], unspoken_audio: float) -> int:
        """How many of the oldest ``pending`` sentences to drop.

        ``unspoken_audio`` is the audio already on its way (sink + synthesis), in seconds.
        """
        if self.max_lag <= 0 or len(pending) < 2:
            return 0
        durations = [estimate_seconds(s.text, self.lang, self.speed) for s in pending]
        total = unspoken_audio + sum(durations)
        drop = 0
        while total > self.max_lag and drop < len(pending) - 1:
            total -= durations[drop]
            drop += 1
        return drop

