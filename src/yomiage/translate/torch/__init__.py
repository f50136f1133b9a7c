"""The PyTorch GPU engine: static KV cache, CUDA graphs, greedy decoding."""
