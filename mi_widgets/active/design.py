"""Initial designs: the points measured before the sampler takes over."""

from __future__ import annotations

from typing import Any

import numpy as np

from mi_widgets._errors import MIInputError, check_positive_int

__all__ = ["initial_design", "unary_binary_design"]


def initial_design(truth: Any, n_initial: int = 5, random_state: int | None = None) -> np.ndarray:
    """Random starting points, redrawn (seeded) until at least two phases are among them.

    Examples
    --------
    >>> initial_design(["a"] * 5 + ["b"] * 5, 2, random_state=0).size
    2
    """
    truth = np.asarray(truth)
    n_initial = check_positive_int(n_initial, "n_initial", maximum=len(truth))
    rng = np.random.default_rng(random_state)
    for _ in range(100):
        chosen = rng.choice(len(truth), size=n_initial, replace=False)
        if len(np.unique(truth[chosen])) >= 2 or n_initial == 1:
            return chosen
    return chosen


def unary_binary_design(coordinates: Any, n_per_edge: int | None = 3) -> np.ndarray:
    """Pure elements and points on the binary edges of a composition simplex.

    A start for ternary (and higher) systems. Terayama et al. (Scripta Mater. 208, 114335
    (2022)) start a ternary from the single-component (unary) information alone; the
    binary diagrams that bound a ternary are usually known too, so this design adds points
    on the binary edges. The sampler then spends its budget inside the triangle instead of
    rediscovering the edges, and no phase of the edges has to be found by chance.

    Parameters
    ----------
    coordinates : array_like, shape (n, c), c >= 3
        Compositions (fractions or percentages; each row has the same sum).
    n_per_edge : int or None, default 3
        Evenly spaced points inside each binary edge; ``None`` takes every candidate on
        the edges (the complete binary diagrams).

    Returns
    -------
    ndarray of int
        Candidate indices: the ``c`` pure elements first, then the edges.

    Raises
    ------
    MIInputError
        If the rows are not compositions, or a corner or an edge has no candidate.

    Examples
    --------
    >>> from mi_widgets.active.thermo import simplex_grid
    >>> grid = simplex_grid(3, 10)
    >>> idx = unary_binary_design(grid, n_per_edge=1)
    >>> grid[idx].round(2).tolist()[3:]  # after the three corners, the edge midpoints
    [[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]]
    """
    coords = np.asarray(coordinates, dtype=float)
    if coords.ndim != 2 or coords.shape[1] < 3:
        raise MIInputError(
            "The unary/binary design needs compositions with at least 3 components; got "
            f"shape {coords.shape}."
        )
    sums = coords.sum(axis=1)
    if (
        not np.isfinite(coords).all()
        or (coords < 0).any()
        or not np.allclose(sums, sums[0], rtol=1e-6)
        or sums[0] <= 0
    ):
        raise MIInputError(
            "The unary/binary design needs compositions: non-negative rows with one common "
            "sum (fractions or percentages)."
        )
    if n_per_edge is not None:
        n_per_edge = check_positive_int(n_per_edge, "n_per_edge", minimum=0)
    fractions = coords / sums[:, np.newaxis]
    absent = fractions < 1e-9
    c = coords.shape[1]
    chosen: list[int] = []
    for i in range(c):
        corner = int(np.argmax(fractions[:, i]))
        if fractions[corner, i] < 1 - 1e-9:
            raise MIInputError(f"No candidate is pure component {i + 1}; add the corners.")
        chosen.append(corner)
    for i in range(c):
        for j in range(i + 1, c):
            others = [k for k in range(c) if k not in (i, j)]
            on_edge = np.flatnonzero(absent[:, others].all(axis=1))
            inside = on_edge[(fractions[on_edge, i] > 1e-9) & (fractions[on_edge, j] > 1e-9)]
            if inside.size == 0:
                raise MIInputError(
                    f"No candidate lies on the edge between components {i + 1} and {j + 1}."
                )
            position = fractions[inside, j]
            if n_per_edge is None:
                picked = inside[np.argsort(position, kind="stable")]
            else:
                targets = np.linspace(0.0, 1.0, n_per_edge + 2)[1:-1]
                picked = inside[np.abs(position[:, None] - targets[None, :]).argmin(axis=0)]
            chosen.extend(int(p) for p in picked if int(p) not in chosen)
    return np.array(chosen, dtype=int)
