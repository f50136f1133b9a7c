"""Convert a Transformers translation checkpoint to CTranslate2 (needs the `convert` extra).

The tokenizer files are copied next to the converted model, so the engine needs only
SentencePiece at run time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TOKENIZER_FILES = (
    "source.spm", "target.spm", "sentencepiece.bpe.model", "spm.128k.model",
    "vocab.json", "tokenizer_config.json", "special_tokens_map.json",
)
INSTALL_HINT = "pip install 'yomiage[convert]'"


def convert_checkpoint(checkpoint: Path, out_dir: Path, quantization: str = "int8") -> Path:
    """Write a CTranslate2 model of ``checkpoint`` to ``out_dir``; returns ``out_dir``.

    Weights are stored as ``quantization`` (int8 by default: smallest on disk;
    CTranslate2 converts to float16 at load on a GPU). Raises ImportError with the
    install command when Transformers or PyTorch are missing.
    """
    try:
        from ctranslate2.converters import TransformersConverter
    except ImportError as exc:  # pragma: no cover - ctranslate2 is a core dependency
        raise ImportError(f"converting needs ctranslate2: {INSTALL_HINT}") from exc
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{checkpoint.name} is a Transformers checkpoint; converting it needs "
            f"transformers and torch: {INSTALL_HINT}"
        ) from exc
    class Converter(TransformersConverter):
        def load_tokenizer(self, tokenizer_class: Any, name: str, **kwargs: Any) -> Any:
            return _TokenizerView(super().load_tokenizer(tokenizer_class, name, **kwargs))

    copy = [name for name in TOKENIZER_FILES if (checkpoint / name).is_file()]
    log.info("converting %s to CTranslate2 (%s)", checkpoint, quantization)
    converter = Converter(str(checkpoint), copy_files=copy, load_as_float16=False)
    converter.convert(str(out_dir), quantization=quantization, force=True)
    return out_dir


class _TokenizerView:
    """A tokenizer as CTranslate2's converter expects it from Transformers 4.

    Transformers 5 no longer lists extra special tokens (M2M-100's ``__en__`` …) in
    ``special_tokens_map``; the converter relies on that list to add the language
    tokens to the vocabulary, so without it an M2M-100 model would lose them.
    """

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tokenizer, name)

    @property
    def special_tokens_map(self) -> dict[str, Any]:
        mapping = dict(self._tokenizer.special_tokens_map)
        if not mapping.get("additional_special_tokens"):
            extra = list(getattr(self._tokenizer, "extra_special_tokens", None) or [])
            extra += [t for t in getattr(self._tokenizer, "lang_token_to_id", {})
                      if t not in extra]
            mapping["additional_special_tokens"] = extra
        return mapping
