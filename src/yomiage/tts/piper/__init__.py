"""Piper: ONNX VITS voices on onnxruntime, their graph cut for streaming, and chunk shaping."""
