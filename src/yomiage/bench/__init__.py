"""Benchmarks behind `yomiage bench`: each stage on its own, and the whole pipeline."""
