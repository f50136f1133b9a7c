"""An API error that Claude Code writes as the assistant's text → one short phrase.

When a request fails, Claude Code puts the error in an assistant message of its own:
``API Error: 404 {"type":"error","error":{"type":"not_found_error",…},"request_id":"req_…"}``
or ``API Error: Rate limit reached for requests.`` The listener needs what happened, not
the JSON body or the request id::

    >>> api_error_phrase('API Error: 404 {"type":"error","error":{"type":"not_found_error"}}')
    'An API error: 404, not found.'
    >>> api_error_phrase("API Error: 529 Overloaded")
    'An API error: 529, overloaded.'
    >>> api_error_phrase("All tests pass.") is None
    True

The phrase is English (Claude Code writes these in English) and short, so the translator
renders it in the listener's language like any other sentence.
"""

from __future__ import annotations

import re

import orjson

_HEAD = re.compile(
    r"\s*API Error(?:\s*\((?P<paren>\d{3})\))?:\s*(?:(?P<status>\d{3})\b)?\s*(?P<rest>.*)", re.S)
STATUS_WORDS = {
    400: "bad request", 401: "not authorised", 402: "billing", 403: "permission denied",
    404: "not found", 408: "timed out", 413: "request too large", 422: "invalid request",
    429: "rate limited", 504: "timed out", 529: "overloaded",
}
"""HTTP status → what the listener hears after "An API error: 404,"."""
TYPE_WORDS = {
    "invalid_request_error": "bad request", "authentication_error": "not authorised",
    "billing_error": "billing", "permission_error": "permission denied",
    "not_found_error": "not found", "request_too_large": "request too large",
    "rate_limit_error": "rate limited", "api_error": "server error",
    "overloaded_error": "overloaded", "timeout_error": "timed out",
}
"""Anthropic error ``type`` → words, for a body without a status number."""
MAX_MESSAGE = 80
"""A plain message (no JSON) up to this long is spoken as it is when nothing else names
the error."""


def status_words(status: int | None) -> str | None:
    """Words for an HTTP status (a 5xx without its own words is "server error")."""
    if status is None:
        return None
    if status in STATUS_WORDS:
        return STATUS_WORDS[status]
    return "server error" if status >= 500 else None


def _body_type(rest: str) -> str | None:
    start = rest.find("{")
    if start < 0:
        return None
    try:
        body = orjson.loads(rest[start : rest.rfind("}") + 1])
    except orjson.JSONDecodeError:
        m = re.search(r'"type"\s*:\s*"(\w+_error|request_too_large)"', rest)
        return m.group(1) if m else None
    err = body.get("error") if isinstance(body, dict) else None
    kind = err.get("type") if isinstance(err, dict) else None
    return kind if isinstance(kind, str) else None


def api_error_phrase(text: str) -> str | None:
    """"An API error: 404, not found." for an assistant text that is an API error, else
    None. Never includes the JSON body or the request id."""
    if "API Error" not in text[:40]:
        return None
    m = _HEAD.match(text)
    if m is None:
        return None
    number = m.group("status") or m.group("paren")
    status = int(number) if number else None
    rest = m.group("rest").strip()
    words = status_words(status)
    if words is None:
        kind = _body_type(rest)
        words = TYPE_WORDS.get(kind or "")
    if words is None and rest and "{" not in rest and len(rest) <= MAX_MESSAGE \
            and "req_" not in rest:
        words = rest.rstrip(".").strip()
        words = words[0].lower() + words[1:] if words[:2].istitle() else words
    parts = [p for p in (number, words) if p]
    return "An API error: " + ", ".join(parts) + "." if parts else "An API error."
