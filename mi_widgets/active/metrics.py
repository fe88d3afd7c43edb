"""How good a phase-diagram estimate is: Macro-F1, samples to a target, phases found."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["macro_f1", "macro_f1_metric", "samples_to_discover", "samples_to_reach"]


def macro_f1(truth: Any, predicted: Any) -> float:
    """Macro-averaged F1 over the true classes (0 for a class never predicted right).

    Parameters
    ----------
    truth, predicted : array_like, shape (n,)

    Returns
    -------
    float

    Examples
    --------
    >>> macro_f1(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    0.7333333333333334
    """
    truth = np.asarray(truth).astype(str)
    predicted = np.asarray(predicted).astype(str)
    classes, truth_codes = np.unique(truth, return_inverse=True)
    position = np.searchsorted(classes, predicted)
    position = np.clip(position, 0, len(classes) - 1)
    known = classes[position] == predicted
    pred_codes = np.where(known, position, -1)
    c = len(classes)
    support = np.bincount(truth_codes, minlength=c)
    predicted_count = np.bincount(pred_codes[known], minlength=c)
    hits = np.bincount(truth_codes[pred_codes == truth_codes], minlength=c)
    f1 = 2.0 * hits / np.maximum(support + predicted_count, 1)
    return float(f1.mean())


def _macro_f1_codes(classes: np.ndarray, codes: np.ndarray, sampler: Any) -> float:
    """Macro-F1 of the sampler's prediction, comparing integer codes (fast in loops)."""
    proba = sampler.proba_  # fits when needed
    names = sampler.classes_.astype(str)
    position = np.clip(np.searchsorted(classes, names), 0, len(classes) - 1)
    class_code = np.where(classes[position] == names, position, -1)
    predicted = class_code[np.argmax(proba, axis=1)]
    c = len(classes)
    support = np.bincount(codes, minlength=c)
    known = predicted >= 0
    predicted_count = np.bincount(predicted[known], minlength=c)
    hits = np.bincount(codes[predicted == codes], minlength=c)
    return float((2.0 * hits / np.maximum(support + predicted_count, 1)).mean())


def macro_f1_metric(truth: Any) -> Callable[[Any], float]:
    """A :class:`~mi_widgets.active.campaign.Campaign` metric: Macro-F1 of a sampler's estimate.

    Parameters
    ----------
    truth : array_like, shape (n,)
        The true label of every candidate.

    Returns
    -------
    callable
        ``metric(sampler) -> float``; the sampler needs ``proba_`` and ``classes_``
        (a :class:`~mi_widgets.active.pdc.PhaseDiagramSampler`).

    Examples
    --------
    >>> from mi_widgets.active.pdc import PhaseDiagramSampler
    >>> x = np.linspace(0, 1, 5)[:, None]
    >>> s = PhaseDiagramSampler(x)
    >>> s.tell([0, 4], ["a", "b"])
    >>> macro_f1_metric(["a", "a", "b", "b", "b"])(s) == macro_f1(list("aabbb"), s.predict())
    True
    """
    truth = np.asarray(truth).astype(str)
    classes, codes = np.unique(truth, return_inverse=True)

    def metric(sampler: Any) -> float:
        return _macro_f1_codes(classes, codes, sampler)

    return metric


def samples_to_reach(run: Any, threshold: float = 0.95) -> float:
    """Measured points at the first evaluation with Macro-F1 >= ``threshold`` (inf if never).

    Parameters
    ----------
    run : SamplingRun
        Anything with arrays ``n_samples`` and ``macro_f1``.
    threshold : float, default 0.95

    Examples
    --------
    >>> from mi_widgets.active.loop import SamplingRun
    >>> samples_to_reach(SamplingRun(np.array([5, 10]), np.array([0.5, 0.97]), np.arange(10)))
    10.0
    """
    reached = np.flatnonzero(np.asarray(run.macro_f1) >= threshold)
    return float(np.asarray(run.n_samples)[reached[0]]) if reached.size else float("inf")


def samples_to_discover(order: Any, truth: Any) -> float:
    """Measured points until every label that exists has been measured once (inf if never).

    Parameters
    ----------
    order : array_like of int
        Candidates in the order they were measured (the initial design first).
    truth : array_like, shape (n,)
        The true label of every candidate.

    Examples
    --------
    >>> samples_to_discover([0, 1, 3, 2], ["a", "a", "b", "c"])
    4.0
    >>> samples_to_discover([0, 1], ["a", "a", "b"])
    inf
    """
    truth = np.asarray(truth).astype(str)
    order = np.asarray(order, dtype=int)
    n_labels = len(np.unique(truth))
    _, first = np.unique(truth[order], return_index=True)
    return float(first.max() + 1) if len(first) == n_labels else float("inf")
