"""Build the English→Japanese software-domain corpus from python-docs-ja's ``.po`` files.

Reads a bare git mirror of ``python/python-docs-ja`` (every branch named on the command
line, newest first), never the ``tutorial/``, ``faq/`` or ``howto/`` folders (held out
for an independent check). Each translated message becomes plain text the way yomiage's
speech text would see it (reST roles, literals, links and emphasis reduced to their
words), is split into sentence pairs where both sides have the same number of
sentences, filtered (Japanese present, length ratio, no untranslated copies) and
deduplicated on the English side. Documents are split by a hash of their path into
train / dev / test, so no sentence of a test document's page is trained on.

Usage::

    python training/corpus.py --repo /path/to/python-docs-ja.git --out training/data \
        --branches 3.11 3.10 3.9 3.8 3.7 3.6 2.7

Writes ``train.tsv``, ``dev.tsv``, ``test.tsv`` (English TAB Japanese, one pair a line)
and ``stats.json``. ``--held-out FILE --exclude training/data/*.tsv`` writes the held-out
folders' pairs instead (the first branch only), for ``training/heldout.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HELD_OUT = ("tutorial/", "faq/", "howto/")

_JA = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_ROLE = re.compile(r":(?:[\w-]+:)?[\w-]+:`([^`]*)`")
_LITERAL = re.compile(r"``([^`]+)``")
_LINK = re.compile(r"`([^`<]*?)\s*<[^`>]*>`_{1,2}")
_REF = re.compile(r"`([^`]+)`_{1,2}")
_INTERP = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*([^*]+)\*\*")
_EMPH = re.compile(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])")
_SUBST = re.compile(r"\|([\w -]+)\|")
_EN_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_JA_SPLIT = re.compile(r"(?<=[。！？])\s*")


@dataclass(frozen=True)
class Pair:
    """One aligned English/Japanese pair and the document it came from."""

    en: str
    ja: str
    doc: str


def _role_text(match: re.Match[str]) -> str:
    body = match.group(1)
    titled = re.match(r"(.*?)\s*<[^>]*>$", body, re.S)
    if titled and titled.group(1):
        return titled.group(1)
    body = body.lstrip("!")
    if body.startswith("~"):
        body = body[1:].rsplit(".", 1)[-1]
    return body


def plain(text: str) -> str:
    """reST markup reduced to the words a listener would hear (whitespace collapsed)."""
    text = text.replace("\\ ", "")
    text = _ROLE.sub(_role_text, text)
    text = _LITERAL.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REF.sub(r"\1", text)
    text = _INTERP.sub(r"\1", text)
    text = _STRONG.sub(r"\1", text)
    text = _EMPH.sub(r"\1", text)
    text = _SUBST.sub(r"\1", text)
    text = re.sub(r"::$", ":", text.strip())
    text = unicodedata.normalize("NFKC", text) if _JA.search(text) else text
    return re.sub(r"\s+", " ", text).strip()


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(line: str) -> str:
    body = line[line.index('"') + 1: line.rindex('"')]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def parse_po(text: str) -> Iterator[tuple[str, str]]:
    """(msgid, msgstr) of each translated, non-fuzzy entry of a ``.po`` file."""
    entry: dict[str, str] = {}
    key = ""
    fuzzy = False

    def flush() -> Iterator[tuple[str, str]]:
        if entry.get("msgid") and entry.get("msgstr") and not fuzzy:
            yield entry["msgid"], entry["msgstr"]

    for line in text.splitlines():
        if not line.strip():
            yield from flush()
            entry, key, fuzzy = {}, "", False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith(("msgid ", "msgstr ", "msgctxt ")):
            key = line.split(" ", 1)[0]
            entry[key] = _unquote(line)
        elif line.startswith('"') and key:
            entry[key] += _unquote(line)
    yield from flush()


def _good(en: str, ja: str) -> bool:
    if not _JA.search(ja) or en == ja or len(re.findall(r"[A-Za-z]{3,}", en)) < 2:
        return False
    if en.startswith((">>>", "$ ", "...")) or len(en) > 400 or len(en) < 8:
        return False
    ratio = len(ja) / len(en)
    return 0.12 <= ratio <= 1.6


def align(en: str, ja: str) -> list[tuple[str, str]]:
    """Sentence pairs of one message when both sides split into the same number of
    sentences; else the whole message as one pair."""
    en_s = [s for s in _EN_SPLIT.split(en) if s.strip()]
    ja_s = [s for s in _JA_SPLIT.split(ja) if s.strip()]
    if len(en_s) == len(ja_s) > 1:
        return list(zip(en_s, ja_s, strict=True))
    return [(en, ja)]


def split_of(doc: str, dev_pct: int, test_pct: int) -> str:
    """``test``, ``dev`` or ``train`` for a document path, stable across runs."""
    bucket = int(hashlib.sha256(doc.encode()).hexdigest(), 16) % 100
    if bucket < test_pct:
        return "test"
    return "dev" if bucket < test_pct + dev_pct else "train"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={repo}", *args], check=True,
                          capture_output=True, text=True).stdout


def extract(repo: Path, branches: list[str]) -> Iterator[Pair]:
    """Every cleaned pair of every non-held-out ``.po`` file, newest branch first."""
    for branch in branches:
        for path in _git(repo, "ls-tree", "-r", "--name-only", branch).splitlines():
            if not path.endswith(".po") or path.startswith(HELD_OUT):
                continue
            text = _git(repo, "show", f"{branch}:{path}")
            for msgid, msgstr in parse_po(text):
                en, ja = plain(msgid), plain(msgstr)
                for en_s, ja_s in align(en, ja):
                    if _good(en_s, ja_s):
                        yield Pair(en_s, ja_s, path)


def extract_held_out(repo: Path, branch: str, exclude: set[str]) -> list[Pair]:
    """The cleaned pairs of the held-out folders of ``branch`` whose English (lower-cased)
    is not in ``exclude`` (sentences that also occur elsewhere were trained on), deduped."""
    pairs: list[Pair] = []
    seen = set(exclude)
    for path in _git(repo, "ls-tree", "-r", "--name-only", branch).splitlines():
        if not path.endswith(".po") or not path.startswith(HELD_OUT):
            continue
        for msgid, msgstr in parse_po(_git(repo, "show", f"{branch}:{path}")):
            for en_s, ja_s in align(plain(msgid), plain(msgstr)):
                if _good(en_s, ja_s) and en_s.lower() not in seen:
                    seen.add(en_s.lower())
                    pairs.append(Pair(en_s, ja_s, path))
    return pairs


def write_held_out(args: argparse.Namespace) -> None:
    """``--held-out FILE``: the independent check's pairs, never trained or tuned on."""
    exclude: set[str] = set()
    for split in args.exclude:
        for line in split.read_text(encoding="utf-8").splitlines():
            exclude.add(line.partition("\t")[0].lower())
    pairs = extract_held_out(args.repo, args.branches[0], exclude)
    args.held_out.parent.mkdir(parents=True, exist_ok=True)
    with args.held_out.open("w", encoding="utf-8") as f:
        for p in pairs:
            f.write(f"{p.en}\t{p.ja}\t{p.doc}\n")
    by_folder = {h: sum(p.doc.startswith(h) for p in pairs) for h in HELD_OUT}
    print(json.dumps({"held_out": len(pairs), "branch": args.branches[0],
                      "commit": _git(args.repo, "rev-parse", args.branches[0]).strip(),
                      "excluded_english": len(exclude), **by_folder}))


