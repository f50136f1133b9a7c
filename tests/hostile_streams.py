"""A corpus of hostile stream classes, each one sandwiched between two good sentences.

``CLASSES`` maps a class name to a function returning the hostile bytes (without the line
break that separates them from the good line after them). :func:`sandwich` builds the
whole stream: a good assistant line, the hostile part, a line break, a good line. A
reader that survives a class speaks both good sentences, raises nothing and prints a
bounded number of warnings.

Run as a script to write every class to a folder (for ``yomiage text`` by hand)::

    python tests/hostile_streams.py /tmp/hostile
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path

import orjson

MB = 1 << 20


def msg(text: str, mid: str | None = None, **extra: object) -> bytes:
    """One full ``assistant`` line carrying ``text``."""
    m: dict[str, object] = {"role": "assistant", "content": [{"type": "text", "text": text}]}
    if mid is not None:
        m["id"] = mid
    return orjson.dumps({"type": "assistant", "message": m, **extra})


def _assistant_raw(text_json: bytes, mid: str = "h") -> bytes:
    """An assistant line whose text field is the raw JSON bytes ``text_json``."""
    return (b'{"type":"assistant","message":{"id":"' + mid.encode() +
            b'","role":"assistant","content":[{"type":"text","text":' + text_json + b'}]}}')


def _ev(event: dict[str, object]) -> bytes:
    return orjson.dumps({"type": "stream_event", "event": event})


def _tool(name: str, inp: dict[str, object]) -> bytes:
    return orjson.dumps({"type": "assistant", "message": {"id": "tool-msg", "content": [
        {"type": "tool_use", "id": "t1", "name": name, "input": inp}]}})


def _urandom(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def _nest(depth: int, open_: str, close: str) -> bytes:
    return (open_ * depth + close * depth).encode()


CLASSES: dict[str, Callable[[], bytes]] = {
    # --- encodings and bytes
    "invalid_utf8_in_text": lambda: _assistant_raw(b'"caf\xc3 \xff\xfe bad bytes."'),
    "invalid_utf8_line": lambda: b"\xff\xfe\xfd garbage \x80\x81",
    "overlong_utf8": lambda: _assistant_raw(b'"slash \xc0\xaf here."'),
    "cesu_surrogate_bytes": lambda: _assistant_raw(b'"half \xed\xa0\x80 pair."'),
    "nul_line": lambda: b"\0" * 1000,
    "raw_nul_in_json_string": lambda: _assistant_raw(b'"nul \x00 inside."'),
    "escaped_nul_in_text": lambda: _assistant_raw(b'"nul \\u0000 escaped."'),
    "lone_surrogate_escapes": lambda: _assistant_raw(b'"lone \\udfff and \\ud800 x."'),
    "utf8_bom_line": lambda: b"\xef\xbb\xbf" + msg("A BOM line.", "bom"),
    "utf16_bom_line": lambda: b"\xff\xfe" + msg("utf16", "u16").decode().encode("utf-16-le"),
    "utf32_bom_line": lambda: b"\x00\x00\xfe\xff" + b"{}".decode().encode("utf-32-be"),
    "bom_mid_line": lambda: b'{"type":"assistant",\xef\xbb\xbf"message":1}',
    "only_boms": lambda: b"\xef\xbb\xbf" * 1000,
    # --- line endings and sizes
    "cr_only_endings": lambda: b"\r".join(msg(f"CR line {k}.", f"cr{k}") for k in range(3)),
    "crlf_endings": lambda: b"\r\n".join(msg(f"CRLF line {k}.", f"crlf{k}") for k in range(3)),
    "mixed_endings": lambda: msg("Mixed a.", "ma") + b"\r" + msg("Mixed b.", "mb") + b"\r\n",
    "cr_flood": lambda: b"\r" * (MB // 4),
    "empty_line_flood": lambda: b"\n" * 100_000,
    "whitespace_lines": lambda: b" \t \n" * 10_000,
    "huge_line_over_limit": lambda: b"x" * (17 * MB),
    "huge_valid_json_over_limit": lambda: msg("y " * (9 * MB), "big"),
    "big_tool_result_under_limit": lambda: orjson.dumps({"type": "user", "message": {
        "content": [{"type": "tool_result", "tool_use_id": "t", "content": "z" * (5 * MB)}]}}),
    "no_newline_zeros": lambda: b"\0" * (17 * MB),
    "short_line_no_newline_then_cr": lambda: b'{"type":"assist',
    # --- JSON structure
    "nesting_bomb_arrays": lambda: _nest(200_000, "[", "]"),
    "nesting_bomb_objects": lambda: b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "nesting_bomb_in_content": lambda: (b'{"type":"assistant","message":{"content":' +
                                        _nest(50_000, "[", "]") + b"}}"),
    "truncated_json": lambda: msg("Never finished.", "tr")[:40],
    "concatenated_json": lambda: msg("First.", "c1") + msg("Second.", "c2"),
    "json_then_garbage": lambda: msg("Trailing junk.", "tj") + b" junk",
    "nan_infinity": lambda: b'{"type":"result","subtype":"success","is_error":false,'
                            b'"duration_ms":NaN,"total_cost_usd":Infinity}',
    "huge_exponent": lambda: b'{"type":"result","num_turns":1e100000}',
    "huge_integer": lambda: b'{"type":"result","num_turns":' + b"9" * 5000 + b"}",
    "duplicate_keys": lambda: b'{"type":"assistant","type":"user","message":{"content":"x"}}',
    "many_keys": lambda: orjson.dumps({f"k{k}": k for k in range(100_000)}),
    "pretty_printed": lambda: orjson.dumps(orjson.loads(msg("Pretty.", "pp")),
                                           option=orjson.OPT_INDENT_2),
    # --- wrong types
    "top_level_array": lambda: b"[1,2,3]",
    "top_level_string": lambda: b'"just a string"',
    "top_level_null": lambda: b"null",
    "type_missing": lambda: b'{"message":{"content":"x"}}',
    "type_number": lambda: b'{"type":42}',
    "unknown_type": lambda: b'{"type":"from_the_future","payload":[1]}',
    "content_is_dict": lambda: b'{"type":"assistant","message":{"content":{"a":1}}}',
    "text_is_number": lambda: b'{"type":"assistant","message":{"content":[{"type":"text",'
                              b'"text":3.5}]}}',
    "message_is_list": lambda: b'{"type":"assistant","message":[1,2]}',
    "block_is_string": lambda: b'{"type":"assistant","message":{"content":["oops"]}}',
    "result_wrong_types": lambda: b'{"type":"result","subtype":7,"is_error":"yes"}',
    "stream_event_is_list": lambda: b'{"type":"stream_event","event":[]}',
    "delta_index_string": lambda: _ev({"type": "content_block_delta", "index": "0",
                                      "delta": {"type": "text_delta", "text": "x"}}),
    "delta_unopened_index": lambda: _ev({"type": "content_block_delta", "index": 99,
                                        "delta": {"type": "text_delta", "text": "Stray."}}),
    "message_start_without_stop": lambda: b"\n".join([
        _ev({"type": "message_start", "message": {"id": "open"}}),
        _ev({"type": "content_block_start", "index": 0,
             "content_block": {"type": "text", "text": ""}})]),
    "input_json_delta_garbage": lambda: b"\n".join([
        _ev({"type": "message_start", "message": {"id": "tj"}}),
        _ev({"type": "content_block_start", "index": 0, "content_block": {
            "type": "tool_use", "id": "t", "name": "Read", "input": {}}}),
        _ev({"type": "content_block_delta", "index": 0, "delta": {
            "type": "input_json_delta", "partial_json": "{\"file_path\": [[[["}}),
        _ev({"type": "content_block_stop", "index": 0}), _ev({"type": "message_stop"})]),
    "ten_thousand_blocks": lambda: orjson.dumps({"type": "assistant", "message": {
        "id": "many", "content": [{"type": "redacted_thinking"}] * 10_000}}),
    "huge_message_id": lambda: msg("Id line.", "i" * MB),
    "huge_tool_input": lambda: _tool("Write", {"file_path": "/a.txt", "content": "w" * MB}),
    "conversation_reset_spam": lambda: b"\n".join([b'{"type":"conversation_reset"}'] * 10_000),
    "huge_user_prompt": lambda: orjson.dumps({"type": "user", "message": {
        "content": "p " * MB}}),
    # --- binary noise
    "urandom_1mb": lambda: _urandom(MB, 1),
    "urandom_no_newline": lambda: _urandom(64 * 1024, 2).replace(b"\n", b"").replace(b"\r", b""),
    # --- terminal escapes
    "csi_colours_in_text": lambda: msg("\x1b[31mRed\x1b[0m and \x1b[2J cleared.", "csi"),
    "osc52_clipboard_in_text": lambda: msg("Copy \x1b]52;c;ZWNobyBwd25lZA==\x07 this.", "osc"),
    "osc_title_in_tool_path": lambda: _tool("Read", {"file_path": "/x/\x1b]0;pwned\x07a.py"}),
    "eight_bit_csi": lambda: msg("Eight \x9b31m bit.", "c1"),
    "bidi_overrides": lambda: msg("Bidi \u202eevil\u202c text.", "bidi"),
    "form_feed_vtab": lambda: msg("Form\x0cfeed\x0bvtab.", "ff"),
    "unterminated_osc": lambda: msg("Open \x1b]0;never closed", "uosc"),
    # --- huge markdown
    "huge_word": lambda: msg("w" * MB, "hw"),
    "huge_code_block": lambda: msg("```\n" + "x = 1\n" * (MB // 6) + "```", "hc"),
    "huge_table": lambda: msg("|a|b|\n|-|-|\n" + "|1|2|\n" * (MB // 6), "ht"),
    "huge_brackets": lambda: msg("[" * MB, "hb"),
    "huge_angles": lambda: msg("< " * (MB // 2), "ha"),
    "huge_inline_code": lambda: msg("`" + "a b " * (MB // 4) + "`", "hi"),
    "huge_sentence": lambda: msg("word " * (MB // 5), "hs"),
    "huge_cjk_run": lambda: msg("あ" * (MB // 3), "hj"),
    "quote_nesting": lambda: msg(">" * MB + " deep", "qn"),
    "emoji_flood": lambda: msg("😀" * (MB // 4), "em"),
    "zero_width_flood": lambda: msg("\u200b" * MB, "zw"),
    "entity_flood": lambda: msg("&amp;" * (MB // 5), "en"),
    "unclosed_system_reminder": lambda: msg("<system-reminder>" + "secret " * 1000, "sr"),
    "unclosed_fence": lambda: msg("Text.\n```\ncode never closed", "uf"),
    # --- replays
    "replayed_message": lambda: msg(f"Good sentence before {REPLAY_INDEX}.", f"good-before-"
                                    f"{REPLAY_INDEX}"),
}

REPLAY_INDEX = sorted(CLASSES).index("replayed_message")


def good(kind: str, k: int) -> str:
    """The good sentence before (``kind="before"``) or after class number ``k``."""
    return f"Good sentence {kind} {k}."


def sandwich(name: str) -> bytes:
    """The stream for one class: good line, hostile bytes, line break, good line."""
    k = sorted(CLASSES).index(name)
    return (msg(good("before", k), f"good-before-{k}") + b"\n" + CLASSES[name]() + b"\n" +
            msg(good("after", k), f"good-after-{k}") + b"\n")


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "hostile")
    out.mkdir(parents=True, exist_ok=True)
    for name in sorted(CLASSES):
        (out / f"{name}.ndjson").write_bytes(sandwich(name))
    print(f"{len(CLASSES)} classes in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
