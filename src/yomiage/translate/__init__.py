"""Translation: sentences in the source language → the listener's, behind the Translator protocol.

``load_translator(cfg)`` returns a ready (warmed) Translator chosen from the configuration
(CTranslate2, OpenVINO or PyTorch engines in the sub-packages ``ct2``, ``openvino``,
``torch``); the other modules are the parts the engines share.
"""

from yomiage.models.spec import ModelNotAvailable
from yomiage.translate.base import Translator
from yomiage.translate.loader import describe, load_translator, model_name, prefers_openvino

__all__ = ["ModelNotAvailable", "Translator", "describe", "load_translator", "model_name",
           "prefers_openvino"]
