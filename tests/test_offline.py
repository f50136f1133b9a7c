"""Nothing leaves the machine: no connection and no name lookup outside model downloads.

Each command runs in a subprocess whose sitecustomize (tests/netaudit) records every
``socket.connect`` (except local AF_UNIX sockets) and ``socket.getaddrinfo`` through an
audit hook. Model downloads are the only allowed traffic; they are off here
(HF_HUB_OFFLINE=1), so any record at all is a failure. $HOME is a fresh folder, which
must stay empty of ``intel/`` (OpenVINO's telemetry files).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from yomiage.config import Config

AUDIT = Path(__file__).parent / "netaudit"
SRC = Path(__file__).resolve().parents[1] / "src"
ALLOWED_HOSTS = ("huggingface.co", "cdn-lfs.huggingface.co", "cas-bridge.xethub.hf.co")
STREAM = ('{"type":"assistant","message":{"id":"m1","role":"assistant","content":'
          '[{"type":"text","text":"The build passed. I fixed the parser."}]}}\n')


def _run(args: list[str], tmp: Path, timeout: float = 240) -> tuple[list[dict[str, str]],
                                                                      subprocess.CompletedProcess[str]]:
    home, log = tmp / "home", tmp / "net.jsonl"
    home.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update(HOME=str(home), YOMIAGE_NET_AUDIT=str(log), HF_HUB_OFFLINE="1",
               YOMIAGE_CACHE_DIR=Config().cache_dir,  # the installed models, if any
               PYTHONPATH=os.pathsep.join([str(AUDIT), str(SRC), env.get("PYTHONPATH", "")]))
    env.pop("HF_HUB_DISABLE_TELEMETRY", None)  # yomiage must set it itself
    proc = subprocess.run([sys.executable, *args], env=env, cwd=tmp, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    records = ([json.loads(line) for line in log.read_text().splitlines()]
               if log.exists() else [])
    return records, proc


def _outbound(records: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in records if r["event"] != "import"
            and not any(host in r["detail"] for host in ALLOWED_HOSTS)]


@pytest.mark.skipif(importlib.util.find_spec("openvino") is None, reason="no OpenVINO")
def test_importing_openvino_through_yomiage_sends_nothing(tmp_path: Path) -> None:
    records, proc = _run(["-c", "import yomiage, openvino, openvino.tools.ovc; "
                                "import huggingface_hub.constants as c; "
                                "assert c.HF_HUB_DISABLE_TELEMETRY"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert {"event": "import", "detail": "'openvino'"}.items() <= records[0].items()
    assert _outbound(records) == []
    assert not (tmp_path / "home" / "intel").exists()


@pytest.mark.slow
@pytest.mark.parametrize("args", [
    ["narrate", "s.ndjson", "--out", "x.wav"],
    ["say", "Hello there.", "--lang", "en", "--out", "say.wav"],
    ["demo", "--fast", "--out", "demo.wav"],
    ["doctor"],
], ids=["narrate", "say", "demo", "doctor"])
def test_commands_connect_nowhere(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "s.ndjson").write_text(STREAM)
    records, proc = _run(["-m", "yomiage.cli", "-q", *args], tmp_path)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1, 2), proc.stderr  # doctor: 1 = something to fix
    assert _outbound(records) == [], records
    assert not (tmp_path / "home" / "intel").exists()
