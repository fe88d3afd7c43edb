"""The shared validation helpers give one clear MIInputError."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mi_widgets import MIInputError
from mi_widgets._errors import (
    check_choice,
    check_finite_array,
    check_increasing,
    check_positive_int,
    check_same_length,
)


def test_error_is_a_value_error():
    assert issubclass(MIInputError, ValueError)


@given(
    values=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50),
    position=st.integers(0, 49),
    bad=st.sampled_from([np.nan, np.inf, -np.inf]),
)
def test_non_finite_values_are_named_with_their_index(values, position, bad):
    position = position % len(values)
    values[position] = bad
    with pytest.raises(MIInputError, match=f"at index {position};"):
        check_finite_array(values, "y")


def test_text_in_numbers_is_refused():
    with pytest.raises(MIInputError, match="numbers only"):
        check_finite_array(["1", "abc"], "x")


def test_dimension_and_size_are_checked():
    with pytest.raises(MIInputError, match="1-dimensional"):
        check_finite_array(np.zeros((2, 2)), "x", ndim=1)
    with pytest.raises(MIInputError, match="at least 3"):
        check_finite_array([1.0], "x", min_size=3)


def test_increasing_names_the_first_bad_index():
    with pytest.raises(MIInputError, match="decrease at index 3"):
        check_increasing(np.array([0.0, 1.0, 2.0, 1.5]))
    with pytest.raises(MIInputError, match="repeats at index 2"):
        check_increasing(np.array([0.0, 1.0, 1.0]))
    check_increasing(np.array([0.0, 1.0, 2.0]))


def test_lengths_choice_and_integers():
    with pytest.raises(MIInputError, match="x has 2, y has 3"):
        check_same_length(x=[1, 2], y=[1, 2, 3])
    with pytest.raises(MIInputError, match="one of 'a', 'b'"):
        check_choice("c", "mode", ["a", "b"])
    with pytest.raises(MIInputError, match="whole number"):
        check_positive_int(2.5, "n")
    with pytest.raises(MIInputError, match="whole number"):
        check_positive_int(True, "n")
    with pytest.raises(MIInputError, match="at most 4"):
        check_positive_int(5, "n", maximum=4)
    assert check_positive_int(np.int64(3), "n") == 3
