"""Brief spoken phrases for tool calls: ``Read {file_path: …/main.py}`` → "Reading main.py".

``tool_phrase(name, input)`` always returns a short, complete phrase built only from the
tool's name and input (never from its output).
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from yomiage.text.speech_text import path_name, url_host

_TEST_CMD = re.compile(
    r"\b(pytest|py\.test|unittest|tox|nox|go test|cargo test|npm (?:run )?test|yarn test|"
    r"pnpm test|vitest|jest|mocha|rspec|phpunit|ctest|make (?:test|check)|gradle test|mvn test)\b"
)
_LINT_CMD = re.compile(
    r"\b(ruff|flake8|pylint|mypy|eslint|actionlint|golangci-lint|shellcheck|clippy|"
    r"tsc --noEmit|prettier --check|black --check)\b"
)
_BUILD_CMD = re.compile(
    r"\b(make|cargo build|go build|npm run build|yarn build|pnpm build|tsc|cmake|gradle build|"
    r"mvn package|docker build)\b"
)
_INSTALL_CMD = re.compile(r"\b(pip install|uv pip install|npm (?:ci|install)|yarn install|"
                          r"pnpm install|poetry install|uv sync|apt-get install|brew install)\b")
_WRAPPERS = frozenset({"sudo", "env", "time", "nohup", "exec", "command"})
_GIT = {
    "commit": "Committing the changes", "push": "Pushing the branch", "pull": "Pulling changes",
    "diff": "Looking at the diff", "status": "Checking git status", "log": "Reading the git log",
    "checkout": "Switching branches", "switch": "Switching branches", "merge": "Merging",
    "rebase": "Rebasing", "clone": "Cloning a repository", "add": "Staging files",
    "stash": "Stashing changes", "fetch": "Fetching from the remote",
}


def _file(inp: dict[str, Any], *keys: str) -> str:
    for k in keys:
        v = inp.get(k)
        if isinstance(v, str) and v.strip():
            name = path_name(v.strip())
            return name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return ""


def _command(cmd: str) -> str:
    if _TEST_CMD.search(cmd):
        return "Running the tests"
    if _LINT_CMD.search(cmd):
        return "Running the linter"
    if _INSTALL_CMD.search(cmd):
        return "Installing dependencies"
    m = re.search(r"\bgit\s+(?:-C\s+\S+\s+)?([a-z-]+)", cmd)
    if m and m.group(1) in _GIT:
        return _GIT[m.group(1)]
    if _BUILD_CMD.search(cmd):
        return "Building the project"
    prog = ""
    for part in re.split(r"&&|\|\||;|\|", cmd):
        try:
            words = shlex.split(part, comments=True)
        except ValueError:
            words = part.split()
        words = [w for w in words if "=" not in w.split("/")[0] and w not in _WRAPPERS]
        if words and words[0] != "cd":
            prog = words[0]
            break
    prog = path_name(prog) if prog else ""
    if prog and prog.replace("-", "").replace("_", "").replace(".", "").isalnum():
        return f"Running {prog}"
    return "Running a command"


def tool_phrase(name: str, inp: dict[str, Any], server: bool = False) -> str:
    """A short phrase saying what the tool call does, e.g. "Editing config.toml"."""
    if name in ("Read", "NotebookRead"):
        f = _file(inp, "file_path", "notebook_path", "path")
        return f"Reading {f}" if f else "Reading a file"
    if name in ("Edit", "MultiEdit", "NotebookEdit"):
        f = _file(inp, "file_path", "notebook_path")
        return f"Editing {f}" if f else "Editing a file"
    if name == "Write":
        f = _file(inp, "file_path")
        return f"Writing {f}" if f else "Writing a file"
    if name == "Bash" or name == "BashOutput":
        cmd = inp.get("command")
        return _command(cmd) if isinstance(cmd, str) else "Running a command"
    if name == "Grep":
        return "Searching the code"
    if name in ("Glob", "LS"):
        return "Looking for files"
    if name in ("Task", "Agent"):
        d = inp.get("description")
        if isinstance(d, str) and 0 < len(d) <= 60:
            return f"Starting a subagent: {d.strip().rstrip('.')}"
        return "Starting a subagent"
    if name == "TodoWrite":
        return "Updating the to-do list"
    if name == "WebFetch":
        url = inp.get("url")
        return f"Fetching {url_host(url)}" if isinstance(url, str) and url else "Fetching a page"
    if name in ("WebSearch", "web_search"):
        return "Searching the web"
    if name == "KillShell" or name == "KillBash":
        return "Stopping a background command"
    if name == "ExitPlanMode":
        return "Presenting the plan"
    if name.startswith("mcp__"):
        parts = name.split("__")
        tool = parts[-1].replace("_", " ").replace("-", " ")
        server_name = parts[1] if len(parts) > 2 else ""
        return f"Using {tool} on {server_name}" if server_name else f"Using {tool}"
    if server:
        return f"Using {name.replace('_', ' ')}"
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace("_", " ").strip().lower()
    return f"Using {words}" if words else "Using a tool"
