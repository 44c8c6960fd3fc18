"""Property tests (Hypothesis) of argument validation: whatever a caller passes, the API
either works or raises TypeError/ValueError naming the argument, never anything else, and the
golden model and the generators agree on what is valid."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fp8forge.golden import PRESETS, FloatFormat, Rounding, add, chunked_sum, parse_format
from fp8forge.hdl.accumulator import MacPE

E5M2, E6M9 = PRESETS["e5m2"], PRESETS["e6m9"]
U8 = np.array([0x3C, 0x40], dtype=np.uint8)  # 1.0, 2.0 in e5m2

#: Anything a caller might pass where a value of some kind is expected.
ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
    st.text(max_size=12), st.binary(max_size=4), st.lists(st.integers(0, 3), max_size=3),
    st.sampled_from([np.int64(3), np.uint8(200), np.float32(2.0), Rounding.RNE, object()]),
)

settings.register_profile("fp8forge", max_examples=150, deadline=None)
settings.load_profile("fp8forge")


def _outcome(call):
    """``"ok"`` or the exception type a call raises (other exceptions propagate: a bug)."""
    try:
        call()
    except (TypeError, ValueError) as exc:
        assert str(exc), "an error must say what is wrong"
        return type(exc)
    return "ok"


@given(ANYTHING)
def test_chunk_is_checked_alike_by_golden_and_generator(chunk):
    """``chunked_sum`` and ``MacPE`` accept the same chunk values and reject the others with
    the same exception type."""
    golden = _outcome(lambda: chunked_sum(np.zeros((1, 4), np.uint16), E6M9, chunk=chunk))
    hdl = _outcome(lambda: MacPE(E5M2, E6M9, chunk=chunk))
    assert golden == hdl
    is_positive_int = (not isinstance(chunk, bool) and isinstance(chunk, int | np.integer)
                       and chunk >= 1)
    assert (golden == "ok") == (is_positive_int or chunk is None)


@given(ANYTHING)
def test_format_argument_is_a_format_or_a_name(fmt):
    """A format argument is a FloatFormat or a name: any other type is a TypeError; a string
    either names a format or is a ValueError."""
    outcome = _outcome(lambda: add(U8, U8, fmt))
    if isinstance(fmt, str):
        assert outcome in ("ok", ValueError)
        assert (outcome == "ok") == (_outcome(lambda: parse_format(fmt)) == "ok")
    else:
        assert outcome is TypeError


@given(st.text(max_size=24))
def test_any_text_parses_or_is_a_value_error(text):
    """``parse_format`` never fails any other way, and every format it returns round-trips
    through its own name."""
    try:
        fmt = parse_format(text)
    except ValueError as exc:
        assert repr(text) in str(exc)
        return
    assert isinstance(fmt, FloatFormat)
    assert parse_format(fmt.name) == fmt


@given(st.integers(-2**40, 2**40))
def test_sr_random_bits_in_range_or_rejected(rbits):
    rand = np.zeros(2, np.int64)
    outcome = _outcome(lambda: add(U8, U8, E5M2, Rounding.SR, rand=rand, rbits=rbits))
    assert (outcome == "ok") == (1 <= rbits <= 32)
    if outcome != "ok":
        with pytest.raises(ValueError, match="rbits"):
            add(U8, U8, E5M2, Rounding.SR, rand=rand, rbits=rbits)


@given(st.lists(st.integers(-2**20, 2**20), min_size=1, max_size=6))
def test_bit_patterns_outside_the_format_are_rejected(values):
    a = np.array(values, dtype=np.int64)
    b = np.zeros_like(a)
    outcome = _outcome(lambda: add(a, b, E5M2))
    assert (outcome == "ok") == all(0 <= v < 256 for v in values)
    if outcome != "ok":
        assert outcome is ValueError
