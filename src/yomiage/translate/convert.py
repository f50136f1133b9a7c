"""Convert a Transformers translation checkpoint to CTranslate2 (needs the `convert` extra).

The tokenizer files are copied next to the converted model, so the engine needs only
SentencePiece at run time.
"""

from __future__ import annotations

import logging
from pathlib import Path

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
    copy = [name for name in TOKENIZER_FILES if (checkpoint / name).is_file()]
    log.info("converting %s to CTranslate2 (%s)", checkpoint, quantization)
    converter = TransformersConverter(str(checkpoint), copy_files=copy, load_as_float16=False)
    converter.convert(str(out_dir), quantization=quantization, force=True)
    return out_dir
