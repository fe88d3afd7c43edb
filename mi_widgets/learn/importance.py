"""Explain a user's table: fit a model on part of it, keep the rest to measure importances on.

The core of the permutation-importance explorer (the widget is in
``mi_widgets.learn.widgets``): large tables are subsampled with a message,
the split is grouped by composition when the table has a composition column,
and a split too small to trust says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mi_widgets._errors import MIInputError, check_positive_int
from mi_widgets._threads import one_blas_thread
from mi_widgets.learn.composition import composition_groups, table_features
from mi_widgets.learn.io import COMPOSITION_COLUMNS, Table
from mi_widgets.learn.models import make_regressor
from mi_widgets.learn.studies import split_rows

__all__ = [
    "MAX_TABLE_ROWS",
    "MIN_TRUSTED_TEST_ROWS",
    "TableModel",
    "add_noise_feature",
    "fit_table_model",
    "split_warning",
]

#: Rows a table may have before the explorer works on a random subset of it.  A random
#: forest of 60 trees on 1500 training rows and importances of ~40 features on 500
#: held-out rows take a few seconds on one core (a 100,000-row, 5.6 MB table with a
#: composition column: 18 s in all on a 2-core machine at load average 18).
MAX_TABLE_ROWS = 2000
#: Fewer held-out rows than this and the importances are mostly noise.
MIN_TRUSTED_TEST_ROWS = 30


def split_warning(n_test: int, *, minimum: int = MIN_TRUSTED_TEST_ROWS) -> str | None:
    """A one-sentence warning when ``n_test`` held-out rows are too few to trust, else None.

    The MAE on n rows has a relative standard error of roughly 1/sqrt(n)
    (about 40 % at 6 rows), and every importance is a difference of two such
    MAEs.

    Examples
    --------
    >>> split_warning(6).split(":")[0]
    'Only 6 held-out rows'
    >>> split_warning(300) is None
    True
    """
    n_test = check_positive_int(n_test, "n_test", minimum=0)
    if n_test >= minimum:
        return None
    return (
        f"Only {n_test} held-out rows: the importances (differences of MAEs on {n_test} rows) "
        f"are mostly noise; use a table with at least {4 * minimum} rows."
    )


def add_noise_feature(
    X: np.ndarray,
    names: tuple[str, ...] | list[str],
    *,
    name: str = "noise (random)",
    random_state: int | None = 0,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Append a column of standard-normal noise: a feature that carries no information.

    Its permutation importance measures the resolution of the method: it
    should be about zero (within its error bar) for any model.

    Examples
    --------
    >>> X, names = add_noise_feature(np.ones((4, 2)), ("a", "b"))
    >>> X.shape, names
    ((4, 3), ('a', 'b', 'noise (random)'))
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or len(names) != X.shape[1]:
        raise MIInputError(f"names needs one entry per column of X ({X.shape[-1]}).")
    if name in names:
        raise MIInputError(f"There is already a feature called {name!r}; pick another name.")
    noise = np.random.default_rng(random_state).standard_normal(len(X))
    return np.column_stack([X, noise]), (*names, name)


@dataclass(frozen=True)
class TableModel:
    """A random forest fitted on part of a table, with the held-out rows to explain it on.

    Attributes
    ----------
    model : sklearn.pipeline.Pipeline
        The fitted regressor.
    X_test, y_test : numpy.ndarray
        The held-out rows (features and target).
    feature_names : tuple of str
    target : str
    n_rows, n_used, n_train : int
        Rows in the table, rows used (after subsampling), rows trained on.
    grouped : bool
        True when the split kept each composition on one side.
    notes : tuple of str
        Sentences for the user (subsampling, a split too small to trust).
    """

    model: Any
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    target: str
    n_rows: int
    n_used: int
    n_train: int
    grouped: bool
    notes: tuple[str, ...]


def fit_table_model(
    table: Table,
    target: str,
    *,
    test_size: float = 0.25,
    max_rows: int = MAX_TABLE_ROWS,
    n_estimators: int = 60,
    random_state: int | None = 0,
) -> TableModel:
    """Fit a random forest on ``1 - test_size`` of a table and hold out the rest.

    Every numeric column except ``target`` is a feature and a ``composition``
    / ``formula`` column becomes composition features
    (:func:`~mi_widgets.learn.table_features`).  With such a column the split
    is grouped by composition, so the same composition never appears on both
    sides.  A table with more than ``max_rows`` rows is subsampled (a note
    says so).

    Examples
    --------
    >>> from mi_widgets.learn.io import read_table
    >>> rows = "".join(f"{i},{(i * 7) % 5},{i % 3 + 0.1 * i}\\n" for i in range(40))
    >>> fitted = fit_table_model(read_table(("a,b,y\\n" + rows).encode()), "y")
    >>> fitted.n_train, len(fitted.y_test), fitted.notes[0].startswith("Only 10")
    (30, 10, True)
    """
    max_rows = check_positive_int(max_rows, "max_rows", minimum=20)
    notes = []
    n_total = table.n_rows
    if n_total > max_rows:
        rows = np.sort(np.random.default_rng(random_state).choice(n_total, max_rows, replace=False))
        table = table.take(rows)
        notes.append(
            f"The table has {n_total:,} rows; the model and the importances "
            f"use a random {max_rows:,} of them."
        )
    X, y, names = table_features(table, target)
    composition = next(
        (c for c in table.columns if c.lower() in COMPOSITION_COLUMNS and c != target), None
    )
    groups = None
    if composition is not None and not table.is_numeric(composition):
        groups = composition_groups(table.column(composition))
        if len(np.unique(groups)) < 2:
            groups = None
    train, test = split_rows(len(y), test_size=test_size, groups=groups, random_state=random_state)
    model = make_regressor("random_forest", n_estimators=n_estimators, random_state=random_state)
    with one_blas_thread():
        model.fit(X[train], y[train])
    warning = split_warning(len(test))
    if warning:
        notes.append(warning)
    return TableModel(
        model=model,
        X_test=X[test],
        y_test=y[test],
        feature_names=names,
        target=target,
        n_rows=n_total,
        n_used=len(y),
        n_train=len(train),
        grouped=groups is not None,
        notes=tuple(notes),
    )
