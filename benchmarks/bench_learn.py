"""Benchmark of mi_widgets.learn against scikit-learn (the anchor), in one run.

1. Importances of the explorer (chunked, with progress) equal
   ``sklearn.inspection.permutation_importance`` for the same seed; both timed.
2. Cross-validated MAE per model on the alloy data; the best model must beat
   the dummy regressor by >= 5x.
3. 2000 rows x 40 features x 10 repeats of a random forest: importances with
   progress in < 10 s on 2 cores.

Usage: ``python benchmarks/bench_learn.py [--out benchmarks/results_learn.md]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import permutation_importance

from mi_widgets.learn import (
    chunked_permutation_importance,
    compare_models,
    elemnet_mlp,
    load_alloy_features,
    make_regressor,
)


def timed(func):
    start = time.perf_counter()
    value = func()
    return value, time.perf_counter() - start


def bench_importance(data, rows: int = 2000, repeats: int = 10) -> list[str]:
    """Goal 1 and 3: equality with scikit-learn and time for 2000 x 40 x 10."""
    X, y = data.X[:rows], data.y[:rows]
    model = make_regressor("random_forest", n_estimators=100, n_jobs=2).fit(data.X, data.y)
    ticks = []
    ours, t_ours = timed(
        lambda: chunked_permutation_importance(
            model,
            X,
            y,
            n_repeats=repeats,
            random_state=0,
            chunk_size=4,
            on_progress=lambda done, total: ticks.append(done),
        )
    )
    ref, t_ref = timed(
        lambda: permutation_importance(
            model, X, y, scoring="neg_mean_absolute_error", n_repeats=repeats, random_state=0
        )
    )
    diff = float(np.max(np.abs(ours.importances - ref.importances)))
    shape = f"{X.shape[0]} rows x {X.shape[1]} features x {repeats} repeats, RF 100 trees"
    return [
        "| quantity | mi_widgets (chunked, progress) | scikit-learn | ratio | goal |",
        "|---|---|---|---|---|",
        f"| importance time ({shape}) | {t_ours:.2f} s | {t_ref:.2f} s | "
        f"{t_ours / t_ref:.2f} | < 10 s: {'met' if t_ours < 10 else 'NOT met'} |",
        f"| progress updates | {len(ticks)} (every 4 features) | none | | moves |",
        f"| max abs difference of importances | {diff:.1e} | 0 | | equal: "
        f"{'met' if diff == 0 else 'NOT met'} |",
    ]


def bench_models(data, cv: int = 5) -> list[str]:
    """Goal 2: CV MAE per model; best vs dummy."""
    models = {
        name: make_regressor(name) for name in ("dummy", "ridge", "krr", "svr", "random_forest")
    }
    models["krr + corr. filter"] = make_regressor("krr", correlation_threshold=0.95)
    models["mlp (ElemNet-style, 3x64)"] = elemnet_mlp(3, 64, max_iter=500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result, seconds = timed(lambda: compare_models(models, data.X, data.y, cv=cv))
    dummy = result.mean_mae[result.names.index("dummy")]
    best = int(np.argmin(result.mean_mae))
    lines = [
        f"| model ({cv}-fold CV, {len(data.y)} alloys, {data.X.shape[1]} features) | "
        "MAE (meV/atom) | std | dummy / model |",
        "|---|---|---|---|",
    ]
    for name, mae, std in zip(result.names, result.mean_mae, result.std_mae, strict=True):
        lines.append(f"| {name} | {1000 * mae:.1f} | {1000 * std:.1f} | {dummy / mae:.1f} |")
    ratio = dummy / result.mean_mae[best]
    lines.append(
        f"\nBest: **{result.names[best]}**, {ratio:.1f}x better than the dummy "
        f"(goal >= 5x: {'met' if ratio >= 5 else 'NOT met'}); all fits took {seconds:.0f} s."
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results_learn.md"))
    args = parser.parse_args()
    data = load_alloy_features()
    header = [
        "## Property prediction (bench_learn.py)",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; "
        "other engineers were using the CPU at the same time. Target: EMT mixing energy "
        f"(eV/atom) of {len(data.y)} alloys, 40 Magpie-style features.",
        "",
    ]
    body = [*bench_importance(data), "", *bench_models(data)]
    text = "\n".join(header + body) + "\n"
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
