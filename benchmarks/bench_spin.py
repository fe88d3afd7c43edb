"""Lab 05 benchmark: exact diagonalisation against QuSpin, and the estimation figures.

Part 1 times one magnetisation curve (every S^z sector diagonalised, thermal
average at each field and temperature) with ``mi_widgets.spin`` and with QuSpin
(``spin_basis_1d(N, Nup=k)`` sector bases, ``hamiltonian(...).eigvalsh()``, the
same thermal average), checks that both give the same curve, and prints the ratio.
Part 2 runs the estimation on the KCu4P3O12 data set: multistart L-BFGS-B with the
analytic gradient (one forward call per E(x) and dE/dx) and, for comparison, with
finite-difference gradients (the former method, same starts), random search (2000
calls), grid (300 calls) and, when ``mi_widgets.bayesopt.BayesianOptimizer`` is
available, Bayesian optimisation over several seeds (forward calls to reach the
multistart chi^2 within 1 %, side by side with the multistart's calls).

Times are CPU seconds of this process (``time.process_time``, best of 3) because the
machine may be shared; both sides run with one BLAS thread. QuSpin builds its sector
bases and operators on every call, as its API does.
Usage: ``python benchmarks/bench_spin.py [--quick] [--seeds N] [--part ed|estimation|all]
[--markdown F]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from mi_widgets.spin import SpinCluster, magnetization, spin_gap
from mi_widgets.spin.data import KCU4P3O12_COUPLINGS, KCU4P3O12_G, load_kcu4p3o12
from mi_widgets.spin.ed import _BLAS, BOHR_MAGNETON_MEV_PER_T, BOLTZMANN_MEV_PER_K
from mi_widgets.spin.estimation import HamiltonianEstimator


def best_cpu(fn, repeat=3, number=1):
    times = []
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(number):
            result = fn()
        times.append((time.process_time() - start) / number)
    return min(times), result


def quspin_curve(cluster, couplings, fields, temperatures, g):
    """M(B, T) per spin from QuSpin sector Hamiltonians (the same thermal average)."""
    from quspin.basis import spin_basis_1d
    from quspin.operators import hamiltonian

    n = cluster.n_spins
    pm = [[-couplings[name] / 2, i, j] for i, j, name in cluster.bonds]
    zz = [[-couplings[name], i, j] for i, j, name in cluster.bonds]
    energies, sz = [], []
    for n_up in range(n + 1):
        basis = spin_basis_1d(n, pauli=False, Nup=n_up)
        h = hamiltonian(
            [["+-", pm], ["-+", pm], ["zz", zz]],
            [],
            basis=basis,
            dtype=np.float64,
            check_herm=False,
            check_symm=False,
            check_pcon=False,
        )
        values = h.eigvalsh()
        energies.append(values)
        sz.append(np.full(values.size, n_up - n / 2))
    e, m = np.concatenate(energies), np.concatenate(sz)
    out = []
    for t in temperatures:
        levels = e[None, :] - g * BOHR_MAGNETON_MEV_PER_T * np.asarray(fields)[:, None] * m
        w = np.exp(-(levels - levels.min(axis=1, keepdims=True)) / (BOLTZMANN_MEV_PER_K * t))
        out.append(g * (w @ m) / w.sum(axis=1) / n)
    return np.array(out)


def random_cluster(n, seed):
    rng = np.random.default_rng(seed)
    pairs = [(i, (i + 1) % n) for i in range(n)] + [(i, (i + 2) % n) for i in range(n)]
    names = ["Ja", "Jb", "Jc", "Jd"]
    bonds = [(i, j, names[k % 4]) for k, (i, j) in enumerate(pairs)]
    return SpinCluster(n, bonds), dict(zip(names, rng.uniform(-6, 6, 4), strict=True))


def bench_ed(rows, quick):
    fields = np.linspace(0, 75, 76)
    temps = np.array([1.4, 4.2, 20.0])
    try:
        import quspin

        has_quspin = True
    except ImportError:
        has_quspin = False
    for n in (8, 10) if quick else (8, 10, 12):
        cluster, couplings = random_cluster(n, seed=n)

        def ours(cluster=cluster, couplings=couplings):
            return magnetization(cluster, couplings, fields, temps, g=2.08)

        ours()  # builds the sector bases once, as the estimator does
        t_ours, m_ours = best_cpu(ours, number=20 if n == 8 else 1)
        row = [f"M(B) curve, {n} spins, 3 T x 76 B", f"{t_ours * 1e3:.2f} ms"]
        if has_quspin:
            with warnings.catch_warnings(), _BLAS.limit(limits=1, user_api="blas"):
                warnings.simplefilter("ignore")
                t_q, m_q = best_cpu(
                    lambda cluster=cluster, couplings=couplings: quspin_curve(
                        cluster, couplings, fields, temps, 2.08
                    )
                )
            diff = float(np.abs(m_q - m_ours).max())
            row += [
                f"QuSpin {quspin.__version__}",
                f"{t_q * 1e3:.2f} ms",
                f"{t_q / t_ours:.1f}x",
                f"{diff:.1e}",
            ]
        else:
            row += ["QuSpin not installed", "-", "-", "-"]
        goal = "<= 5 ms" if n == 8 else ("< 500 ms" if n == 12 else "-")
        met = {8: t_ours <= 5e-3, 12: t_ours < 0.5}.get(n)
        row.append(goal + ("" if met is None else (" (met)" if met else " (not met)")))
        rows.append(row)


def fd_multistart(est):
    """The former multistart: L-BFGS-B from the same Sobol starts, finite-difference gradients.

    Returns the best chi^2 and the forward calls (each E(x) is one; a gradient costs
    n_couplings + 1 of them).
    """
    from scipy.optimize import minimize

    from mi_widgets.spin.search import _sobol

    est._check()
    calls, best = 0, np.inf
    for u0 in _sobol(est.n_starts, len(est.names), est.random_state):
        result = minimize(
            lambda u: est.energy(est._to_x(u)),
            u0,
            method="L-BFGS-B",
            bounds=[(0.0, 1.0)] * len(est.names),
            options={"maxiter": 200, "ftol": 1e-10, "gtol": 1e-8},
        )
        calls += result.nfev
        best = min(best, est.misfit(est._to_x(result.x)))
    return best, calls


def bo_reach(args, common, ref, truth, true_gap, seeds):
    """Forward calls of BO to 1.01 x the multistart chi^2, coupling and gap errors, CPU s."""
    reach, errors, gaps, times = [], [], [], []
    for seed in seeds:
        est = HamiltonianEstimator(*args, optimizer="bo", random_state=seed, **common)
        start = time.process_time()
        est.fit()
        times.append(time.process_time() - start)
        best = est.trace_.best_so_far * 2 * common["sigma"] ** 2
        hit = np.flatnonzero(best <= 1.01 * ref.misfit_)
        reach.append(int(hit[0]) + 1 if hit.size else np.inf)
        errors.append(np.abs(est.x_ - truth).max())
        gaps.append(abs(est.gap_ - true_gap))
    return np.array(reach), np.array(errors), np.array(gaps), np.array(times)


def bench_estimation(lines, quick, n_seeds=None):
    cluster, curves, _ = load_kcu4p3o12()
    args = (cluster, curves.fields, curves.m, curves.temperatures)
    common = {"g": KCU4P3O12_G, "sigma": curves.noise}
    truth = np.array([KCU4P3O12_COUPLINGS[n] for n in cluster.names])
    true_gap = spin_gap(cluster, KCU4P3O12_COUPLINGS)
    start = time.process_time()
    ref = HamiltonianEstimator(*args, optimizer="lbfgs", random_state=0, **common).fit()
    t_ref = time.process_time() - start
    truth_chi2 = ref.misfit(truth)
    err = np.abs(ref.x_ - truth).max()
    lines.append(
        f"| multistart L-BFGS-B (20 starts, analytic gradient) | {ref.n_forward_calls_} | "
        f"{t_ref:.1f} | {ref.misfit_ / truth_chi2:.3f} | {err:.3f} | "
        f"{abs(ref.gap_ - true_gap):.4f} |"
    )
    fd_est = HamiltonianEstimator(*args, optimizer="lbfgs", random_state=0, **common)
    start = time.process_time()
    fd_chi2, fd_calls = fd_multistart(fd_est)
    t_fd = time.process_time() - start
    lines.append(
        f"| multistart L-BFGS-B (20 starts, finite differences, the former method) | {fd_calls} "
        f"({fd_calls / ref.n_forward_calls_:.1f}x) | {t_fd:.1f} | {fd_chi2 / truth_chi2:.3f} "
        "| - | - |"
    )
    for method, budget in (("random", 2000), ("grid", 300)):
        est = HamiltonianEstimator(
            *args, optimizer=method, n_calls=budget, random_state=0, **common
        )
        start = time.process_time()
        est.fit()
        elapsed = time.process_time() - start
        lines.append(
            f"| {method} search | {est.n_forward_calls_} | {elapsed:.1f} | "
            f"{est.misfit_ / truth_chi2:.2f} | {np.abs(est.x_ - truth).max():.2f} | "
            f"{abs(est.gap_ - true_gap):.3f} |"
        )
    try:
        from mi_widgets.bayesopt import BayesianOptimizer  # noqa: F401
    except ImportError:
        lines.append("| Bayesian optimisation | - | - | - | - | - | (BayesianOptimizer missing) |")
        return
    seeds = range(n_seeds or (2 if quick else 10))
    reach, errors, gaps, times = bo_reach(args, common, ref, truth, true_gap, seeds)
    lines.append(bo_row(reach, errors, gaps, times, ref.n_forward_calls_))


def bo_row(reach, errors, gaps, times, multistart_calls):
    """The BO row: median calls to the optimum, how many seeds reach it, each seed's calls."""
    median = float(np.median(reach))
    ratio = f"{multistart_calls / median:.1f}x fewer" if np.isfinite(median) else "-"
    each = ", ".join(f"{r:.0f}" if np.isfinite(r) else "not reached" for r in reach)
    reached = int(np.isfinite(reach).sum())
    return (
        f"| BO: forward calls to the multistart optimum's χ² (1.01 x; seeds 0-{len(reach) - 1}, "
        f"median; multistart: {multistart_calls}, {ratio}) | {median:.0f} ({reached} of "
        f"{len(reach)} seeds reach it in 300; each: {each}) | {np.median(times):.1f} | - | "
        f"{np.median(errors):.3f} | {np.median(gaps):.4f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--markdown", default=None)
    parser.add_argument("--seeds", type=int, default=None, help="BO seeds (default 10, quick 2)")
    parser.add_argument("--part", choices=("ed", "estimation", "all"), default="all")
    opts = parser.parse_args()
    rows: list[list[str]] = []
    if opts.part in ("ed", "all"):
        bench_ed(rows, opts.quick)
    out = [
        "| benchmark | this project | anchor | anchor time | anchor / this | max abs diff (μB) "
        "| goal |",
        "|---|---|---|---|---|---|---|",
    ]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    out += [
        "",
        "| search (KCu4P3O12, 3 T x 76 B) | forward calls | CPU s | χ² / χ²(truth) "
        "| max abs J error (meV) | gap error (meV) |",
        "|---|---|---|---|---|---|",
    ]
    if opts.part in ("estimation", "all"):
        bench_estimation(out, opts.quick, opts.seeds)
    text = "\n".join(out)
    print(text)
    if opts.markdown:
        with open(opts.markdown, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
