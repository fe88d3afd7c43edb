"""Bayesian optimisation: mi_widgets' BayesianOptimizer and PHYSBO side by side.

Same candidates, same initial points, same seeds:

1. Evaluations to reach the global optimum (median over seeds) and simple regret
   after 30 and 60 evaluations, on the Sigma5 Cu grain boundary (960 candidates,
   minimise the energy) and on -Branin over a 100 x 100 grid (maximise). PHYSBO is
   run as its tutorials do: centred candidates, exact GP (``num_rand_basis=0``),
   hyperparameters learnt every 10 steps; this project with its defaults.
2. Time per step at 10^4 and 10^5 candidates (4 features): exact-GP EI, and TS with
   500 random features; this project's hyperparameter re-learning at 50-300
   observations.
3. BO against random search on the grain boundary.

Usage: ``nice -n 10 python benchmarks/bench_bo.py [--seeds 5] [--quick]`` (needs
``pip install physbo``, the ``bench`` extra). Prints the tables of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mi_widgets.bayesopt.data import branin_problem, load_grain_boundary
from mi_widgets.bayesopt.optimizer import BayesianOptimizer

try:
    import physbo
except ImportError:  # pragma: no cover - optional anchor
    physbo = None

N_INITIAL = 3


def _initial(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).choice(n, N_INITIAL, replace=False)


def run_ours(problem, acquisition: str, seed: int, budget: int) -> np.ndarray:
    """Values in the order measured (maximisation sign), ``budget`` evaluations."""
    sign = 1.0 if problem.goal == "maximize" else -1.0
    bo = BayesianOptimizer(
        problem.candidates, acquisition=acquisition, goal=problem.goal, random_state=seed
    )
    init = _initial(len(problem.values), seed)
    bo.tell(init, problem.values[init])
    while bo.n_observations < budget:
        i = bo.suggest()
        bo.tell(i, problem.values[i])
    return sign * bo.observed_values_


def run_physbo(problem, acquisition: str, seed: int, budget: int, basis: int = 0) -> np.ndarray:
    """PHYSBO's discrete policy on the same candidates and initial points.

    ``basis`` random features (0: exact GP); hyperparameters learnt every 10 steps.
    """
    sign = 1.0 if problem.goal == "maximize" else -1.0
    x = physbo.misc.centering(problem.candidates)
    values = sign * problem.values
    policy = physbo.search.discrete.Policy(test_X=x)
    policy.set_seed(seed)
    init = _initial(len(values), seed)
    policy.write(init, values[init])

    def simulator(action):
        return values[np.asarray(action, dtype=int)]

    with contextlib.redirect_stdout(io.StringIO()):
        policy.bayes_search(
            max_num_probes=budget - N_INITIAL,
            simulator=simulator,
            score=acquisition,
            interval=10,
            num_rand_basis=basis,
        )
    return np.asarray(policy.history.fx[: policy.history.total_num_search], dtype=float)


def run_random(problem, seed: int, budget: int) -> np.ndarray:
    sign = 1.0 if problem.goal == "maximize" else -1.0
    n = len(problem.values)
    rng = np.random.default_rng(seed)
    init = _initial(n, seed)
    rest = rng.permutation(np.setdiff1d(np.arange(n), init))
    order = np.concatenate([init, rest])[:budget]
    return sign * problem.values[order]


def summarise(trace: np.ndarray, optimum: float) -> tuple[float, float, float]:
    """(evaluations to reach the optimum or inf, regret at 30, regret at 60)."""
    best = np.maximum.accumulate(trace)
    hit = np.flatnonzero(best >= optimum - 1e-9)
    reach = float(hit[0] + 1) if hit.size else float("inf")
    regret = [float(optimum - best[min(k, best.size) - 1]) for k in (30, 60)]
    return reach, regret[0], regret[1]


def search_table(seeds: list[int], budget: int, which: list[str]) -> list[str]:
    problems = {}
    if "gb" in which:
        problems["Sigma5 GB (960)"] = load_grain_boundary()
    if "branin" in which:
        problems["-Branin 100x100"] = branin_problem(100)
    lines = [
        "| problem | method | evaluations to optimum (median; runs reaching it) | "
        "regret @30 (median) | regret @60 (median) | CPU s per run |",
        "|---|---|---|---|---|---|",
    ]
    for name, problem in problems.items():
        sign = 1.0 if problem.goal == "maximize" else -1.0
        optimum = float(np.max(sign * problem.values))
        methods = {
            "mi_widgets EI": lambda s, p=problem: run_ours(p, "EI", s, budget),
            "mi_widgets TS": lambda s, p=problem: run_ours(p, "TS", s, budget),
            "mi_widgets UCB": lambda s, p=problem: run_ours(p, "UCB", s, budget),
        }
        if physbo is not None:
            methods["PHYSBO EI"] = lambda s, p=problem: run_physbo(p, "EI", s, budget)
            methods["PHYSBO TS (500 RFF)"] = lambda s, p=problem: run_physbo(
                p, "TS", s, budget, 500
            )
        methods["random"] = lambda s, p=problem: run_random(p, s, budget)
        for label, method in methods.items():
            rows, cpu = [], []
            for seed in seeds:
                start = time.process_time()
                trace = method(seed)
                cpu.append(time.process_time() - start)
                rows.append(summarise(trace, optimum))
            reach, r30, r60 = np.array(rows).T
            hits = int(np.isfinite(reach).sum())
            median = np.median(reach)
            shown = f"{median:.0f}" if np.isfinite(median) else f"> {budget}"
            lines.append(
                f"| {name} | {label} | {shown} ({hits}/{len(seeds)}) | {np.median(r30):.4g} | "
                f"{np.median(r60):.4g} | {np.mean(cpu):.1f} |"
            )
            print(lines[-1], flush=True)
    return lines


def _timed_steps(step, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def timing_table(sizes: list[int]) -> list[str]:
    lines = [
        "| candidates | observations | method | s per step (median of 5) |",
        "|---|---|---|---|",
    ]
    rng = np.random.default_rng(0)
    for n in sizes:
        x = rng.uniform(0, 1, (n, 4))
        f = -np.sum((x - 0.3) ** 2, axis=1) + 0.1 * np.sin(10 * x[:, 0])
        for acquisition, surrogate, n_obs in (
            ("EI", "gp", 50),
            ("TS", "random_features", 50),
            ("EI", "gp", 300),
        ):
            bo = BayesianOptimizer(
                x, acquisition=acquisition, surrogate=surrogate, learn_every=0, random_state=0
            )
            init = rng.choice(n, n_obs, replace=False)
            bo.tell(init, f[init])
            bo.learn()

            def step(bo=bo, f=f):
                i = bo.suggest()
                bo.tell(i, f[i])

            label = f"mi_widgets {acquisition} {'exact GP' if surrogate == 'gp' else '500 RFF'}"
            lines.append(f"| {n} | {n_obs} | {label} | {_timed_steps(step):.3f} |")
            print(lines[-1], flush=True)
            del bo
        if physbo is None:
            continue
        for score, basis in (("EI", 0), ("TS", 500)):
            if n > 10**4 and basis == 0:
                continue  # PHYSBO's exact GP keeps an N x N-free path but is slow here
            values = f
            policy = physbo.search.discrete.Policy(test_X=physbo.misc.centering(x))
            policy.set_seed(0)
            init = rng.choice(n, 50, replace=False)
            policy.write(init, values[init])

            def simulator(action, values=values):
                return values[np.asarray(action, dtype=int)]

            with contextlib.redirect_stdout(io.StringIO()):
                policy.bayes_search(
                    max_num_probes=1,
                    simulator=simulator,
                    score=score,
                    interval=0,
                    num_rand_basis=basis,
                )

                def step(policy=policy, score=score, basis=basis, simulator=simulator):
                    policy.bayes_search(
                        max_num_probes=1,
                        simulator=simulator,
                        score=score,
                        interval=-1,
                        num_rand_basis=basis,
                    )

                seconds = _timed_steps(step)
            label = f"PHYSBO {score} {'exact GP' if basis == 0 else '500 RFF'}"
            lines.append(f"| {n} | 50 | {label} | {seconds:.3f} |")
            print(lines[-1], flush=True)
    return lines


def learning_table(n_candidates: int = 10**5) -> list[str]:
    lines = [
        "| candidates | observations | re-learning + refactorisation: wall s | CPU s |",
        "|---|---|---|---|",
    ]
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (n_candidates, 4))
    f = -np.sum((x - 0.3) ** 2, axis=1) + 0.1 * np.sin(10 * x[:, 0])
    for n_obs in (50, 100, 200, 300):
        bo = BayesianOptimizer(x, learn_every=0, random_state=0)
        init = rng.choice(n_candidates, n_obs, replace=False)
        bo.tell(init, f[init])
        start, cpu = time.perf_counter(), time.process_time()
        bo.learn()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        lines.append(f"| {n_candidates} | {n_obs} | {wall:.2f} | {cpu:.2f} |")
        print(lines[-1], flush=True)
        del bo
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=60, help="evaluations per run")
    parser.add_argument(
        "--parts",
        default="gb,branin,timing,learning",
        help="comma-separated: gb, branin (searches), timing, learning",
    )
    parser.add_argument("--quick", action="store_true", help="2 seeds, 10^4 candidates only")
    parser.add_argument("--no-physbo", action="store_true", help="this project only")
    args = parser.parse_args()
    if args.no_physbo:
        global physbo
        physbo = None
    parts = args.parts.split(",")
    seeds = list(range(2 if args.quick else args.seeds))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}; physbo {getattr(physbo, '__version__', 'absent')}"
    )
    if "gb" in parts or "branin" in parts:
        print("\n".join(search_table(seeds, args.budget, parts)))
    if "timing" in parts:
        print("\n".join(timing_table([10**4] if args.quick else [10**4, 10**5])))
    if "learning" in parts and not args.quick:
        print("\n".join(learning_table()))


if __name__ == "__main__":
    main()
