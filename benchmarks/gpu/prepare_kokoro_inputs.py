"""Phonemize the Japanese benchmark sentences here (the GPU machine has no OpenJTalk).

Writes benchmarks/gpu/kokoro_inputs_ja.json: for each sentence, its phrases (as the voice
cuts them) with Kokoro token ids, the jf_alpha style row and the engine's per-token
duration caps, plus the time the frontend
(G2P + ids) took on this CPU for the first phrase, to add to GPU first-chunk figures.

    .venv/bin/python benchmarks/gpu/prepare_kokoro_inputs.py
"""

from __future__ import annotations

import json
import platform
import subprocess
import time
from pathlib import Path

from yomiage.tts.kokoro.frontend import KokoroFrontend
from yomiage.tts.kokoro.onnx_voice import frame_caps
from yomiage.tts.phrases import split_phrases

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "kokoro_inputs_ja.json"
VOICE = "jf_alpha"


def main() -> None:
    fe = KokoroFrontend.from_package()
    lines = (
        (ROOT / "src/yomiage/data/bench_sentences_ja.txt").read_text(encoding="utf-8").splitlines()
    )
    sentences = [ln.strip() for ln in lines if ln.strip()]
    fe.encode("こんにちは。", VOICE)  # load the dictionary before timing
    items = []
    for text in sentences:
        phrases = []
        for i, phrase in enumerate(split_phrases(text)):
            t0 = time.perf_counter()
            x = fe.encode(phrase, VOICE)
            dt = time.perf_counter() - t0
            phrases.append(
                {
                    "text": phrase,
                    "phonemes": x.phonemes,
                    "tokens": x.tokens[0].tolist(),
                    "style": [round(float(v), 6) for v in x.style[0]],
                    "caps": [float(c) for c in frame_caps(x.tokens, fe.vocab)[0]],
                    "frontend_ms": round(dt * 1000, 3) if i == 0 else None,
                }
            )
        items.append({"text": text, "phrases": phrases})
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpu.splitlines() if "Model name" in ln),
        platform.processor(),
    )
    OUT.write_text(
        json.dumps({"voice": VOICE, "frontend_cpu": model, "sentences": items}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    first = sorted(s["phrases"][0]["frontend_ms"] for s in items)
    print(
        f"{len(items)} sentences; first-phrase frontend P50 "
        f"{first[len(first) // 2]:.2f} ms on {model}"
    )


if __name__ == "__main__":
    main()
