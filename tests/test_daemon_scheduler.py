"""The daemon's scheduler: priority classes, fair/fifo/latest, drops and requeues."""

from __future__ import annotations

import pytest

from yomiage.daemon.scheduler import Item, Scheduler


def _order(s: Scheduler, seconds: float = 1.0) -> list[str]:
    out = []
    while (item := s.next()) is not None:
        out.append(item.payload)
        s.done(item, seconds)
    return out


def test_alerts_before_replies_before_tools() -> None:
    s = Scheduler("fair")
    s.push(Item("a", "tool", payload="a-tool"))
    s.push(Item("a", "reply", reply=1, payload="a-reply"))
    s.push(Item("b", "alert", payload="b-alert"))
    assert _order(s) == ["b-alert", "a-reply", "a-tool"]


def test_an_alert_goes_between_sentences_of_a_reply() -> None:
    s = Scheduler("fair")
    s.push(Item("a", "reply", reply=1, payload="a1"))
    s.push(Item("a", "reply", reply=1, payload="a2"))
    first = s.next()
    assert first is not None and first.payload == "a1"
    s.push(Item("b", "alert", payload="alert"))
    s.done(first)
    assert _order(s) == ["alert", "a2"]


def test_fair_takes_whole_replies_in_turn() -> None:
    s = Scheduler("fair")
    for sess in ("a", "b", "c"):
        for r in (1, 2):
            for n in (1, 2):
                s.push(Item(sess, "reply", reply=r, payload=f"{sess}{r}.{n}"))
    assert _order(s) == ["a1.1", "a1.2", "b1.1", "b1.2", "c1.1", "c1.2",
                         "a2.1", "a2.2", "b2.1", "b2.2", "c2.1", "c2.2"]


def test_fair_reply_keeps_the_voice_as_its_sentences_arrive() -> None:
    s = Scheduler("fair")
    s.push(Item("a", "reply", reply=1, payload="a1"))
    s.push(Item("b", "reply", reply=1, payload="b1"))
    it = s.next()
    assert it is not None and it.payload == "a1"
    s.push(Item("a", "reply", reply=1, payload="a2"))  # streamed while a1 plays
    s.done(it)
    assert _order(s) == ["a2", "b1"]


def test_fair_a_newcomer_waits_at_most_one_reply() -> None:
    s = Scheduler("fair")
    for n in range(3):
        s.push(Item("a", "reply", reply=n, payload=f"a{n}"))
    it = s.next()
    assert it is not None
    s.push(Item("b", "reply", reply=0, payload="b0"))
    s.done(it, 1.0)
    assert _order(s) == ["b0", "a1", "a2"]


def test_fair_by_sentences_alternates_every_sentence() -> None:
    s = Scheduler("fair", unit="sentence")
    for sess in ("a", "b"):
        for n in (1, 2):
            s.push(Item(sess, "reply", reply=1, payload=f"{sess}{n}"))
    assert _order(s) == ["a1", "b1", "a2", "b2"]


def test_fair_shares_time_not_turns() -> None:
    s = Scheduler("fair")
    length = {"long": 5.0, "short": 1.0}
    for n in range(30):
        s.push(Item("long", "reply", reply=n, payload="long"))
        s.push(Item("short", "reply", reply=n, payload="short"))
    heard = {"long": 0.0, "short": 0.0}
    for _ in range(24):
        item = s.next()
        assert item is not None
        heard[item.session] += length[item.session]
        s.done(item, length[item.session])
        assert abs(heard["long"] - heard["short"]) <= 5.0  # never more than one item apart
    assert heard["short"] >= 15


def test_a_silent_session_gets_no_credit() -> None:
    s = Scheduler("fair")
    s.push(Item("a", "reply", reply=0, payload="a0"))
    s.push(Item("b", "reply", reply=0, payload="b0"))
    assert _order(s, 10.0) == ["a0", "b0"]  # both heard 10 s
    for n in range(1, 4):
        s.push(Item("a", "reply", reply=n, payload=f"a{n}"))
    _order(s, 10.0)  # a alone: heard 40 s; b silent
    for name in ("a9", "a10"):
        s.push(Item("a", "reply", reply=name, payload=name))
    for name in ("b1", "b2"):
        s.push(Item("b", "reply", reply=name, payload=name))
    # b joins level with a (not 30 s behind, which would give it the next turns): they
    # alternate
    assert _order(s, 10.0) == ["a9", "b1", "a10", "b2"]


def test_replace_keeps_the_reply_going() -> None:
    s = Scheduler("fair")
    s.push(Item("a", "reply", reply=1, payload="a1"))
    s.push(Item("a", "reply", reply=1, payload="a2"))
    s.push(Item("b", "reply", reply=1, payload="b1"))
    it = s.next()
    assert it is not None and it.payload == "a1"
    rest = s.items("a")
    s.replace("a", [Item("a", "reply", reply=1, payload="notice"), *rest])
    s.done(it, 1.0)
    assert _order(s) == ["notice", "a2", "b1"]


def test_fifo_is_arrival_order() -> None:
    s = Scheduler("fifo")
    s.push(Item("a", "reply", reply=1, payload="a1"))
    s.push(Item("b", "reply", reply=1, payload="b1"))
    s.push(Item("a", "reply", reply=1, payload="a2"))
    assert _order(s) == ["a1", "b1", "a2"]


def test_latest_preempts_between_sentences() -> None:
    s = Scheduler("latest")
    s.push(Item("a", "reply", reply=1, payload="a1"))
    s.push(Item("a", "reply", reply=1, payload="a2"))
    it = s.next()
    assert it is not None and it.payload == "a1"
    s.push(Item("b", "reply", reply=1, payload="b1"))
    s.push(Item("b", "reply", reply=1, payload="b2"))
    s.done(it)
    assert _order(s) == ["b1", "b2", "a2"]


def test_drop_one_session_keeps_the_others() -> None:
    s = Scheduler("fair")
    s.push(Item("a", payload="a1"))
    s.push(Item("b", payload="b1"))
    s.push(Item("a", payload="a2"))
    assert [i.payload for i in s.drop("a")] == ["a1", "a2"]
    assert s.queued() == 1 and s.queued("a") == 0
    assert _order(s) == ["b1"]


def test_push_front_puts_a_cut_item_back_first() -> None:
    s = Scheduler("fifo")
    s.push(Item("a", payload="a1"))
    s.push(Item("a", payload="a2"))
    it = s.next()
    assert it is not None
    s.push_front(it)
    assert _order(s) == ["a1", "a2"]


def test_forget_and_trim() -> None:
    s = Scheduler("fair")
    for n in range(5):
        s.push(Item("a", payload=n))
    assert [i.payload for i in s.trim("a", 2)] == [0, 1]
    assert s.queued("a") == 3
    s.forget("a")
    assert s.queued() == 0 and s.next() is None


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="policy"):
        Scheduler("random")
