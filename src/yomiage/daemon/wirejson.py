"""JSON for the daemon's clients without importing :mod:`json`.

``import json`` pulls in ``re`` and ``enum`` for its pure-Python fallbacks: 13 of the 16.6 ms
that a `say --daemon` client spent importing (``python -X importtime``, 2-core CPU). The parsing
and writing themselves are CPython's C accelerator, ``_json``, which :mod:`json` uses too;
this module calls it directly with the settings of ``json.loads`` / ``json.dumps(obj,
ensure_ascii=False, separators=(",", ":"))``, so the results are the same. Where
``_json`` is missing or its signature differs (another interpreter), it falls back to
:mod:`json` itself.

Promises: :func:`loads` accepts what ``json.loads`` accepts for UTF-8 text and raises
its ValueError (or RecursionError) where it does (a document that is not JSON is handed
to :mod:`json` for the error: only the good path is light); :func:`dumps` writes
compact UTF-8 JSON and raises TypeError or ValueError for what ``json.dumps`` refuses.
"""

from __future__ import annotations

TYPE_CHECKING = False  # (not from typing: clients import this module and must start fast)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_WHITESPACE = " \t\n\r"
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Context:
    """The attributes ``_json.make_scanner`` reads off a JSONDecoder (its defaults)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__


def _not_serializable(obj: Any) -> Any:
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _c_codec() -> tuple[Callable[[str, int], tuple[Any, int]], Callable[[Any], str]] | None:
    """The C scanner and encoder, checked on a sample; None where they cannot be used."""
    try:
        import _json

        scan = _json.make_scanner(_Context())  # type: ignore[arg-type]  # duck-typed

        def dump(obj: Any) -> str:
            # A new encoder each time: its ``markers`` dict (circular references) must
            # start empty, as json.dumps's does.
            encode = _json.make_encoder({}, _not_serializable, _json.encode_basestring,
                                        None, ":", ",", False, False, True)
            return "".join(encode(obj, 0))

        sample = {"a": [1, 2.5, True, None, "é\n"], "b": {}}
        if scan(dump(sample), 0) != (sample, len(dump(sample))):
            return None
        return scan, dump
    except Exception:  # no _json, another signature: the json module will do
        return None


_CODEC = _c_codec()


def loads(data: bytes | str) -> Any:
    """The value of one JSON document (UTF-8 bytes or text); ValueError when it is not
    JSON, with nothing but whitespace around it."""
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    if _CODEC is None:
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _CODEC[0](text, start)
        if not text[end:].strip(_WHITESPACE):
            return value
    except (StopIteration, SystemError):
        # The C scanner reports errors through json.decoder.JSONDecodeError, which it
        # finds only when json is already imported (SystemError otherwise).
        pass
    import json

    return json.loads(text)  # not JSON: the json module's own error, where it is


def dumps(obj: Any) -> str:
    """``obj`` as compact JSON text, non-ASCII characters kept as they are."""
    if _CODEC is None:
        import json

        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return _CODEC[1](obj)
