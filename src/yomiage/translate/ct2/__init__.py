"""The CTranslate2 engine (CPU int8, CUDA 12 GPUs) and the reader of its ``model.bin``."""
