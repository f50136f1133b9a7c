"""The soak benchmark's own pieces (the full run is `yomiage bench --stage soak`)."""

from __future__ import annotations

import time

import orjson

from yomiage.bench.soak import RssSampler, session_files, soak_lines
from yomiage.cli import build_parser
from yomiage.narrate.replay import schedule


def _message_id(line: bytes) -> str | None:
    """The message id of a well-formed assistant line (the hostile fixture has others)."""
    if not line.startswith(b'{"type":"assistant"'):
        return None
    try:
        msg = orjson.loads(line).get("message")
    except orjson.JSONDecodeError:
        return None
    return msg.get("id") if isinstance(msg, dict) and isinstance(msg.get("id"), str) else None


def test_soak_lines_reach_the_agent_time_with_fresh_ids() -> None:
    lines, agent_s = soak_lines(0.02)  # 72 s of agent time
    assert agent_s >= 72
    assert schedule(lines)[-1] >= 72 * 0.99
    ids = [i for i in map(_message_id, lines) if i is not None]
    passes: dict[str, set[str]] = {}
    for i in ids:
        base, tag = i.rsplit("-", 1)
        passes.setdefault(tag, set()).add(base)
    assert len(passes) >= 2  # every pass has ids of its own: never a replayed duplicate
    # pass n replays session n mod k (k sessions) with ids of its own
    k = len(session_files())
    assert all(bases == passes[f"soak{int(tag[4:]) % k}"] for tag, bases in passes.items()
               if passes.get(f"soak{int(tag[4:]) % k}"))
    assert all(tag.startswith("soak") for tag in passes)


def test_rss_sampler_samples() -> None:
    with RssSampler(interval=0.01) as rss:
        time.sleep(0.1)
    assert len(rss.samples) >= 3 and all(mb > 1 for _, mb in rss.samples)


def test_soak_is_a_bench_stage() -> None:
    args = build_parser().parse_args(["bench", "--stage", "soak", "--repeat", "2"])
    assert args.stage == "soak" and args.repeat == 2


def test_replay_pace_survives_odd_lines() -> None:
    from yomiage.narrate.replay import OTHER_LINE_SECONDS, line_delay

    for line in (b'{"type":"stream_event","event":[1]}', b'{"type":"assistant","message":[]}',
                 b'{"type":"stream_event","event":{"delta":{"text":5}}}', b"[]", b"\xff"):
        assert line_delay(line) == OTHER_LINE_SECONDS
