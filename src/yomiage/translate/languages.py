"""Language codes of each model family, and a cheap check of which script a text is in.

Every public function takes ISO 639-1 codes ("en", "ja", …); the tables map them to
NLLB-200 codes (``jpn_Jpan``) and M2M-100 tokens (``__ja__``).
"""

from __future__ import annotations

import re
import unicodedata

LANGUAGES: dict[str, str] = {
    "en": "English", "ja": "Japanese", "zh": "Chinese", "ko": "Korean", "es": "Spanish",
    "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese", "hi": "Hindi",
    "ar": "Arabic", "tr": "Turkish", "fa": "Persian", "ru": "Russian",
}

NLLB_CODES: dict[str, str] = {
    "en": "eng_Latn", "ja": "jpn_Jpan", "zh": "zho_Hans", "ko": "kor_Hang", "es": "spa_Latn",
    "fr": "fra_Latn", "de": "deu_Latn", "it": "ita_Latn", "pt": "por_Latn", "hi": "hin_Deva",
    "ar": "arb_Arab", "tr": "tur_Latn", "fa": "pes_Arab", "ru": "rus_Cyrl",
}

M2M_CODES: dict[str, str] = {lang: f"__{lang}__" for lang in LANGUAGES}

#: Script each language is written in (what a vocabulary map keeps, what passthrough checks).
SCRIPTS: dict[str, str] = {
    "en": "Latin", "es": "Latin", "fr": "Latin", "de": "Latin", "it": "Latin", "pt": "Latin",
    "tr": "Latin", "ja": "Japanese", "zh": "Han", "ko": "Hangul", "hi": "Devanagari",
    "ar": "Arabic", "fa": "Arabic", "ru": "Cyrillic",
}

# A few very frequent function words per Latin-script language: enough to tell
# "already in the target language" from "needs translating" for a sentence.


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words("the and is are to of in that it this for with you not be on was"),
    "es": _words("el la los las y es son de que en un una por para con no se"),
    "fr": _words("le la les et est sont de des que un une pour avec pas dans ce il"),
    "de": _words("der die das und ist sind nicht ein eine mit für auf zu den dem ich"),
    "it": _words("il lo la gli le e è sono di che un una per con non nel della"),
    "pt": _words("o a os as e é são de que um uma para com não em do da"),
    "tr": _words("ve bir bu da de için ile değil çok ne gibi olan daha ama"),
}

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def check_language(lang: str) -> str:
    """Return ``lang`` if it is supported, else raise ValueError listing the valid codes."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {', '.join(sorted(LANGUAGES))}")
    return lang


def char_script(ch: str) -> str | None:
    """The script of one letter (Latin, Kana, Han, Hangul, Cyrillic, Arabic, Devanagari)."""
    cp = ord(ch)
    if cp < 0x250:
        return "Latin" if ch.isalpha() else None
    if 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0xFF66 <= cp <= 0xFF9D:
        return "Kana"
    if 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF:
        return "Han"
    if 0xAC00 <= cp <= 0xD7AF or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F:
        return "Hangul"
    if 0x0400 <= cp <= 0x052F:
        return "Cyrillic"
    if 0x0600 <= cp <= 0x06FF or 0x0750 <= cp <= 0x077F or 0xFB50 <= cp <= 0xFEFF:
        return "Arabic"
    if 0x0900 <= cp <= 0x097F:
        return "Devanagari"
    if ch.isalpha():
        name = unicodedata.name(ch, "")
        return "Latin" if "LATIN" in name else "Other"
    return None


def script_counts(text: str) -> dict[str, int]:
    """How many letters of each script ``text`` holds (digits and punctuation ignored)."""
    counts: dict[str, int] = {}
    for ch in text:
        script = char_script(ch)
        if script is not None:
            counts[script] = counts.get(script, 0) + 1
    return counts


def _latin_vote(text: str, langs: tuple[str, ...]) -> str | None:
    words = [w.lower() for w in _WORD.findall(text)]
    scores = {lang: sum(w in _STOPWORDS[lang] for w in words) for lang in langs}
    best = max(scores, key=lambda k: scores[k])
    ranked = sorted(scores.values(), reverse=True)
    return best if ranked[0] > 0 and ranked[0] > ranked[1] else None


def is_in_language(text: str, lang: str, src: str | None = None) -> bool:
    """True when ``text`` already reads as ``lang`` (so translating it would be wasted).

    Text with no letters at all (numbers, symbols) counts as being in every language.
    For two Latin-script languages, frequent function words decide; a tie means False.
    """
    counts = script_counts(text)
    letters = sum(counts.values())
    if letters == 0:
        return True
    script = SCRIPTS[lang]
    if lang == "ja":
        japanese = counts.get("Kana", 0) + counts.get("Han", 0)
        return counts.get("Kana", 0) > 0 and japanese * 2 >= letters
    if lang == "zh":
        return counts.get("Kana", 0) == 0 and counts.get("Han", 0) * 2 >= letters
    share = counts.get(script, 0) * 2 >= letters
    if not share:
        return False
    if script == "Arabic":
        persian = sum(text.count(c) for c in "پچژگکی")
        return (persian > 0) == (lang == "fa") if src in ("ar", "fa") else True
    if script == "Latin":
        if src is None or src == lang or SCRIPTS.get(src) != "Latin":
            return True
        return _latin_vote(text, (lang, src)) == lang
    return True
