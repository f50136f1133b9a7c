#!/usr/bin/env bash
# First of two back-to-back device calls (carry .whl and .kokoro/a): with SMOKE=1 a
# random-weight Kokoro smoke run (graphs vs eager); the translation benchmark (unless
# SKIP_TRANSLATE=1); and the first half of the Kokoro ONNX file parked in /tmp for the
# second call (device_part2.sh).
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:src PYTHONUNBUFFERED=1
cp .kokoro/a/part /tmp/kokoro.part.a
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
if [ -n "${SMOKE:-}" ]; then
  timeout 300 python3 benchmarks/gpu/bench_kokoro.py --reps 2 \
    --out "$OUT/gpu_kokoro_h100_randomweights_smoke.json" > "$OUT/kokoro_smoke.log" 2>&1
  tail -c 3000 "$OUT/kokoro_smoke.log"
fi
if [ -z "${SKIP_TRANSLATE:-}" ]; then
  timeout 400 python3 benchmarks/gpu/bench_translate.py --out "$OUT/gpu_translate_h100.json" \
    > "$OUT/translate.log" 2>&1
  tail -c 5000 "$OUT/translate.log"
fi
