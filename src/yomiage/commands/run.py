"""`yomiage run -- claude -p "…"`: run the agent, show its conversation, narrate it.

The agent is a child process whose stdout is its stream-json; `--output-format
stream-json --verbose` is added when absent. The conversation is rendered on stderr
(assistant prose, one line per tool call and result, the outcome) while the pipeline
narrates. Ctrl-C is forwarded to the agent once and stops the sound at once; the exit
code is the agent's.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from types import FrameType
from typing import Any, BinaryIO, cast

import orjson

from yomiage.config import Config
from yomiage.text.sanitize import sanitize, sanitize_line

log = logging.getLogger(__name__)

_BOM = b"\xef\xbb\xbf"
_TOOL_ARG_KEYS = ("command", "file_path", "path", "pattern", "url", "query", "description",
                  "prompt")


def with_stream_json_flags(argv: list[str]) -> list[str]:
    """``argv`` with ``--output-format stream-json --verbose`` added where missing.

    An existing ``--output-format X`` (or ``--output-format=X``) is replaced by
    stream-json, since nothing else can be narrated.
    """
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--output-format":
            i += 2
            continue
        if arg.startswith("--output-format="):
            i += 1
            continue
        out.append(arg)
        i += 1
    out += ["--output-format", "stream-json"]
    if "--verbose" not in out:
        out.append("--verbose")
    return out


def _brief_input(tool_input: Any) -> str:
    if not isinstance(tool_input, dict):
        return ""
    for key in _TOOL_ARG_KEYS:
        value = tool_input.get(key)
        if isinstance(value, str) and value:
            value = sanitize(value)
            first = value.strip().splitlines()[0] if value.strip() else ""
            return first if len(first) <= 80 else first[:77] + "…"
    return ""


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


class ConversationRenderer:
    """Prints a readable view of stream-json lines on a rich console (stderr).

    Unknown or malformed lines are ignored here: the narration's reader reports them.
    Every string from the stream is sanitized (:mod:`yomiage.text.sanitize`: no escape
    sequence reaches the terminal) and its rich markup escaped before it is printed.
    """

    def __init__(self, console: Any = None) -> None:
        if console is None:
            from rich.console import Console

            console = Console(stderr=True, highlight=False, soft_wrap=True)
        self.console = console

    def show_line(self, data: bytes) -> None:
        """Render one raw stream-json line."""
        try:
            obj = orjson.loads(data.removeprefix(_BOM).rstrip(b"\r"))
        except (orjson.JSONDecodeError, ValueError):
            return
        if isinstance(obj, dict):
            try:
                self._show(obj)
            except (AttributeError, TypeError, ValueError) as exc:  # odd field types
                log.debug("could not render a line: %s", exc)

    def _show(self, obj: dict[str, Any]) -> None:
        from rich.markdown import Markdown
        from rich.markup import escape as escape_markup

        def escape(value: str) -> str:  # one line of stream text, safe as rich markup
            return escape_markup(sanitize_line(value))

        kind = obj.get("type")
        sub = obj.get("parent_tool_use_id") is not None or obj.get("isSidechain") is True
        indent = "  │ " if sub else ""
        if kind == "system" and obj.get("subtype") == "init":
            self.console.print(f"[dim]● {escape(str(obj.get('model', 'agent')))} in "
                               f"{escape(str(obj.get('cwd', '')))}[/dim]")
        elif kind in ("assistant", "message") and isinstance(obj.get("message"), dict):
            for block in obj["message"].get("content") or []:
                if not isinstance(block, dict):
                    continue
                if block.get("type") == "text" and str(block.get("text", "")).strip():
                    if sub:
                        self.console.print(f"[dim]{indent}"
                                           f"{escape_markup(sanitize(block['text']).strip())}[/dim]")
                    else:
                        # links shown with their target: a stream cannot hide one behind its text
                        self.console.print(Markdown(sanitize(block["text"]), hyperlinks=False))
                elif block.get("type") in ("tool_use", "server_tool_use"):
                    arg = escape(_brief_input(block.get("input")))
                    self.console.print(f"{indent}[cyan]⏺ {escape(str(block.get('name')))}[/cyan]"
                                       f"[dim]({arg})[/dim]")
        elif kind == "user" and isinstance(obj.get("message"), dict):
            content = obj["message"].get("content")
            for block in content if isinstance(content, list) else []:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    text = sanitize(_result_text(block.get("content"))).strip()
                    lines = text.splitlines() or [""]
                    more = f" [dim](+{len(lines) - 1} lines)[/dim]" if len(lines) > 1 else ""
                    style = "red" if block.get("is_error") else "dim"
                    self.console.print(f"{indent}  [{style}]⎿ {escape(lines[0][:100])}[/{style}]"
                                       f"{more}")
        elif kind == "result":
            secs = float(obj.get("duration_ms") or 0) / 1000.0
            cost = obj.get("total_cost_usd")
            tail = f" · ${cost:.2f}" if isinstance(cost, (int, float)) else ""
            if obj.get("is_error") or obj.get("subtype") != "success":
                self.console.print(f"[red]✗ {escape(str(obj.get('subtype')))} after "
                                   f"{secs:.1f} s{tail}[/red]")
            else:
                self.console.print(f"[green]✓ done in {secs:.1f} s{tail}[/green]")


def tee_lines(lines: Iterable[Any], renderer: ConversationRenderer | None) -> Iterator[Any]:
    """Pass RawLines through, rendering each one first when a renderer is given."""
    for raw in lines:
        if renderer is not None:
            renderer.show_line(raw.data)
        yield raw


def _child_exit_code(returncode: int | None) -> int:
    if returncode is None:
        return 130
    return 128 - returncode if returncode < 0 else returncode


def run_agent(argv: list[str], cfg: Config, render: bool, quiet: bool) -> int:
    """Run the agent command ``argv`` (a leading "--" is dropped), narrate its stream,
    and return the agent's exit code (2 when yomiage itself cannot start)."""
    from yomiage.narrate.engines import EngineError, load_engines
    from yomiage.narrate.output import is_realtime, open_output
    from yomiage.narrate.session import finish_report, narrate_lines
    from yomiage.text.events import read_lines

    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        log.error("nothing to run: try  yomiage run -- claude -p 'your prompt'")
        return 2
    command = with_stream_json_flags(argv)
    kwargs: dict[str, Any] = {}
    if os.name == "posix":  # own process group: a terminal Ctrl-C reaches it once, from us
        kwargs["start_new_session"] = False
        if sys.version_info >= (3, 11):
            kwargs["process_group"] = 0
        else:  # pragma: no cover - 3.10
            kwargs["preexec_fn"] = os.setpgrp
    stdin = subprocess.DEVNULL if sys.stdin is None or sys.stdin.isatty() else None
    try:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=stdin, **kwargs)
    except OSError as exc:
        log.error("cannot start %s: %s", argv[0], exc.strerror or exc)
        return 127
    assert child.stdout is not None

    def forward(signum: int, frame: FrameType | None) -> None:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, forward)
    try:
        try:
            engines = load_engines(cfg)  # the agent is already working meanwhile
            sink, out = open_output(cfg, engines.voice.sample_rate)
        except EngineError as exc:
            log.error("%s", exc)
            child.terminate()
            child.wait()
            return 2
        if not quiet and engines.voice_line():
            sys.stderr.write(f"yomiage: {engines.voice_line()}\n")
        renderer = ConversationRenderer() if render else None
        lines = tee_lines(read_lines(cast(BinaryIO, child.stdout)), renderer)
        with sink:
            report = narrate_lines(lines, cfg, engines, sink, live=is_realtime(out))
        code = finish_report(report, cfg, engines, quiet)
        try:
            returncode = child.wait(timeout=10.0 if report.interrupted else None)
        except subprocess.TimeoutExpired:
            child.terminate()
            returncode = child.wait()
        return _child_exit_code(returncode) if returncode is not None else code
    except KeyboardInterrupt:  # Ctrl-C while loading or closing
        try:
            child.wait(timeout=10.0)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
        child.stdout.close()
