"""Choosing and loading a translation engine from the configuration.

``load_translator(cfg)`` returns a ready (warmed) Translator that skips text already in
the target language, keeps code and numbers verbatim and caches repeated sentences.
"""

from __future__ import annotations

import logging
from pathlib import Path

from yomiage.config import Config
from yomiage.devices import nvidia_driver_present
from yomiage.models.manager import installed_dir, resolve
from yomiage.models.spec import ModelSpec
from yomiage.translate.base import Translator
from yomiage.translate.cache import CachedTranslator, TranslationCache
from yomiage.translate.catalog import (
    bundled_model,
    default_model,
    licence_warning,
    translation_specs,
)
from yomiage.translate.guard import GuardedTranslator, PassthroughTranslator

log = logging.getLogger(__name__)

__all__ = ["describe", "load_engine", "load_translator",
           "model_name", "prefers_openvino"]


def model_name(cfg: Config) -> str:
    """The model the configuration asks for. ``auto``: the pair's default, or the model
    shipped in the package for the pair while the default is not installed."""
    if cfg.translation_model != "auto":
        return cfg.translation_model
    name = default_model(cfg.source_lang, cfg.target_lang)
    bundled = bundled_model(cfg.source_lang, cfg.target_lang)
    if bundled and installed_dir(translation_specs()[name], cfg) is None:
        return bundled
    return name


def _gpu_present() -> bool:
    """Cheap check for an NVIDIA driver, before paying for `import torch`."""
    return nvidia_driver_present()


def _torch_engine(model_dir: Path, spec: ModelSpec | None, cfg: Config) -> Translator | None:
    """The PyTorch CUDA engine, or None when PyTorch, CUDA or the engine is missing."""
    try:
        import torch

        if not torch.cuda.is_available():
            return None
        from yomiage.translate.torch.engine import (  # type: ignore[import-not-found,unused-ignore]
            load_torch_translator,
        )
    except ImportError as exc:
        log.info("PyTorch GPU engine unavailable: %s", exc)
        return None
    try:
        engine: Translator = load_torch_translator(model_dir, spec, cfg)
    except (FileNotFoundError, OSError, ValueError) as exc:
        # e.g. a folder holding only the CTranslate2 conversion (no hf/ checkpoint)
        log.warning("the PyTorch GPU engine cannot load %s (%s); using CTranslate2",
                    model_dir, exc)
        return None
    return engine


def _openvino_engine(model_dir: Path, spec: ModelSpec | None, cfg: Config,
                     required: bool) -> Translator | None:
    """The OpenVINO CPU engine, or None (said once) when OpenVINO or the model's layout
    is missing; with ``required`` the failure is raised instead."""
    from yomiage.translate.token_engine import DecodeOptions

    if cfg.beam_size > 1:
        log.warning("the OpenVINO engine decodes greedily: beam_size %d is not used",
                    cfg.beam_size)
    try:
        from yomiage.translate.openvino.engine import OVTranslator

        return OVTranslator(model_dir, name=spec.name if spec else model_dir.name,
                            threads=cfg.threads, pair=(cfg.source_lang, cfg.target_lang),
                            options=DecodeOptions())
    except (ImportError, OSError, ValueError, RuntimeError) as exc:
        if required:
            raise RuntimeError(f"translator=openvino cannot load {model_dir}: {exc}") from exc
        log.warning("the OpenVINO engine cannot load %s (%s); using CTranslate2", model_dir, exc)
        return None


def prefers_openvino(cfg: Config) -> bool:
    """Whether the CPU engine is OpenVINO: asked for, or translator=auto with two
    translation threads or more, greedy decoding and OpenVINO installed. CTranslate2 reads
    a step's weights no faster with two threads than with one; OpenVINO's NLLB step is
    1.7x faster with two (18.7 → 10.95 ms, docs/models.md). With one thread they are
    even, and CTranslate2 has been the engine longest."""
    from yomiage.translate.token_engine import default_threads

    if cfg.translator == "openvino":
        return True
    if cfg.translator != "auto" or cfg.beam_size > 1 or (cfg.threads or default_threads()) < 2:
        return False
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def load_engine(model_dir: Path, spec: ModelSpec | None, cfg: Config) -> Translator:
    """The raw engine for ``model_dir`` on the best device the configuration allows.

    translator=auto: CTranslate2 on the GPU when it works there; else the PyTorch CUDA
    engine when a GPU is usable by PyTorch; else, on the CPU, OpenVINO when translation
    has two threads or more (see prefers_openvino), CTranslate2 otherwise.
    """
    from yomiage.translate.ct2.engine import CT2Translator, GpuUnavailable
    from yomiage.translate.token_engine import DecodeOptions

    def ct2(device: str, cpu_fallback: bool) -> CT2Translator:
        return CT2Translator(
            model_dir, name=spec.name if spec else model_dir.name, device=device,
            compute_type=cfg.compute_type, threads=cfg.threads,
            options=DecodeOptions(beam_size=cfg.beam_size), vmap_target=cfg.target_lang,
            pair=(cfg.source_lang, cfg.target_lang), cpu_fallback=cpu_fallback,
        )

    if cfg.translator == "openvino":
        engine = _openvino_engine(model_dir, spec, cfg, required=True)
        assert engine is not None
        return engine
    if cfg.translator == "torch":
        engine = _torch_engine(model_dir, spec, cfg)
        if engine is None:
            raise RuntimeError("translator=torch needs PyTorch with CUDA and the torch engine")
        return engine
    if cfg.device in ("auto", "cuda"):
        try:
            return ct2("cuda", cpu_fallback=False)
        except GpuUnavailable as exc:
            log.info("CTranslate2 cannot use a GPU here: %s", exc)
        if cfg.translator == "auto" and (cfg.device == "cuda" or _gpu_present()):
            engine = _torch_engine(model_dir, spec, cfg)
            if engine is not None:
                return engine
        if cfg.device == "cuda":
            log.warning("no usable GPU for translation; using the CPU")
    if prefers_openvino(cfg):
        engine = _openvino_engine(model_dir, spec, cfg, required=False)
        if engine is not None:
            return engine
    return ct2("cpu", cpu_fallback=True)


def load_translator(cfg: Config, *, warmup: bool = True, disk_cache: bool = False) -> Translator:
    """A ready Translator for ``cfg.source_lang`` → ``cfg.target_lang``.

    Raises ModelNotAvailable (with the fetch command) when the model is not installed
    and cannot be downloaded; ValueError for an unknown model name.
    """
    if cfg.translator == "none" or cfg.source_lang == cfg.target_lang:
        return PassthroughTranslator()
    name = model_name(cfg)
    spec = translation_specs().get(name)
    if spec is not None:
        warning = licence_warning(spec)
        if warning:
            log.warning("%s", warning)
    model_dir = resolve(name, cfg)
    engine = load_engine(model_dir, spec, cfg)
    path = Path(cfg.cache_dir).expanduser() / "translations.sqlite3" if disk_cache else None
    translator = CachedTranslator(GuardedTranslator(engine), TranslationCache(path=path))
    if warmup:
        translator.warmup()
    return translator


def describe(translator: Translator) -> dict[str, object]:
    """Engine, model, device and compute type of a translator, for benchmarks and logs."""
    info = getattr(translator, "describe", None)
    if callable(info):
        return dict(info())
    return {"engine": translator.name}
