"""onnxruntime session options shared by the ONNX voices."""

from __future__ import annotations

import os
from typing import Any


def session_options(threads: int = 0) -> Any:
    """Options tuned for one phrase at a time on a small CPU.

    ``threads`` = intra-op threads (0 = every core: a phrase is latency-bound and the
    other stages mostly wait on it). One inter-op thread, all graph optimisations, and
    no spin-waiting: the translator runs beside the voice, and spinning worker threads
    on an oversubscribed small CPU made a Kokoro phrase ~1.6x slower in our measurements.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads if threads > 0 else max(1, os.cpu_count() or 1)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts
