#!/usr/bin/env bash
# Second device call, within 30 s of device_part1.sh (carry .whl and .kokoro/b): rebuild
# the Kokoro ONNX file, then the real-weight Kokoro benchmark (unless SKIP_KOKORO=1) and
# the first-audio benchmark (extra flags in E2E_ARGS, e.g. "--quick --watchdog
# $OUT/stacks.txt"; its JSON is $OUT/${E2E_NAME:-gpu_e2e_h100}.json).
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:src PYTHONUNBUFFERED=1
cat /tmp/kokoro.part.a .kokoro/b/part > /tmp/kokoro.onnx || exit 1
echo "$(cat .kokoro/b/sha256)  /tmp/kokoro.onnx" | sha256sum -c || exit 1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
if [ -z "${SKIP_KOKORO:-}" ]; then
  timeout 300 python3 benchmarks/gpu/bench_kokoro.py --onnx /tmp/kokoro.onnx --prev \
    ${KOKORO_ARGS:-} --out "$OUT/gpu_kokoro_h100.json" > "$OUT/kokoro.log" 2>&1
  tail -c 4000 "$OUT/kokoro.log"
fi
# shellcheck disable=SC2086
timeout "${E2E_TIMEOUT:-480}" python3 benchmarks/gpu/bench_e2e.py --onnx /tmp/kokoro.onnx \
  ${E2E_ARGS:-} --out "$OUT/${E2E_NAME:-gpu_e2e_h100}.json" > "$OUT/e2e.log" 2>&1
echo "bench_e2e exit status: $?"
tail -c 6000 "$OUT/e2e.log"
