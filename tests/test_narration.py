"""Narration policy: exactly-once, tools, thinking, subagents, results, turns."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yomiage.config import Config
from yomiage.records import SentenceKind
from yomiage.text.events import RawLine, Result, parse_line
from yomiage.text.flow import TextFlow
from yomiage.text.narration import Narrator, result_notice
from yomiage.text.tool_phrases import tool_phrase


def lines(*objs: object) -> list[RawLine]:
    return [RawLine(k + 1, json.dumps(o, ensure_ascii=False).encode(), float(k))
            for k, o in enumerate(objs)]


def spoken(objs: list[object], **cfg: object) -> list[tuple[str, str]]:
    flow = TextFlow(Config(**cfg))  # type: ignore[arg-type]
    out = [s for raw in lines(*objs) for s in flow.feed(raw)] + flow.finish()
    return [(s.kind.value, s.text) for s in out]


def se(event: dict[str, object], parent: str | None = None) -> dict[str, object]:
    return {"type": "stream_event", "event": event, "parent_tool_use_id": parent}


def full(blocks: list[dict[str, object]], mid: str = "m1", parent: str | None = None,
         **extra: object) -> dict[str, object]:
    return {"type": "assistant", "parent_tool_use_id": parent,
            "message": {"id": mid, "role": "assistant", "content": blocks}, **extra}


def streamed_text(parts: list[str], mid: str = "m1", index: int = 0,
                  parent: str | None = None) -> list[dict[str, object]]:
    return [
        se({"type": "message_start", "message": {"id": mid}}, parent),
        se({"type": "content_block_start", "index": index,
            "content_block": {"type": "text", "text": ""}}, parent),
        *[se({"type": "content_block_delta", "index": index,
              "delta": {"type": "text_delta", "text": p}}, parent) for p in parts],
        se({"type": "content_block_stop", "index": index}, parent),
        full([{"type": "text", "text": "".join(parts)}], mid, parent),
        se({"type": "message_stop"}, parent),
    ]


def test_deltas_then_full_line_speak_once() -> None:
    got = spoken(streamed_text(["Hel", "lo there. Bye", "."]))
    assert got == [("prose", "Hello there."), ("prose", "Bye.")]


def test_full_line_without_deltas_is_spoken() -> None:
    assert spoken([full([{"type": "text", "text": "Only full."}])]) == [("prose", "Only full.")]


def test_second_block_of_a_streamed_message_only_full_is_spoken() -> None:
    objs = [*streamed_text(["One."])[:-1], full([{"type": "text", "text": "Two."}])]
    assert spoken(objs) == [("prose", "One."), ("prose", "Two.")]


def test_sentence_is_emitted_on_the_delta_line_that_completes_it() -> None:
    flow = TextFlow(Config())
    raws = lines(*streamed_text(["First one. Sec", "ond one", "."]))
    when = {s.text: s.line_no for raw in raws for s in flow.feed(raw)}
    assert when == {"First one.": 3, "Second one.": 6}


def test_thinking_only_when_asked() -> None:
    objs = [full([{"type": "thinking", "thinking": "Secret plan."},
                  {"type": "text", "text": "Hi."}])]
    assert spoken(objs) == [("prose", "Hi.")]
    assert spoken(objs, thinking=True) == [("thinking", "Secret plan."), ("prose", "Hi.")]


def test_tools_brief_from_full_and_streamed_input() -> None:
    tool = {"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "/x/main.py"}}
    assert spoken([full([tool])]) == []
    assert spoken([full([tool])], tools="brief") == [("tool", "Reading main.py")]
    js = json.dumps({"command": "grep -rn 日付 src", "description": "検索"}, ensure_ascii=False)
    cut = js.index("日") + 1
    objs = [
        se({"type": "message_start", "message": {"id": "m2"}}),
        se({"type": "content_block_start", "index": 0, "content_block":
            {"type": "tool_use", "id": "t2", "name": "Bash", "input": {}}}),
        *[se({"type": "content_block_delta", "index": 0,
              "delta": {"type": "input_json_delta", "partial_json": p}})
          for p in ("", js[:cut], js[cut:])],
        se({"type": "content_block_stop", "index": 0}),
        full([{"type": "tool_use", "id": "t2", "name": "Bash", "input": json.loads(js)}], "m2"),
    ]
    assert spoken(objs, tools="brief") == [("tool", "Running grep")]


@pytest.mark.parametrize(("name", "inp", "phrase"), [
    ("Read", {"file_path": "C:\\src\\app\\main.py"}, "Reading main.py"),
    ("Edit", {"file_path": "/etc/app/config.toml"}, "Editing config.toml"),
    ("MultiEdit", {}, "Editing a file"),
    ("Write", {"file_path": "db/0042.sql"}, "Writing 0042.sql"),
    ("Bash", {"command": "cd web && npx vitest run"}, "Running the tests"),
    ("Bash", {"command": "python -m pytest -q"}, "Running the tests"),
    ("Bash", {"command": "actionlint ci.yml"}, "Running the linter"),
    ("Bash", {"command": "git commit -m x"}, "Committing the changes"),
    ("Bash", {"command": "FOO=1 /usr/bin/kubectl get pods"}, "Running kubectl"),
    ("Bash", {"command": 5}, "Running a command"),
    ("Grep", {"pattern": "x"}, "Searching the code"),
    ("Glob", {"pattern": "**/*.py"}, "Looking for files"),
    ("Task", {"description": "Map queries"}, "Starting a subagent: Map queries"),
    ("WebFetch", {"url": "https://www.example.com/a"}, "Fetching example.com"),
    ("TodoWrite", {}, "Updating the to-do list"),
    ("mcp__github__create_pull_request", {}, "Using create pull request on github"),
    ("SomeNewTool", {}, "Using some new tool"),
])
def test_tool_phrases(name: str, inp: dict[str, object], phrase: str) -> None:
    assert tool_phrase(name, inp) == phrase


def test_subagents_filtered_unless_asked() -> None:
    objs = [*streamed_text(["Sub streamed."], "s1", parent="toolu_1"),
            full([{"type": "text", "text": "Sub full."}], "s2", parent="toolu_1"),
            {"type": "assistant", "isSidechain": True,
             "message": {"role": "assistant", "content": [{"type": "text", "text": "Side."}]}},
            full([{"type": "text", "text": "Main."}], "m9")]
    assert spoken(objs) == [("prose", "Main.")]
    assert [t for _, t in spoken(objs, subagents=True)] == ["Sub streamed.", "Sub full.",
                                                             "Side.", "Main."]


@pytest.mark.parametrize(("result", "text"), [
    (Result("success", False), None),
    (Result("error_max_turns", True), "The run stopped: it reached its turn limit."),
    (Result("error_during_execution", True), "The run failed during execution."),
    (Result("error_max_budget_usd", True), "The run stopped: it reached its budget limit."),
    (Result("error_max_structured_output_retries", True),
     "The run failed to produce valid structured output."),
    (Result("success", True, (), "api_error", 429),
     "The run ended with an API error: rate limited."),
    (Result("success", True, (), "api_error", 503),
     "The run ended with an API error: server error."),
    (Result("weird", True), "The run ended with an error."),
])
def test_result_notices(result: Result, text: str | None) -> None:
    assert result_notice(result, announce_success=False) == text


def test_results_in_the_flow() -> None:
    ok = {"type": "result", "subtype": "success", "is_error": False}
    bad = {"type": "result", "subtype": "error_max_turns", "is_error": True}
    assert spoken([ok]) == []
    assert spoken([ok], announce_success=True) == [("notice", "The run finished.")]
    assert spoken([bad]) == [("notice", "The run stopped: it reached its turn limit.")]


def test_turns() -> None:
    n = Narrator(Config())
    seq = [
        ({"type": "system", "subtype": "init"}, 1),
        ({"type": "user", "message": {"role": "user", "content": "Do it"}}, 2),
        ({"type": "user", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t", "content": "x"}]}}, 2),
        ({"type": "user", "parent_tool_use_id": "t", "message": {"role": "user",
                                                                 "content": "sub prompt"}}, 2),
        ({"type": "user", "isMeta": True, "message": {"role": "user", "content": "Caveat"}}, 2),
        ({"type": "system", "subtype": "task_progress"}, 2),
        ({"type": "conversation_reset"}, 3),
        ({"type": "system", "subtype": "init"}, 4),
    ]
    for obj, turn in seq:
        event = parse_line(RawLine(1, json.dumps(obj).encode(), 0.0))
        assert event is not None
        n.handle(event)
        assert n.turn == turn


def test_sentences_carry_their_turn_and_kind() -> None:
    flow = TextFlow(Config())
    objs = [{"type": "system", "subtype": "init"}, full([{"type": "text", "text": "A."}], "a"),
            {"type": "system", "subtype": "init"}, full([{"type": "text", "text": "B."}], "b")]
    got = [s for raw in lines(*objs) for s in flow.feed(raw)]
    assert [(s.text, s.turn, s.seq, s.kind) for s in got] == [
        ("A.", 1, 0, SentenceKind.PROSE), ("B.", 2, 1, SentenceKind.PROSE)]


TEXT = st.lists(st.sampled_from([*"ab .`*_[]()<>#-|\n~!:/。「」、", "```", "e.g.", "3.14", " x",
                                 "😀", "https://a.io/b", "<system-reminder>"]),
                max_size=12).map("".join)
IDS = st.sampled_from(["m1", "m2", None])
PARENTS = st.sampled_from([None, None, "toolu_1"])
BLOCK = st.one_of(
    st.builds(lambda t: {"type": "text", "text": t}, TEXT),
    st.builds(lambda t: {"type": "thinking", "thinking": t}, TEXT),
    st.builds(lambda n: {"type": "tool_use", "id": "t", "name": n,
                         "input": {"file_path": "/a/b.py"}},
              st.sampled_from(["Read", "Bash", "Task", "mcp__x__y"])),
    st.just({"type": "redacted_thinking", "data": "x"}),
)
LINE = st.one_of(
    st.builds(lambda i, p: se({"type": "message_start", "message": {"id": i}}, p), IDS, PARENTS),
    st.builds(lambda k, b, p: se({"type": "content_block_start", "index": k, "content_block": b},
                                 p), st.integers(0, 2), BLOCK, PARENTS),
    st.builds(lambda k, t, kind, p: se({"type": "content_block_delta", "index": k, "delta": {
        "type": kind, "text": t, "thinking": t, "partial_json": t}}, p),
        st.integers(0, 2), TEXT, st.sampled_from(["text_delta", "thinking_delta",
                                                  "input_json_delta"]), PARENTS),
    st.builds(lambda k, p: se({"type": "content_block_stop", "index": k}, p),
              st.integers(0, 2), PARENTS),
    st.builds(lambda p: se({"type": "message_stop"}, p), PARENTS),
    st.builds(lambda bs, i, p: full(bs, i, p), st.lists(BLOCK, max_size=3), IDS, PARENTS),
    st.builds(lambda s, e: {"type": "result", "subtype": s, "is_error": e},
              st.sampled_from(["success", "error_max_turns", "odd"]), st.booleans()),
    st.just({"type": "system", "subtype": "init"}),
    st.builds(lambda t: {"type": "user", "message": {"role": "user", "content": t}}, TEXT),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(LINE, max_size=25), st.booleans(), st.booleans(), st.booleans(),
       st.integers(0, 3))
def test_any_event_sequence_gives_clean_sentences(objs: list[object], thinking: bool,
                                                   subagents: bool, brief: bool,
                                                   max_sentences: int) -> None:
    cfg = Config(thinking=thinking, subagents=subagents, tools="brief" if brief else "none",
                 max_sentences=max_sentences, code_notice="always", max_clause_chars=30)
    flow = TextFlow(cfg)
    out = [s for raw in lines(*objs) for s in flow.feed(raw)] + flow.finish()
    assert [s.seq for s in out] == list(range(len(out)))
    for s in out:
        assert s.text and s.text == s.text.strip() and any(c.isalnum() for c in s.text)
        assert "\ue000" not in s.text and "😀" not in s.text and "system-reminder" not in s.text
        assert thinking or s.kind is not SentenceKind.THINKING
        assert subagents or not s.subagent
