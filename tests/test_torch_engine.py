"""The PyTorch greedy decoder gives the same token ids as Transformers' greedy generate."""

from __future__ import annotations

import pytest
import torch
from transformers import LogitsProcessor, LogitsProcessorList, M2M100Config, M2M100ForConditionalGeneration
from transformers import MarianConfig, MarianMTModel

from yomiage.translate.torch_greedy import GreedyDecoder

VOCAB = 96
PAD, EOS, LANG = 1, 2, 90


def _tiny(family: str, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    common = dict(
        vocab_size=VOCAB, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=128,
        pad_token_id=PAD, eos_token_id=EOS, bos_token_id=0, decoder_start_token_id=EOS,
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


def _reference(model: torch.nn.Module, family: str, src: list[int], max_new: int,
               allowed: torch.Tensor | None) -> list[int]:
    kwargs: dict[str, object] = {}
    if family == "m2m":
        kwargs["forced_bos_token_id"] = LANG
    if allowed is not None:
        kwargs["logits_processor"] = LogitsProcessorList([_Only(allowed)])
    out = model.generate(  # type: ignore[operator]
        torch.tensor([src]), do_sample=False, num_beams=1, max_new_tokens=max_new, min_new_tokens=0,
        suppress_tokens=[PAD], forced_eos_token_id=None, no_repeat_ngram_size=0, repetition_penalty=1.0,
        bad_words_ids=None, length_penalty=1.0, pad_token_id=PAD, eos_token_id=EOS, **kwargs,
    )
    return out[0, 1:].tolist()


@pytest.mark.parametrize("family", ["marian", "m2m"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("restricted", [False, True])
def test_greedy_ids_match_transformers(family: str, seed: int, restricted: bool) -> None:
    model = _tiny(family, seed)
    gen = torch.Generator().manual_seed(100 + seed)
    src = torch.randint(3, VOCAB - 10, (int(torch.randint(4, 20, (1,), generator=gen)),), generator=gen).tolist()
    src.append(EOS)
    allowed = None
    if restricted:
        allowed = torch.unique(torch.cat([torch.tensor([EOS, LANG]), torch.randperm(VOCAB, generator=gen)[:40]]))
        allowed = allowed[allowed != PAD]
    full = torch.tensor([i for i in range(VOCAB) if i != PAD])
    start = PAD if family == "marian" else EOS
    prefix = [start] if family == "marian" else [start, LANG]
    max_new = 30
    dec = GreedyDecoder(model, family, max_src=64, max_tgt=64)
    ours = dec.generate(src, prefix, max_new, vocab_key=restricted,
                        vocab_ids=allowed if allowed is not None else full)
    assert ours == _reference(model, family, src, max_new, allowed)
    # the decoder is reused across calls: a second, different input must still match
    src2 = src[::-1]
    assert dec.generate(src2, prefix, max_new, vocab_key=restricted,
                        vocab_ids=allowed if allowed is not None else full) == _reference(
        model, family, src2, max_new, allowed)
