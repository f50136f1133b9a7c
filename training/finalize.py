"""Make a trained checkpoint the shipped reference: float32 weights, the ``<pad>`` row
(the decoder's start token, never trained) set to zero as CTranslate2's Marian decoder
has it, one ``model.safetensors``, and the tokenizer files.

Usage::

    python training/finalize.py training/runs/mid2 training/runs/ship
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import torch
from transformers import MarianMTModel


def finalize(src: Path, dst: Path) -> Path:
    """Write the float32, zero-start checkpoint of ``src`` to ``dst``; returns ``dst``."""
    model = MarianMTModel.from_pretrained(str(src), dtype=torch.float32)
    with torch.no_grad():
        model.get_input_embeddings().weight[model.config.pad_token_id].zero_()
    model.config.dtype = "float32"
    dst.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(dst))
    for name in ("source.spm", "target.spm", "vocab.json", "tokenizer_config.json",
                 "train_log.json"):
        if (src / name).is_file():
            shutil.copy(src / name, dst / name)
    return dst


if __name__ == "__main__":
    finalize(Path(sys.argv[1]), Path(sys.argv[2]))
