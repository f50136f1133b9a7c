"""The PyTorch greedy decoder gives the same token ids as Transformers' greedy generate."""

from __future__ import annotations

import json
import math
import shutil
import threading
import time
from pathlib import Path

import pytest
import torch
from transformers import (
    LogitsProcessor,
    LogitsProcessorList,
    M2M100Config,
    M2M100ForConditionalGeneration,
    MarianConfig,
    MarianMTModel,
)

from yomiage.config import Config
from yomiage.gpu import FairLock
from yomiage.translate.token_engine import DecodeOptions
from yomiage.translate.torch.engine import TorchTranslator, load_torch_translator
from yomiage.translate.torch.greedy import GreedyDecoder

VOCAB = 96
PAD, EOS, LANG = 1, 2, 90


def _tiny(family: str, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    common = dict(
        vocab_size=VOCAB,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=128,
        pad_token_id=PAD,
        eos_token_id=EOS,
        bos_token_id=0,
        decoder_start_token_id=EOS,
    )
    if family == "marian":
        cfg = MarianConfig(**{**common, "decoder_start_token_id": PAD})
        model: torch.nn.Module = MarianMTModel(cfg)
        model.final_logits_bias.normal_(0, 0.5)  # exercise the bias path
    else:
        model = M2M100ForConditionalGeneration(M2M100Config(**common))
    # larger weights so that random models pick varied tokens rather than repeat one
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0, 0.3)
    return model.eval()


class _Only(LogitsProcessor):
    def __init__(self, allowed: torch.Tensor) -> None:
        self.allowed = allowed

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        masked = torch.full_like(scores, float("-inf"))
        masked[:, self.allowed] = scores[:, self.allowed]
        return masked


def _reference(
    model: torch.nn.Module, family: str, src: list[int], max_new: int, allowed: torch.Tensor | None
) -> list[int]:
    kwargs: dict[str, object] = {}
    if family == "m2m":
        kwargs["forced_bos_token_id"] = LANG
    if allowed is not None:
        kwargs["logits_processor"] = LogitsProcessorList([_Only(allowed)])
    out = model.generate(  # type: ignore[operator]
        torch.tensor([src]),
        do_sample=False,
        num_beams=1,
        max_new_tokens=max_new,
        min_new_tokens=0,
        suppress_tokens=[PAD],
        forced_eos_token_id=None,
        no_repeat_ngram_size=0,
        repetition_penalty=1.0,
        bad_words_ids=None,
        length_penalty=1.0,
        pad_token_id=PAD,
        eos_token_id=EOS,
        **kwargs,
    )
    return out[0, 1:].tolist()


@pytest.mark.parametrize("family", ["marian", "m2m"])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("restricted", [False, True])
def test_greedy_ids_match_transformers(family: str, seed: int, restricted: bool) -> None:
    model = _tiny(family, seed)
    gen = torch.Generator().manual_seed(100 + seed)
    src = torch.randint(
        3, VOCAB - 10, (int(torch.randint(4, 20, (1,), generator=gen)),), generator=gen
    ).tolist()
    src.append(EOS)
    allowed = None
    if restricted:
        allowed = torch.unique(
            torch.cat([torch.tensor([EOS, LANG]), torch.randperm(VOCAB, generator=gen)[:40]])
        )
        allowed = allowed[allowed != PAD]
    full = torch.tensor([i for i in range(VOCAB) if i != PAD])
    start = PAD if family == "marian" else EOS
    prefix = [start] if family == "marian" else [start, LANG]
    max_new = 30
    dec = GreedyDecoder(model, family, max_src=64, max_tgt=64, extra_slots=8 if restricted else 0)
    fixed, extra = full, []
    if allowed is not None:  # the last few allowed ids come per call, as source-copy tokens do
        extra = [i for i in allowed.tolist() if i not in (EOS, LANG)][-3:]
        fixed = torch.tensor([i for i in allowed.tolist() if i not in extra])
    ours = dec.generate(
        src, prefix, max_new, vocab_key=restricted, vocab_ids=fixed, extra_ids=extra
    )
    assert ours == _reference(model, family, src, max_new, allowed)
    # reading ids back every few steps (as on CUDA) stops at the same EOS
    lazy = GreedyDecoder(
        model, family, max_src=64, max_tgt=64, check_every=3, extra_slots=8 if restricted else 0
    )
    assert (
        lazy.generate(src, prefix, max_new, vocab_key=0, vocab_ids=fixed, extra_ids=extra) == ours
    )
    # the decoder is reused across calls: a second input (and no extra ids) must still match
    src2 = src[::-1]
    allowed2 = fixed if allowed is not None else None
    assert dec.generate(src2, prefix, max_new, vocab_key=restricted, vocab_ids=fixed) == _reference(
        model, family, src2, max_new, allowed2
    )


