"""Kokoro-82M: its reading frontend, the onnxruntime voice and its CPU graph rewrites, and the
PyTorch voices (CUDA graphs on GPUs, bfloat16 on CPUs)."""
