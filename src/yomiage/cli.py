"""The command line: parses flags, merges configuration, hands off to one module.

Each subcommand's work lives in its own module, imported only when that subcommand
runs, so `yomiage text` never loads a neural engine.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, cast

from yomiage import __version__
from yomiage.config import Config, SettingError, load_config

COMMANDS = ("narrate", "text", "run", "demo", "bench", "models", "voices", "doctor", "say",
            "daemon", "hooks", "hook", "follow", "translate")


def _add_daemon_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--daemon", dest="daemon", action="store_const", const="on",
                   help="hand the text to the shared warm daemon (starting one if needed)")
    p.add_argument("--no-daemon", dest="daemon", action="store_const", const="off",
                   help="narrate in this process even when the config says daemon = auto")


def _add_policy_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("what is spoken")
    g.add_argument("--tools", choices=["none", "brief"], help="tool calls: none or a brief phrase")
    g.add_argument("--thinking", action=argparse.BooleanOptionalAction, default=None,
                   help="speak the model's thinking too")
    g.add_argument("--subagents", action=argparse.BooleanOptionalAction, default=None,
                   help="speak subagents' prose too")
    g.add_argument("--announce-success", action=argparse.BooleanOptionalAction, default=None,
                   help="say so when a run ends well (failures are always announced)")
    g.add_argument("--code-notice", action=argparse.BooleanOptionalAction, default=None,
                   help='say "code omitted" wherever a code block or table is skipped '
                        '(default: only where a sentence ending in ":" introduced it; '
                        '--no-code-notice: never)')
    g.add_argument("--max-clause-chars", type=int, metavar="N",
                   help="cut longer sentences at clause boundaries (default 120)")


def _add_speech_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("translation and voice")
    g.add_argument("--from", dest="source_lang", metavar="LANG",
                   help="source language (default en)")
    g.add_argument("--to", dest="target_lang", metavar="LANG",
                   help="listener's language (default ja)")
    g.add_argument("--translator", choices=["auto", "ctranslate2", "openvino", "torch", "none"])
    g.add_argument("--model", dest="translation_model", metavar="NAME|DIR",
                   help="translation model (see `yomiage models list`)")
    g.add_argument("--device", choices=["auto", "cpu", "cuda"])
    g.add_argument("--compute-type", metavar="TYPE", help="int8, float16, bfloat16, float32, …")
    g.add_argument("--beam-size", type=int, metavar="N")
    g.add_argument("--stream-translation", action=argparse.BooleanOptionalAction, default=None,
                   help="speak the first translated phrase while the rest is decoded "
                        "(default on; greedy decoding)")
    g.add_argument("--threads", type=int, metavar="N")
    g.add_argument("--voice", metavar="VOICE",
                   help="e.g. kokoro:jf_alpha, piper, openjtalk, espeak")
    g.add_argument("--speed", type=float, help="speaking rate (1.0 = normal)")
    g.add_argument("--volume", type=float, help="output gain (1.0 = unchanged)")
    g.add_argument("--offline", action=argparse.BooleanOptionalAction, default=None,
                   help="never use the network")


def _add_output_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output")
    g.add_argument("--out", metavar="PATH", help="WAV file, '-' for raw PCM on stdout, or 'null'")
    g.add_argument("--max-lag", type=float, metavar="SECONDS",
                   help="live playback: skip the oldest speech beyond this lag (0 = never)")
    g.add_argument("--interrupt", action=argparse.BooleanOptionalAction, default=None,
                   help="a new user turn cuts the previous speech")
    g.add_argument("--max-sentences", type=int, metavar="N",
                   help="speak at most N sentences of each reply (0 = all)")
    g.add_argument("--skip-code-heavy", action=argparse.BooleanOptionalAction, default=None,
                   help="skip replies that are mostly code")
    g.add_argument("--timeline", metavar="FILE.jsonl", help="write every sentence's timeline")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for tests and shell completion)."""
    parser = argparse.ArgumentParser(
        prog="yomiage",
        description="Speak what a coding agent writes, translated, with local models.",
        epilog="Without a subcommand, `yomiage [FILE|-]` narrates a stream-json file or stdin.",
    )
    parser.add_argument("--version", action="version", version=f"yomiage {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("narrate", help="narrate a stream-json file or stdin (the default)")
    p.add_argument("source", nargs="?", default="-", help="file, or - for stdin (default)")
    _add_daemon_flag(p)
    _add_policy_flags(p)
    _add_speech_flags(p)
    _add_output_flags(p)

    p = sub.add_parser("text", help="print the sentences that would be spoken")
    p.add_argument("source", nargs="?", default="-", help="file, or - for stdin (default)")
    p.add_argument("--json", action="store_true", help="one JSON object per sentence")
    _add_policy_flags(p)

    p = sub.add_parser("run", help="run an agent and narrate it: yomiage run -- claude -p '…'")
    p.add_argument("agent", nargs=argparse.REMAINDER, help="the agent's command line")
    p.add_argument("--no-render", dest="render", action="store_false",
                   help="do not show the conversation on the terminal")
    _add_policy_flags(p)
    _add_speech_flags(p)
    _add_output_flags(p)

    p = sub.add_parser("demo", help="narrate the bundled sample session")
    p.add_argument("--fast", dest="paced", action="store_false",
                   help="read the whole session at once instead of at an agent's pace")
    _add_policy_flags(p)
    _add_speech_flags(p)
    _add_output_flags(p)

    p = sub.add_parser("bench", help="measure latency of each stage and the whole pipeline")
    p.add_argument("--stage", choices=["text", "translate", "voice", "pipeline", "daemon",
                                       "hooks", "soak", "listen", "all"],
                   default="pipeline",
                   help="hooks: hook → first audio through a warm daemon beside the "
                        "in-process pipeline; soak: an hour of replayed agent time with "
                        "memory sampled, and fault injection; listen: a recognizer's error "
                        "rates per voice (daemon, hooks, soak and listen are not part of all)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="FILE.png", help="draw a latency waterfall")
    p.add_argument("--baseline", action="store_true",
                   help="also run the old sequential design and print the ratio")
    p.add_argument("--realtime", action="store_true",
                   help="replay sessions at their original pace instead of as fast as possible")
    p.add_argument("--live", action="store_true",
                   help="like --realtime, with lag control on as on speakers (--max-lag)")
    p.add_argument("--max-lag", type=float, metavar="SECONDS",
                   help="with --live: skip the oldest speech beyond this lag")
    p.add_argument("--cold", action="store_true",
                   help="pipeline: time the voice without the preparation it does in idle "
                        "time (as when a file is piped in the moment it starts)")
    p.add_argument("--repeat", type=int, default=0, metavar="N", help="sentences/iterations")
    p.add_argument("--shape", metavar="NAME",
                   help="model shape for random-weight timing: marian, nllb-600m, m2m-418m")
    p.add_argument("--input", metavar="FILE", help="stream to use for --stage text")
    g = p.add_argument_group("--stage translate")
    g.add_argument("--baseline-n", type=int, default=20, metavar="N",
                   help="sentences for the Transformers baseline (with --baseline)")
    g.add_argument("--baseline-threads", type=int, default=0, metavar="N",
                   help="threads for the Transformers baseline (default: every core)")
    g.add_argument("--vmap-sizes", default="", metavar="N,N",
                   help="extra vocabulary-map sizes to time, comma-separated")
    g.add_argument("--no-openvino", dest="openvino", action="store_false",
                   help="leave out the OpenVINO engine's variants")
    g = p.add_argument_group("--stage daemon")
    g.add_argument("--sessions", type=int, default=8, metavar="N",
                   help="concurrent sessions (default 8)")
    g.add_argument("--duration", type=float, default=30.0, metavar="SECONDS",
                   help="length of the concurrent-sessions run (default 30; 120 for the goal)")
    g.add_argument("--cold-runs", type=int, default=2, metavar="N",
                   help="cold starts to time (default 2)")
    g.add_argument("--fair-units", default="reply", metavar="UNIT[,UNIT]",
                   help="what `fair` hands out in turn, one concurrent run each: reply, "
                        "sentence (default reply)")
    g = p.add_argument_group("--stage voice, --stage listen, --stage hooks")
    g.add_argument("--engines", nargs="+", metavar="VOICE",
                   help="voices to time or hear (default: every installed engine; listen also "
                        "takes kokoro-fp32, kokoro-int8, kokoro-bf16, kokoro-package; hooks: "
                        "openjtalk kokoro:jf_alpha)")
    g.add_argument("--listen-lang", default="ja,en", metavar="LANG,LANG",
                   help="--stage listen: languages whose sentences are heard (default ja,en)")
    g.add_argument("--in-reply", action="store_true",
                   help="--stage listen: also hear the sentences as one reply narrated live "
                        "(each made while the one before plays), a second row per voice")
    _add_speech_flags(p)
    _add_policy_flags(p)

    p = sub.add_parser("models", help="list, fetch, locate or remove models")
    p.add_argument("action", choices=["list", "fetch", "path", "remove"])
    p.add_argument("name", nargs="?", help="model name (see `yomiage models list`)")
    p.add_argument("--offline", action=argparse.BooleanOptionalAction, default=None)

    p = sub.add_parser("voices", help="list engines, voices and languages")
    p.add_argument("--lang", metavar="LANG", help="only voices for this language")

    p = sub.add_parser("doctor", help="check what works on this machine and how to fix the rest")
    p.add_argument("--calibrate", action="store_true",
                   help="measure again which voice keeps up on this machine (a few seconds)")

    p = sub.add_parser("say", help="speak one line: yomiage say 'こんにちは' --lang ja")
    p.add_argument("text", help="what to say")
    p.add_argument("--lang", default=None, help="language of the text (default: the --to language)")
    _add_speech_flags(p)
    p.add_argument("--out", metavar="PATH", help="WAV file, '-' for raw PCM, or 'null'")
    _add_daemon_flag(p)

    p = sub.add_parser("daemon", help="the warm narrator every agent shares: "
                                      "start, stop, status, run (foreground)")
    p.add_argument("action", choices=["start", "stop", "status", "run"])
    p.add_argument("--json", action="store_true", help="status: one JSON object")
    p.add_argument("--record", metavar="FILE.jsonl",
                   help="run: append what is spoken, cut or dropped to this file")
    p.add_argument("--policy", dest="daemon_policy", choices=["fair", "fifo", "latest"],
                   help="order between sessions (default fair)")
    p.add_argument("--idle-timeout", dest="daemon_idle_timeout", type=float,
                   metavar="SECONDS", help="unload the engines after this long idle")
    p.add_argument("--lead-in", dest="daemon_lead_in", action=argparse.BooleanOptionalAction,
                   default=None, help="name the project when the speaker changes")
    _add_policy_flags(p)
    _add_speech_flags(p)
    _add_output_flags(p)

    _add_hooks_parsers(sub)

    p = sub.add_parser("translate", help="translate text, a file or stdin, one line at a time")
    p.add_argument("source", nargs="?", default="-", help="text, a file, or - for stdin (default)")
    p.add_argument("--json", action="store_true", help="one JSON object per line, with timings")
    _add_speech_flags(p)
    for command in sub.choices.values():  # -q/-v also after the subcommand
        command.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                             help="no progress or summary")
        command.add_argument("-v", "--verbose", action="store_true",
                             default=argparse.SUPPRESS, help="debug logging")
    return parser


def _add_hooks_parsers(sub: Any) -> None:
    """`yomiage hooks …` (install into agents' settings) and `yomiage follow`."""
    p = sub.add_parser("hooks", help="install yomiage's hooks into Claude Code, Codex or "
                                     "Gemini CLI: yomiage hooks install")
    p.add_argument("action", choices=["install", "uninstall", "status"])
    p.add_argument("--agent", choices=["claude", "codex", "gemini"], default="claude")
    p.add_argument("--scope", choices=["user", "project", "local"], default="user",
                   help="user (~/.claude/settings.json), project (.claude/settings.json) "
                        "or local (.claude/settings.local.json)")
    p.add_argument("--events", nargs="+", metavar="EVENT",
                   help="events to hook (default: the usual ones; 'all' adds SubagentStop "
                        "and PreToolUse)")
    p.add_argument("--dry-run", action="store_true", help="show the change, write nothing")
    p.add_argument("--replace", action="store_true",
                   help="Codex: replace another notify program (it runs only one)")

    p = sub.add_parser("hook", help="(run by an agent) hand one hook payload to the daemon")
    p.add_argument("--agent", choices=["claude", "codex", "gemini"], default="claude")
    p.add_argument("payload", nargs="?", help="the payload (Codex passes it as an argument; "
                                              "others on stdin)")

    p = sub.add_parser("follow", help="narrate the newest Claude Code transcript as it grows")
    p.add_argument("path", nargs="?", help="a transcript .jsonl or a folder "
                                           "(default ~/.claude/projects)")
    p.add_argument("--from-start", action="store_true",
                   help="speak what the transcript already holds too")
    p.add_argument("--interval", type=float, default=0.1, metavar="SECONDS",
                   help="how often to look for new lines (default 0.1)")
    _add_policy_flags(p)
    _add_speech_flags(p)
    _add_output_flags(p)


_CONFIG_KEYS = {f for f in Config.__dataclass_fields__}


def config_from_args(args: argparse.Namespace) -> Config:
    """Merge defaults < file < env < the flags present in ``args``."""
    flags: dict[str, Any] = {k: v for k, v in vars(args).items() if k in _CONFIG_KEYS}
    return load_config(flags)


def _subparser(parser: argparse.ArgumentParser, command: str | None) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return cast(argparse.ArgumentParser, action.choices[command])
    return parser


def _flag_for(parser: argparse.ArgumentParser, command: str | None, key: str) -> str:
    """The command-line flag that sets Config field ``key`` (e.g. --from for source_lang)."""
    for action in _subparser(parser, command)._actions:
        if action.dest == key and action.option_strings:
            return str(action.option_strings[0])
    return "--" + key.replace("_", "-")


def _normalise_argv(argv: list[str]) -> list[str]:
    """`yomiage FILE …` and bare `yomiage` mean `yomiage narrate …`."""
    for i, arg in enumerate(argv):
        if arg in ("-h", "--help", "--version"):
            return argv
        if arg in ("-q", "--quiet", "-v", "--verbose"):
            continue
        if arg in COMMANDS:
            return argv
        return [*argv[:i], "narrate", *argv[i:]]
    return [*argv, "narrate"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `yomiage` console script; returns the exit code.

    Ctrl-C at any moment returns 130 without a traceback. As the console script
    (``argv`` None), an interrupted run then leaves at once through ``os._exit``, after
    its output is flushed: interpreter finalisation would wait for models still loading
    and could abort under an engine still inside a native call.
    """
    from yomiage import early

    early.restore_sigint()  # KeyboardInterrupt from here on (see yomiage.early)
    try:
        code = _main(argv)
    except KeyboardInterrupt:
        code = 130
    if argv is None and code == 130:
        early.leave_now(code)
    return code


def _main(argv: Sequence[str] | None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["hook"]:  # an agent's hook: the light client, never the full parser
        from yomiage.hooks.cli import main as hook_main

        return hook_main(raw[1:])
    parser = build_parser()
    args = parser.parse_args(_normalise_argv(raw))
    from yomiage.logs import setup_logging

    setup_logging(verbose=args.verbose, quiet=args.quiet)
    try:
        cfg = config_from_args(args)
    except SettingError as exc:  # only flags raise: the file and environment warn
        _subparser(parser, args.command).error(
            f"argument {_flag_for(parser, args.command, exc.key)}: {exc.reason}")
    args.raw_argv = raw
    try:
        return _dispatch(args, cfg)
    except BrokenPipeError:
        return 0


def _dispatch(args: argparse.Namespace, cfg: Config) -> int:
    cmd = args.command
    if cmd == "text":
        from yomiage.commands.text import run_text

        return run_text(args.source, cfg, as_json=args.json)
    if cmd == "narrate":
        from yomiage.commands.narrate import run_narrate

        return run_narrate(args.source, cfg, quiet=args.quiet)
    if cmd == "daemon":
        from yomiage.commands.daemon import run_daemon

        raw = list(getattr(args, "raw_argv", []))
        forward = raw[raw.index("start") + 1:] if "start" in raw else []
        return run_daemon(args.action, cfg, forward=forward, as_json=args.json,
                          record=args.record)
    if cmd == "run":
        from yomiage.commands.run import run_agent

        return run_agent(args.agent, cfg, render=args.render, quiet=args.quiet)
    if cmd == "demo":
        from yomiage.commands.narrate import run_demo

        return run_demo(cfg, quiet=args.quiet, paced=args.paced)
    if cmd == "bench":
        from yomiage.bench.main import run_bench

        return run_bench(args, cfg)
    if cmd == "models":
        from yomiage.commands.models import run_models_command

        return run_models_command(args.action, args.name, cfg)
    if cmd == "voices":
        from yomiage.commands.voices import run_voices

        return run_voices(cfg, lang=args.lang)
    if cmd == "doctor":
        from yomiage.commands.doctor import run_doctor

        return run_doctor(cfg, calibrate=bool(getattr(args, "calibrate", False)))
    if cmd == "say":
        from yomiage.commands.say import run_say

        if _use_daemon(cfg):
            from yomiage.daemon.sayclient import say_via_daemon

            return say_via_daemon(args.text, lang=args.lang)
        return run_say(args.text, cfg, lang=args.lang)
    if cmd == "hook":  # reached only with global flags before it (`yomiage -v hook`)
        from yomiage.hooks.cli import main as hook_main

        return hook_main(["--agent", args.agent, *([args.payload] if args.payload else [])])
    if cmd == "hooks":
        from yomiage.commands.hooks import run_hooks

        return run_hooks(args.action, agent=args.agent, scope=args.scope, events=args.events,
                         dry_run=args.dry_run, replace=args.replace)
    if cmd == "follow":
        from yomiage.commands.follow import run_follow

        return run_follow(args.path, cfg, from_start=args.from_start, interval=args.interval,
                          quiet=args.quiet)
    if cmd == "translate":
        from yomiage.commands.translate import run_translate

        return run_translate(args.source, cfg, as_json=args.json)
    raise AssertionError(f"unhandled command {cmd!r}")


def _use_daemon(cfg: Config) -> bool:
    """True when this client should hand its text to the daemon (on; or auto and one
    answers)."""
    if cfg.daemon == "on":
        return True
    if cfg.daemon == "auto":
        from yomiage.daemon.client import try_connect

        conn = try_connect()
        if conn is not None:
            conn.close()
            return True
    return False


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