def main() -> None:
    """Write the splits and their statistics (or, with ``--held-out``, the held-out set)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", type=Path, required=True, help="bare git dir of python-docs-ja")
    ap.add_argument("--out", type=Path, default=Path("training/data"))
    ap.add_argument("--branches", nargs="+", default=["3.11", "3.10", "3.9", "3.8", "3.7",
                                                       "3.6", "2.7"])
    ap.add_argument("--dev-pct", type=int, default=2)
    ap.add_argument("--test-pct", type=int, default=2)
    ap.add_argument("--held-out", type=Path, metavar="FILE",
                    help="instead: write the held-out folders' pairs of the first branch "
                         "(English not in --exclude) to FILE, for training/heldout.py")
    ap.add_argument("--exclude", type=Path, nargs="*", default=[],
                    help="with --held-out: splits whose English sentences to leave out")
    args = ap.parse_args()
    if args.held_out:
        write_held_out(args)
        return
    seen: dict[str, str] = {}
    splits: dict[str, list[Pair]] = {"train": [], "dev": [], "test": []}
    raw = 0
    for pair in extract(args.repo, args.branches):
        raw += 1
        key = pair.en.lower()
        if key in seen:
            continue
        split = split_of(pair.doc, args.dev_pct, args.test_pct)
        seen[key] = split
        splits[split].append(pair)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, pairs in splits.items():
        with (args.out / f"{name}.tsv").open("w", encoding="utf-8") as f:
            for p in pairs:
                f.write(f"{p.en}\t{p.ja}\n")
    stats = {"source": "python/python-docs-ja", "commit": _git(args.repo, "rev-parse",
                                                                args.branches[0]).strip(),
             "branches": args.branches, "held_out": list(HELD_OUT), "pairs_before_dedupe": raw,
             **{name: len(p) for name, p in splits.items()},
             "test_docs": sorted({p.doc for p in splits["test"]}),
             "dev_docs": sorted({p.doc for p in splits["dev"]})}
    (args.out / "stats.json").write_text(json.dumps(stats, indent=1, ensure_ascii=False))
    print(json.dumps({k: v for k, v in stats.items() if not k.endswith("_docs")}))


if __name__ == "__main__":
    main()
