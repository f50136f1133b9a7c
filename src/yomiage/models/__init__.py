"""Models: where translation models and voices come from (local directory → cache → hub)."""

from yomiage.models.spec import ModelNotAvailable, ModelSpec

__all__ = ["ModelNotAvailable", "ModelSpec"]
