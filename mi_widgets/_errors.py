"""One error type for bad input, and the validation helpers every module shares.

Every check raises :class:`MIInputError` with one sentence that names the
problem and, where there is one, the fix. Widgets catch this type and show the
message in their error banner; anything else is a bug and propagates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MIInputError",
    "check_choice",
    "check_file",
    "check_finite_array",
    "check_increasing",
    "check_positive_int",
    "check_same_length",
    "short_repr",
    "short_text",
]


class MIInputError(ValueError):
    """Bad input from a user: a message that says what is wrong and how to fix it.

    A subclass of :class:`ValueError`, so code that already catches
    ``ValueError`` keeps working.

    Examples
    --------
    >>> raise MIInputError("x must increase monotonically; got a decrease at index 41.")
    Traceback (most recent call last):
    ...
    mi_widgets._errors.MIInputError: x must increase monotonically; got a decrease at index 41.
    """


def check_finite_array(
    values: Any, name: str, *, ndim: int | Sequence[int] | None = None, min_size: int = 1
) -> np.ndarray:
    """Convert ``values`` to a float array and check it is finite and well shaped.

    Parameters
    ----------
    values : array_like
        The input, anything :func:`numpy.asarray` accepts.
    name : str
        The name used in the error message (``"x"``, ``"positions"``).
    ndim : int or sequence of int, optional
        Allowed numbers of dimensions.
    min_size : int, default 1
        The smallest number of elements accepted.

    Returns
    -------
    numpy.ndarray
        ``values`` as a float64 array.

    Raises
    ------
    MIInputError
        If the values are not numbers, have the wrong dimension, are too few,
        or contain NaN or infinity.

    Examples
    --------
    >>> check_finite_array([1, 2, 3], "x", ndim=1)
    array([1., 2., 3.])
    """
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise MIInputError(f"{name} must contain numbers only.") from None
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and array.ndim not in allowed:
        wanted = " or ".join(str(n) for n in allowed)
        raise MIInputError(f"{name} must be {wanted}-dimensional; got shape {array.shape}.")
    if array.size < min_size:
        raise MIInputError(f"{name} needs at least {min_size} values; got {array.size}.")
    bad = ~np.isfinite(array)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        where = first[0] if len(first) == 1 else first
        kind = "NaN" if np.isnan(array[first]) else "infinity"
        raise MIInputError(f"{name} contains {kind} at index {where}; remove or fill it.")
    return array


def check_increasing(x: np.ndarray, name: str = "x") -> None:
    """Check that a 1-D array increases strictly.

    Raises
    ------
    MIInputError
        Naming the first index where the values repeat or decrease.

    Examples
    --------
    >>> check_increasing(np.array([1.0, 2.0, 2.0]))
    Traceback (most recent call last):
    ...
    mi_widgets._errors.MIInputError: x must increase strictly; value 2 repeats at index 2.
    """
    steps = np.diff(x)
    bad = np.flatnonzero(steps <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        if steps[bad[0]] == 0:
            raise MIInputError(
                f"{name} must increase strictly; value {x[i]:g} repeats at index {i}."
            )
        raise MIInputError(
            f"{name} must increase monotonically; got a decrease at index {i}: "
            f"sort the data by {name}."
        )


def check_same_length(**arrays: Sequence[Any]) -> int:
    """Check that named sequences have one common length and return it.

    Examples
    --------
    >>> check_same_length(x=[1, 2], y=[3, 4])
    2
    """
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{n} has {k}" for n, k in lengths.items())
        raise MIInputError(f"Lengths differ: {described}; give one value per point.")
    return next(iter(lengths.values()))


def check_positive_int(
    value: Any, name: str, *, minimum: int = 1, maximum: int | None = None
) -> int:
    """Check that ``value`` is a whole number in ``[minimum, maximum]`` and return it.

    Examples
    --------
    >>> check_positive_int(3, "n_peaks")
    3
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise MIInputError(f"{name} must be a whole number; got {short_repr(value)}.")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise MIInputError(f"{name} must be at least {minimum}{upper}; got {value}.")
    return int(value)


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """Check that ``value`` is one of ``choices`` and return it.

    Examples
    --------
    >>> check_choice("linear", "background", ["none", "linear"])
    'linear'
    """
    options = list(choices)
    if value not in options:
        listed = ", ".join(repr(c) for c in options)
        raise MIInputError(f"{name} must be one of {listed}; got {short_repr(value)}.")
    return value


def short_text(text: object, limit: int = 60) -> str:
    """``text`` as it may appear in a message: one line, at most ``limit`` characters.

    User text (a file name, a column name) can be long or span lines; quoting it
    whole would turn one sentence into many.

    Examples
    --------
    >>> short_text("x" * 100, limit=10)
    "'xxxxxxx'..."
    """
    shown = str(text)
    if len(shown) <= limit and shown.isprintable():
        return shown
    return repr(shown[: max(limit - 3, 1)]) + ("..." if len(shown) > limit - 3 else "")


def short_repr(value: object, limit: int = 60) -> str:
    """``repr(value)`` as it may appear in a message: at most about ``limit`` characters.

    A user's value (a menu choice sent by a client, a name typed in a notebook) can be
    any length; quoting it whole would bury the sentence.

    Examples
    --------
    >>> short_repr("eutectic")
    "'eutectic'"
    >>> short_repr("x" * 100, limit=10)
    "'xxxxxxx'..."
    """
    shown = repr(value)
    if len(shown) <= limit:
        return shown
    text = value if isinstance(value, str) else shown
    return repr(text[: max(limit - 3, 1)]) + "..."


def check_file(path: str | Path) -> Path:
    """``path`` as a :class:`~pathlib.Path` if it names an existing file.

    A name too long for the file system, or one with a NUL character, gets the same
    sentence as a missing file (``Path.is_file`` raises on those).

    Raises
    ------
    MIInputError
        If there is no file at ``path``.

    Examples
    --------
    >>> check_file("no/such/file.csv")
    Traceback (most recent call last):
    ...
    mi_widgets._errors.MIInputError: no/such/file.csv is not a file; check the file name.
    """
    candidate = Path(path)
    try:
        found = candidate.is_file()
    except (OSError, ValueError):
        found = False
    if not found:
        raise MIInputError(f"{short_text(candidate, 200)} is not a file; check the file name.")
    return candidate
