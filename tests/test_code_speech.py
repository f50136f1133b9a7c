"""Speech text for code-heavy prose (issue 17, part 2): each rule on our own examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixture_paths import fixtures_dir
from yomiage.cli import main
from yomiage.config import Config
from yomiage.text.api_error import api_error_phrase
from yomiage.text.code_check import code_findings
from yomiage.text.code_speech import line_ref, path_name, speak_code
from yomiage.text.compaction import compaction_digest
from yomiage.text.events import RawLine, Result
from yomiage.text.flow import TextFlow
from yomiage.text.narration import result_notice
from yomiage.text.segment import Segmenter, tidy
from yomiage.text.speech_text import SpeechText
from yomiage.translate.protect import protect, restore


def speak(md: str, step: int = 0) -> list[str]:
    """Sentences for ``md``, fed whole or ``step`` characters at a time."""
    st, seg = SpeechText(), Segmenter(500)
    pieces = [md] if step <= 0 else [md[i : i + step] for i in range(0, len(md), step)]
    out: list[str] = []
    for p in pieces:
        out += seg.feed(st.feed(p))
    out += seg.feed(st.flush())
    return [*out, *seg.flush()]


def spoken(objs: list[dict[str, object]], **cfg: object) -> list[tuple[str, str]]:
    flow = TextFlow(Config(**cfg))  # type: ignore[arg-type]
    raws = [RawLine(k + 1, json.dumps(o).encode(), float(k)) for k, o in enumerate(objs)]
    out = [s for raw in raws for s in flow.feed(raw)] + flow.finish()
    return [(s.kind.value, s.text) for s in out]


def assistant(text: str, mid: str = "m1") -> dict[str, object]:
    return {"type": "assistant", "parent_tool_use_id": None,
            "message": {"id": mid, "role": "assistant",
                        "content": [{"type": "text", "text": text}]}}


def result(subtype: str, is_error: bool, reason: str | None, status: int | None = None
           ) -> dict[str, object]:
    return {"type": "result", "subtype": subtype, "is_error": is_error,
            "terminal_reason": reason, "api_error_status": status}


def user(text: str) -> dict[str, object]:
    return {"type": "user",
            "message": {"role": "user", "content": [{"type": "text", "text": text}]}}


# ------------------------------------------------------------------ API errors ----

@pytest.mark.parametrize(("text", "phrase"), [
    ('API Error: 404 {"type":"error","error":{"type":"not_found_error","message":"model: x9"},'
     '"request_id":"req_01AbCdEfGhIjKlMnOp"}', "An API error: 404, not found."),
    ('API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}',
     "An API error: 429, rate limited."),
    ('API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal"}}',
     "An API error: 500, server error."),
    ("API Error: 529 Overloaded", "An API error: 529, overloaded."),
    ("API Error: 503 upstream connect error", "An API error: 503, server error."),
    ('API Error: {"type":"error","error":{"type":"overloaded_error"}}',
     "An API error: overloaded."),
    ("API Error: Connection reset by peer.", "An API error: connection reset by peer."),
    ('API Error: 418 {"type":"error","error":{"type":"teapot"},"request_id":"req_0123456789"}',
     "An API error: 418."),
    ("API Error: " + "x" * 200, "An API error."),
])
def test_api_error_phrase(text: str, phrase: str) -> None:
    assert api_error_phrase(text) == phrase


@pytest.mark.parametrize("text", ["The API Error: 404 case is handled now.",
                                  "Fixed `API Error` handling.", "All green."])
def test_prose_about_api_errors_is_left_alone(text: str) -> None:
    assert api_error_phrase(text) is None


def test_api_error_message_spoken_once_without_body() -> None:
    body = ('API Error: 404 {"type":"error","error":{"type":"not_found_error","message":'
            '"model: oups"},"request_id":"req_011CVk2vdLxynFeaMQaoKZPH"}')
    got = spoken([assistant("Checking.", "m0"), assistant(body),
                  result("success", True, "api_error", 404)])
    assert got == [("prose", "Checking."), ("notice", "An API error: 404, not found.")]
    # without the error's own message the result line still says it
    assert spoken([result("success", True, "api_error", 529)]) == [
        ("notice", "The run ended with an API error: overloaded.")]


# ------------------------------------------------------------------ interrupts ----

def test_a_run_the_user_stopped_is_not_announced_as_a_failure() -> None:
    stopped = [assistant("Looking at the parser now."), user("[Request interrupted by user]"),
               result("error_during_execution", True, "aborted_streaming")]
    assert spoken(stopped) == [("prose", "Looking at the parser now.")]
    tools = [user("[Request interrupted by user for tool use]"),
             result("error_during_execution", True, "aborted_tools")]
    assert spoken(tools) == []
    # the same ends without the user's interrupt are still announced
    assert spoken([result("error_during_execution", True, "aborted_tools")]) == [
        ("notice", "The run failed during execution.")]
    # the mark belongs to its turn: a new prompt clears it
    later = [user("[Request interrupted by user]"), user("Now fix the tests."),
             result("error_during_execution", True, None)]
    assert spoken(later) == [("notice", "The run failed during execution.")]


def test_result_notice_aborted_streaming_is_silent() -> None:
    assert result_notice(Result("error_during_execution", True, (), "aborted_streaming"),
                         announce_success=True) is None


# ------------------------------------------------------------- hard line breaks ----

STATUS = "**Build** ✓ passed  \n**Lint** ✓ 2 warnings  \n**Tests** ✓ 41 of 41\\\nDeploy skipped\n"


@pytest.mark.parametrize("step", [0, 1, 3, 7])
def test_hard_line_breaks_end_an_item(step: int) -> None:
    assert speak(STATUS, step) == ["Build passed", "Lint 2 warnings", "Tests 41 of 41",
                                   "Deploy skipped"]


def test_soft_breaks_and_escaped_backslash_still_join() -> None:
    assert speak("one line \ngoes on\n") == ["one line goes on"]
    assert len(speak("a path C:\\\\\nnext")) == 1  # an escaped backslash is no break


# ------------------------------------------------------------ paths, line refs ----

@pytest.mark.parametrize(("token", "name"), [
    ("lib/web/templates/", "templates"),
    ("/opt/homebrew/bin", "bin"),
    ("./build/", "build"),
    ("Read/Write/Edit", "Read/Write/Edit"),
    ("feature/cache/ttl", "feature/cache/ttl"),  # in prose: maybe a branch, kept
    ("12/31/2025", "12/31/2025"),
])
def test_path_name_in_prose(token: str, name: str) -> None:
    assert path_name(token) == name


def test_path_name_in_code_takes_folders() -> None:
    assert path_name("services/billing/handlers", folders=True) == "handlers"
    assert path_name("12/31/2025", folders=True) == "12/31/2025"


@pytest.mark.parametrize(("token", "ja", "parts"), [
    ("server/routes/users.go:118", False, ("users.go", ", line 118")),
    ("pkg/db/pool.rs:10-20,35", False, ("pool.rs", ", lines 10 to 20 and 35")),
    ("store.ts:5,9,12,40-44", False, ("store.ts", ", lines 5, 9 and 2 more")),
    ("app.py:88:13", False, ("app.py", ", line 88")),
    ("subagent_live.ex:25:guard_fail", False, ("subagent_live.ex", ", line 25")),
    ("src/app.py#L3-L9", False, ("app.py", ", lines 3 to 9")),
    ("lib/ui/Button.vue:7-9", True, ("Button.vue", "の7から9行目")),
    ("Button.vue:1,2,3,4", True, ("Button.vue", "の1と2行目ほか2か所")),
])
def test_line_refs(token: str, ja: bool, parts: tuple[str, str]) -> None:
    assert line_ref(token, ja) == parts


def test_not_line_refs() -> None:
    assert line_ref("localhost:8080") is None
    assert line_ref("12:30") is None
    assert line_ref("v1.2:3x") is None


def test_paths_and_line_refs_in_sentences() -> None:
    assert speak("Assets live in `web/static/img/` now.") == ["Assets live in img now."]
    assert speak("Output goes to out/reports/daily/ each night.") == [
        "Output goes to daily each night."]
    assert speak("See `crates/core/src/lexer.rs:210-233` and engine.py:12 for it.") == [
        "See lexer.rs, lines 210 to 233 and engine.py, line 12 for it."]
    assert speak("`mobile/App.kt:14` を直しました。") == ["App.ktの14行目 を直しました。"]
    assert speak("Pick All/Active/Done, or and/or.") == ["Pick All/Active/Done, or and/or."]


# ------------------------------------------------------------- inline code kinds ----

@pytest.mark.parametrize(("code", "spoken_as"), [
    ("parse_date(s)", "parse_date"),
    ("os.path.join(root, name)", "os.path.join"),
    ("await client.fetchUser(id)", "client.fetchUser"),
    ("Vec::with_capacity(n)", "Vec::with_capacity"),
    ("useState<Item[]>([])", "useState"),
    ("json.dumps(obj) -> str", "json.dumps"),
    ("strip_tags(html) :: String.t()", "strip_tags"),
    ('getenv("HOME")', "getenv HOME"),  # the argument is the point
    ("retry(3)", "retry 3"),
    ("{:ok, %Order{}}", "ok, Order"),
    ("{nil, []}", "nil"),
    ("{:error, _why}", "error, why"),
    ("order?.customer?.email", "order.customer.email"),
    ("%{id: id}", "id id"),
    ("--dry-run", "--dry-run"),
    ("-x", "-x"),
    ("2>&1", "2>&1"),
    ("?", "?"),
    ("Vec<u8>", "Vec<u8>"),
    ("npm run build", "npm run build"),
    ("load_session_messages/1", "load_session_messages"),  # Elixir arity
    ("Access.get/2", "Access.get"),
    ("HTTP/2", "HTTP/2"),  # a protocol, not a function
    (":kind", "kind"),  # atoms, assigns, components
    ("@show_debug", "show_debug"),
    ("<.transcript_panel>", "transcript_panel"),
    ('<.live_component module={Panel} id="p">', "live_component"),
    (":user | :assistant | :thinking", "user, assistant, thinking"),
    ("string | null", "string | null"),
    ("@types/node", "@types/node"),
])
def test_inline_code_by_category(code: str, spoken_as: str) -> None:
    assert tidy(speak_code(code)) == spoken_as


@pytest.mark.parametrize("code", [
    "SELECT id, name FROM users WHERE created_at > now() - interval '7 days' ORDER BY id",
    "%{state | queue: :queue.in(item, q), count: c + 1, last: DateTime.utc_now()}",
    "^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)@",
    "{:reply, {:ok, a, b, c, d}, state}",
])
def test_long_or_dense_code_becomes_a_placeholder(code: str) -> None:
    assert speak_code(code) == "this code"
    assert speak_code(code, ja=True) == "このコード"


def test_sentences_stay_whole() -> None:
    long_call = "Ash auto-wires `handle_info({:tick, ref}, %{timers: timers} = state)` for you."
    assert speak(long_call) == ["Ash auto-wires handle_info for you."]
    query = "It runs `SELECT * FROM events WHERE kind = 'x' AND ts > now() - interval '1 day'`."
    assert speak(query) == ["It runs this code."]
    assert speak("`cache.get(key)` が `nil` を返します。") == ["cache.get が nil を返します。"]


# ---------------------------------------------------------------------- arrows ----

@pytest.mark.parametrize(("md", "sentences"), [
    ("Renamed: Ada Lovelace → AL, Alan Turing → AT.",
     ["Renamed: Ada Lovelace to AL, Alan Turing to AT."]),
    ("Order: lint ⇒ test ⇒ ship.", ["Order: lint to test to ship."]),
    ("Maps v1 -> v2 cleanly.", ["Maps v1 to v2 cleanly."]),
    ("→ Next: deploy\n", ["Next: deploy"]),  # an arrow as a line marker is not read
    ("「旧名」→「新名」に変更", ["「旧名」から「新名」に変更"]),
    ("Keep `a -> b` as code.", ["Keep a -> b as code."]),
    ("Lines like `12→text` are numbered.", ["Lines like 12 text are numbered."]),
])
def test_arrows_between_terms_are_read(md: str, sentences: list[str]) -> None:
    assert speak(md) == sentences


# -------------------------------------------------------- compaction and tags ----

COMPACTION = ("<analysis>\nLet me go through it.\n1. The user asked X.\n</analysis>\n\n"
              "<summary>\n1. Primary Request: fix the flaky test.\n"
              "2. Next Step: rerun CI.\n</summary>")


@pytest.mark.parametrize("step", [0, 1, 5])
def test_compaction_summary_without_tags_or_analysis(step: int) -> None:
    assert speak(COMPACTION, step) == ["Primary Request: fix the flaky test.",
                                       "Next Step: rerun CI."]


def test_wrapper_tags_go_but_generics_stay() -> None:
    assert speak("<command-name>/clear</command-name> done.") == ["/clear done."]
    kept = "A Vec<u8> or HashMap<key, val> stays."
    assert speak(kept) == [kept]


# ------------------------------------------------------------ translation contract ----

def test_kept_names_survive_protection() -> None:
    text = tidy(speak_code("pkg/db/pool.rs:10-20") + " and " + speak_code("parse_date(s)"))
    assert text == "pool.rs, lines 10 to 20 and parse_date"
    p = protect("Fixed " + text + ".")
    assert p.spans == ("pool.rs", "parse_date")
    assert restore(p.text, p) == "Fixed " + text + "."


# ------------------------------------------------------------------- detector ----

@pytest.mark.parametrize(("sentence", "kinds"), [
    ('Got {"type":"error","message":"x"} back.', ["json"]),
    ("Request req_011CVk2vdLxynFeaMQ failed.", ["request id"]),
    ("Open apps/web/src/index.tsx now.", ["path"]),
    ("It is in /var/log/app.", ["path"]),
    ("Files are in build/out/ now.", ["path"]),
    ("Call it with load(cfg, strict) first.", ["code"]),
    ("Map x => x + 1.", ["code"]),
    ("It returns {:ok, value}.", ["code"]),
    ("Docs at https://example.com/a/b.", ["url"]),
])
def test_detector_finds_code(sentence: str, kinds: list[str]) -> None:
    assert code_findings(sentence) == kinds


@pytest.mark.parametrize("sentence", [
    "Fixed NavUser.tsx, lines 24 to 40 and 54.",
    "Pick All/Active/Done on 12/31/2025, and/or later.",
    "The parse_date function (the old one) is gone.",
    "Use the ? operator; it returns Result<T, E>.",
    "Tests pass (41 of 41).",
    "AshComputer auto-generates handle_event.",
])
def test_detector_lets_prose_pass(sentence: str) -> None:
    assert code_findings(sentence) == []


def _code_spoken(files: list[Path], capsys: pytest.CaptureFixture[str]
                 ) -> list[tuple[str, str, list[str]]]:
    """(file, sentence, kinds) of every sentence `yomiage text` says with code in it."""
    found: list[tuple[str, str, list[str]]] = []
    for path in files:
        assert main(["-q", "text", "--subagents", "--thinking", "--tools", "brief",
                     str(path)]) == 0
        for line in capsys.readouterr().out.splitlines():
            kinds = code_findings(line)
            if kinds:
                found.append((path.name, line, kinds))
    return found


def test_no_code_json_or_full_path_spoken_on_the_fixtures(
        capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(fixtures_dir().glob("*.ndjson"))
    assert files
    assert _code_spoken(files, capsys) == []


def test_long_conditions_become_the_placeholder() -> None:
    assert tidy(speak_code("a == b")) == "a == b"
    assert speak_code("when idx == line[:result_line_index]") == "this code"
    assert code_findings("Replace when idx == line[0] here.") == ["code"]


SUMMARY = ("<analysis>\nChronology: a, b, c.\n</analysis>\n\n<summary>\n"
           "1. Primary Request and Intent:\n   Fix the login bug.\n"
           "2. Files and Code Sections:\n   - auth.py\n"
           "3. Current Work:\n   Rewriting the token check.\n"
           "   1. **Sub item** inside:\n      kept with its section\n"
           "4. Optional Next Step:\n   Run the auth tests.\n</summary>")


def test_compaction_digest_keeps_where_the_work_stands() -> None:
    got = spoken([{"type": "assistant", "isSidechain": True,
                   "message": {"role": "assistant",
                               "content": [{"type": "text", "text": SUMMARY}]}}],
                 subagents=True)
    assert [t for _, t in got] == ["Current Work: Rewriting the token check.",
                                   "Sub item inside: kept with its section",
                                   "Optional Next Step: Run the auth tests."]
    assert compaction_digest("<summary>\nNo numbered sections here.\n</summary>") == \
        "No numbered sections here."
    assert compaction_digest("A reply that mentions summary tags.") is None


def _real_sessions() -> list[Path]:
    folder = fixtures_dir().parent / "real-sessions"
    return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []


@pytest.mark.slow
def test_no_code_json_or_full_path_spoken_on_the_real_sessions(
        capsys: pytest.CaptureFixture[str]) -> None:
    files = _real_sessions()
    if not files:
        pytest.skip("no ../shared/real-sessions beside the fixtures")
    assert _code_spoken(files, capsys) == []
