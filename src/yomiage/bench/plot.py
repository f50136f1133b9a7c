"""A latency waterfall of the sentences of a benchmark run (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yomiage.records import Timeline

_COLOURS = {"segment": "#9e9e9e", "queue_wait": "#e0e0e0", "translate": "#1f77b4",
            "synth_wait": "#c6dbef", "first_chunk": "#ff7f0e", "handoff": "#fdd0a2",
            "playing": "#2ca02c"}


def _draw(ax: Any, timelines: Sequence[Timeline], title: str) -> None:
    from yomiage.bench.pipeline import STAGES

    rows = [t for t in timelines if t.first_audio_at is not None]
    if not rows:
        ax.set_title(f"{title} (nothing spoken)")
        return
    origin = min(t.read_at for t in rows)
    for y, tl in enumerate(rows):
        e = tl.extra
        points: list[Any] = [tl.read_at, tl.segmented_at, e.get("translate_start"),
                             tl.translated_at, e.get("synth_start"), e.get("first_chunk_at"),
                             tl.first_audio_at]
        prev = tl.read_at
        for name, t in zip(STAGES, points[1:], strict=True):
            if isinstance(t, float):
                ax.barh(y, (t - prev) * 1000, left=(prev - origin) * 1000, height=0.7,
                        color=_COLOURS[name], label=name if y == 0 else None)
                prev = t
        if tl.play_start_at is not None and tl.play_end_at is not None:
            ax.barh(y, (tl.play_end_at - tl.play_start_at) * 1000,
                    left=(tl.play_start_at - origin) * 1000, height=0.25,
                    color=_COLOURS["playing"], label="playing" if y == 0 else None)
        lat = (tl.first_audio_at - tl.read_at) * 1000 if tl.first_audio_at else 0.0
        ax.text((tl.first_audio_at - origin) * 1000 + 20 if tl.first_audio_at else 0, y,
                f"{lat:.0f} ms", va="center", fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("ms since the first sentence's line was read")
    ax.set_ylabel("sentence")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def plot_waterfall(path: str, timelines: Sequence[Timeline],
                   baseline: Sequence[Timeline] | None = None, title: str = "") -> None:
    """Write a PNG: one row per sentence, coloured by stage, up to its first audio;
    a second panel shows the old design when ``baseline`` is given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 2 if baseline else 1
    height = max(4.0, 0.22 * len(timelines) + 1.5)
    fig, axes = plt.subplots(panels, 1, figsize=(11, height * panels), squeeze=False)
    _draw(axes[0][0], timelines, f"overlapped pipeline — {title}")
    if baseline:
        _draw(axes[1][0], baseline, "old design (sequential, Transformers generate)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