_CORPUS = [
    "The tests pass now and the build takes two minutes less.",
    "I updated the config file and restarted the server.",
    "Let me check the logs for errors in main.py.",
    "テストが通りました。",
    "ビルドは二分短くなりました。",
    "設定ファイルを更新してサーバーを再起動しました。",
]


@pytest.fixture(scope="module")
def tiny_marian_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight Marian checkpoint with a real SentencePiece tokenizer."""
    import sentencepiece as spm
    from transformers import MarianTokenizer

    root = tmp_path_factory.mktemp("marian")
    (root / "corpus.txt").write_text("\n".join(_CORPUS * 10), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(root / "corpus.txt"),
        model_prefix=str(root / "sp"),
        vocab_size=100,
        character_coverage=1.0,
        model_type="unigram",
        hard_vocab_limit=False,
        bos_id=-1,
        eos_id=-1,
        unk_id=0,
        pad_id=-1,
        minloglevel=2,
    )
    ckpt = root / "hf"
    ckpt.mkdir()
    for name in ("source.spm", "target.spm"):
        shutil.copy(root / "sp.model", ckpt / name)
    proc = spm.SentencePieceProcessor(model_file=str(root / "sp.model"))
    vocab = {"</s>": 0, "<unk>": 1, "<pad>": 2}
    for i in range(proc.get_piece_size()):
        vocab.setdefault(proc.id_to_piece(i), len(vocab))
    (ckpt / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    MarianTokenizer(
        source_spm=str(ckpt / "source.spm"),
        target_spm=str(ckpt / "target.spm"),
        vocab=str(ckpt / "vocab.json"),
    ).save_pretrained(str(ckpt))
    torch.manual_seed(7)
    cfg = MarianConfig(
        vocab_size=len(vocab),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=256,
        pad_token_id=2,
        eos_token_id=0,
        decoder_start_token_id=2,
    )
    model = MarianMTModel(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2 and "embed_positions" not in name:
                p.normal_(0, 0.3)
    model.save_pretrained(str(ckpt))
    return root


def test_marian_checkpoint_translates_like_transformers(tiny_marian_dir: Path) -> None:
    from transformers import AutoTokenizer

    engine = load_torch_translator(tiny_marian_dir, None, Config(device="cpu"))
    hf_tok = AutoTokenizer.from_pretrained(str(tiny_marian_dir / "hf"))
    model = MarianMTModel.from_pretrained(str(tiny_marian_dir / "hf")).eval()
    for text in _CORPUS[:3]:
        src_ids = engine._ids(engine.tokenizer.encode(text, "en", "de"))
        assert src_ids == hf_tok(text).input_ids
        n_max = math.ceil(len(src_ids) * engine.options.max_ratio) + engine.options.max_extra
        ref = model.generate(
            torch.tensor([src_ids]),
            do_sample=False,
            num_beams=1,
            max_new_tokens=n_max,
            suppress_tokens=[2],
            bad_words_ids=None,
            forced_eos_token_id=None,
        )
        assert engine.generate_ids(text, "en", "de") == ref[0, 1:].tolist()
        assert (
            engine.translate(text, "en", "de")
            == hf_tok.decode(ref[0], skip_special_tokens=True).strip()
        )
    assert engine.translate("same", "en", "en") == "same"
    assert engine.describe()["engine"] == "torch"


def test_forced_ratio_sets_output_length(tiny_marian_dir: Path) -> None:
    engine = TorchTranslator(tiny_marian_dir, device="cpu", options=DecodeOptions(forced_ratio=1.5))
    text = _CORPUS[0]
    n_in = len(engine.tokenizer.encode(text, "en", "de"))
    assert len(engine.generate_ids(text, "en", "de")) == round(n_in * 1.5)


def test_missing_checkpoint_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"config\.json"):
        TorchTranslator(tmp_path, device="cpu")


def test_stops_after_eos_like_transformers() -> None:
    """Give EOS just enough logit bias to win at one later step; both ways of reading ids
    back (every step, every third step) stop where Transformers stops."""
    src = [5, 9, 14, 22, 31, 40, 47, 53, EOS]
    full = torch.tensor([i for i in range(VOCAB) if i != PAD])
    for seed in range(3, 12):
        model = _tiny("marian", seed)
        out = model.generate(  # type: ignore[operator]
            torch.tensor([src]),
            do_sample=False,
            num_beams=1,
            max_new_tokens=30,
            suppress_tokens=[PAD],
            forced_eos_token_id=None,
            bad_words_ids=None,
            output_scores=True,
            return_dict_in_generate=True,
        )
        margins = [float(sc[0].max() - sc[0, EOS]) for sc in out.scores]
        k = min(range(len(margins)), key=margins.__getitem__)
        if k >= 2 and min(margins[:k]) > margins[k] + 1e-3:
            with torch.no_grad():
                model.final_logits_bias[0, EOS] += margins[k] + 5e-4
            break
    else:
        pytest.fail("no tiny model found whose EOS can win at a later step")
    ref = _reference(model, "marian", src, 30, None)
    assert ref[-1] == EOS and len(ref) == k + 1
    for every in (1, 3):
        dec = GreedyDecoder(model, "marian", max_src=32, max_tgt=32, check_every=every)
        assert dec.generate(src, [PAD], 30, vocab_ids=full) == ref


@pytest.mark.parametrize("family", ["marian", "m2m"])
def test_static_encoder_matches_transformers_and_ignores_right_padding(family: str) -> None:
    """The graph-friendly encoder equals Transformers' on an unpadded input, and a
    right-padded input (as the CUDA graph buckets run it) leaves the real positions as
    they were."""
    from yomiage.translate.torch.decoder import StaticEncoder

    model = _tiny(family, 3)
    src = [5, 17, 33, 8, 61, 12, EOS]
    ids = torch.tensor([src])
    with torch.no_grad():
        ref = model.get_encoder()(input_ids=ids, attention_mask=torch.ones_like(ids))  # type: ignore[operator]
    enc = StaticEncoder(model, family, max_src=32)
    ours = enc(ids, torch.ones_like(ids))
    torch.testing.assert_close(ours, ref.last_hidden_state, rtol=1e-5, atol=1e-5)
    padded = torch.tensor([src + [PAD] * 9])
    keep = padded != PAD
    out = enc(padded, keep)
    assert out.shape[1] == 16
    torch.testing.assert_close(out[:, : len(src)], ours, rtol=1e-5, atol=1e-5)


def test_translator_describes_compile_setting(tiny_marian_dir: Path) -> None:
    """On the CPU nothing is compiled or graphed, whatever the setting asks."""
    engine = TorchTranslator(tiny_marian_dir, device="cpu", compile=True)
    info = engine.describe()
    assert info["compiled_step"] is False and info["cuda_graphs"] is False


@pytest.mark.parametrize("family", ["marian", "m2m"])
@pytest.mark.parametrize("ignore_eos", [False, True])
def test_streamed_ids_join_to_generate(family: str, ignore_eos: bool) -> None:
    """Chunks read back every step (or every third) join to generate()'s ids, forced
    prefix first; several chunks come, so a caller can act before the end."""
    model = _tiny(family, 5)
    src = [7, 19, 23, 41, 8, 30, EOS]
    prefix = [PAD] if family == "marian" else [EOS, LANG]
    full = torch.tensor([i for i in range(VOCAB) if i != PAD])
    dec = GreedyDecoder(model, family, max_src=32, max_tgt=32)
    whole = dec.generate(src, prefix, 20, vocab_ids=full, ignore_eos=ignore_eos)
    for every in (1, 3):
        chunks = list(dec.stream_ids(src, prefix, 20, vocab_ids=full, ignore_eos=ignore_eos,
                                     every=every))
        assert chunks[0] == prefix[1:]
        assert [i for c in chunks for i in c] == whole
        if len(whole) - len(prefix) + 1 > every:
            assert len(chunks) > 2


def test_translate_stream_joins_to_translate(tiny_marian_dir: Path) -> None:
    engine = TorchTranslator(tiny_marian_dir, device="cpu")
    assert engine.streams()
    engine.device = torch.device("cuda")  # streamed on the GPU too (H100 run, 2026-11-25)
    assert engine.streams()
    engine.device = torch.device("cpu")
    for text in _CORPUS[1:2]:
        pieces = list(engine.translate_stream(text, "en", "de"))
        assert "".join(pieces) == engine.translate(text, "en", "de")
    assert list(engine.translate_stream("same", "en", "en")) == ["same"]


def test_failed_graph_capture_falls_back_to_eager_decoding(
    tiny_marian_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A GPU whose graphs cannot be captured still translates (one warning)."""
    engine = TorchTranslator(tiny_marian_dir, device="cpu", pair=("en", "de"))
    expected = engine.translate(_CORPUS[0], "en", "de")
    engine.decoder.graphs = True  # pretend: as on CUDA

    def broken(self: GreedyDecoder, key: object, vocab: object) -> None:
        raise RuntimeError("operation not permitted when stream is capturing")

    monkeypatch.setattr(GreedyDecoder, "warm", broken)
    engine.warmup()
    assert "decoding without them" in caplog.text
    assert engine.decoder.graphs is False
    assert engine.translate(_CORPUS[0], "en", "de") == expected


def _wait_for(cond: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_fair_lock_hands_over_to_the_waiter_before_the_releaser_retakes_it() -> None:
    """The decoder's loop releases GPU_LOCK and asks again at once: a waiting voice
    must get it first (a plain Lock lets the releaser win)."""
    lock = FairLock()
    order: list[str] = []

    def voice() -> None:
        with lock:
            order.append("voice")

    lock.acquire()
    waiter = threading.Thread(target=voice)
    waiter.start()
    _wait_for(lambda: lock._next == 2)  # the voice holds a ticket and waits
    lock.release()
    with lock:
        order.append("decoder")
    waiter.join(5)
    assert order == ["voice", "decoder"]
    assert not lock.locked()


def test_fair_lock_serves_in_arrival_order_and_frees_on_error() -> None:
    lock = FairLock()
    order: list[int] = []
    lock.acquire()
    threads = []
    for i in range(4):
        th = threading.Thread(target=lambda i=i: (lock.acquire(), order.append(i), lock.release()))
        th.start()
        threads.append(th)
        _wait_for(lambda i=i: lock._next == i + 2)
    assert lock.locked()
    lock.release()
    for th in threads:
        th.join(5)
    assert order == [0, 1, 2, 3]
    with pytest.raises(ValueError), lock:
        raise ValueError("a failed GPU stretch")
    assert not lock.locked()
