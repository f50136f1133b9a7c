"""daemon/wirejson.py: the same values and text as the json module, without importing it."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yomiage.daemon import wirejson

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@given(JSON_VALUES)
def test_dumps_writes_what_json_writes(value: object) -> None:
    assert wirejson.dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@given(JSON_VALUES)
def test_loads_reads_back_what_json_wrote(value: object) -> None:
    text = json.dumps(value, indent=1)
    assert wirejson.loads(text) == json.loads(text)
    assert wirejson.loads(f" \n{text}\t\r\n".encode()) == value


@given(st.text(max_size=40))
def test_loads_accepts_and_refuses_what_json_does(text: str) -> None:
    try:
        expected = json.loads(text)
    except ValueError:
        with pytest.raises(ValueError):
            wirejson.loads(text)
    else:
        got = wirejson.loads(text)
        assert got == expected or (isinstance(got, float) and math.isnan(got))


@pytest.mark.parametrize("text", ["", "  ", "{", '{"a": 1} x', '{"a": 1}{}', "[1,]", "\x00",
                                  b"\xff{}"])
def test_bad_documents_raise_value_error(text: str | bytes) -> None:
    with pytest.raises(ValueError):
        wirejson.loads(text)


def test_refuses_what_json_cannot_write() -> None:
    with pytest.raises(TypeError, match="set"):
        wirejson.dumps({"a": {1, 2}})
    circular: list[object] = []
    circular.append(circular)
    with pytest.raises(ValueError):
        wirejson.dumps(circular)


def test_the_c_codec_is_used_and_json_is_not_imported() -> None:
    assert wirejson._CODEC is not None  # CPython has _json; the fallback is for others
    code = ("import sys, yomiage.daemon.wirejson as w; w.loads(w.dumps({'a': [1]})); "
            "print('json' in sys.modules, 're' in sys.modules)\n"
            "try: w.loads('{not json')\n"
            "except ValueError as e: print(type(e).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    # light on the good path; on a bad document, json's own error (not a SystemError
    # from the C scanner, which needs json.decoder loaded to raise it)
    assert out.stdout.split() == ["False", "False", "JSONDecodeError"]
