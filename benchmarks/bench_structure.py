"""Benchmark the structure lab: SW potential, Steinhardt (vs freud), LAAF; TS-LPP rows plug in.

Run from the repository root (not part of pytest)::

    python benchmarks/bench_structure.py [--quick] [--markdown benchmarks/bench_structure.md]

Every benchmark is a function returning rows (dicts with the columns of
:data:`COLUMNS`); :func:`main` runs the functions listed in :data:`BENCHMARKS`,
prints one table and writes it as Markdown. Times are CPU seconds of this
process (``time.process_time``, best of a few repeats), so other users of a
shared machine disturb them less than wall time; freud is limited to one
thread to compare like with like.
"""

from __future__ import annotations

import argparse
import itertools
import platform
from collections.abc import Callable
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.neighborlist import neighbor_list
from timing import cpu_time
from tslpp_rows import TSLPP_BENCHMARKS

from mi_widgets.structure import StillingerWeber, laaf_descriptor, steinhardt
from mi_widgets.structure.stillinger_weber import SW_SILICON

COLUMNS = ("benchmark", "size", "this project", "anchor", "anchor time", "ratio", "goal")


def rattled_diamond(repeat: int, seed: int = 0) -> Atoms:
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(repeat)
    atoms.rattle(0.1, seed=seed)
    return atoms


# ------------------------------------------------------------------ Stillinger-Weber


def loop_sw_energy_forces(atoms: Atoms) -> tuple[float, np.ndarray]:
    """A straightforward per-atom loop implementation (the anchor: no compiled SW runs here)."""
    prm = SW_SILICON
    cut = prm.a * prm.sigma
    i_all, j_all, d_all = neighbor_list("ijD", atoms, cut)
    energy, forces = 0.0, np.zeros((len(atoms), 3))
    for i in range(len(atoms)):
        bonds = [(j, d) for j, d in zip(j_all[i_all == i], d_all[i_all == i], strict=True)]
        for j, d in bonds:
            r = np.linalg.norm(d)
            x = prm.sigma / r
            damp = np.exp(prm.sigma / (r - cut))
            phi = prm.A * prm.epsilon * (prm.B * x**prm.p - x**prm.q) * damp
            slope = (
                prm.A
                * prm.epsilon
                * (
                    -prm.p * prm.B * x**prm.p / r * damp
                    + (prm.B * x**prm.p - x**prm.q) * (-prm.sigma / (r - cut) ** 2) * damp
                )
            )
            energy += 0.5 * phi
            forces[i] += 0.5 * slope * d / r
            forces[j] -= 0.5 * slope * d / r
        for (j, d1), (k, d2) in itertools.combinations(bonds, 2):
            r1, r2 = np.linalg.norm(d1), np.linalg.norm(d2)
            cos = d1 @ d2 / (r1 * r2)
            g1 = np.exp(prm.gamma * prm.sigma / (r1 - cut))
            g2 = np.exp(prm.gamma * prm.sigma / (r2 - cut))
            lam = prm.lambda_ * prm.epsilon
            energy += lam * (cos + 1 / 3) ** 2 * g1 * g2
            dg1 = -prm.gamma * prm.sigma / (r1 - cut) ** 2 * g1
            dg2 = -prm.gamma * prm.sigma / (r2 - cut) ** 2 * g2
            dcos1 = d2 / (r1 * r2) - cos * d1 / r1**2
            dcos2 = d1 / (r1 * r2) - cos * d2 / r2**2
            grad1 = lam * (
                2 * (cos + 1 / 3) * dcos1 * g1 * g2 + (cos + 1 / 3) ** 2 * dg1 * g2 * d1 / r1
            )
            grad2 = lam * (
                2 * (cos + 1 / 3) * dcos2 * g1 * g2 + (cos + 1 / 3) ** 2 * g1 * dg2 * d2 / r2
            )
            forces[i] += grad1 + grad2
            forces[j] -= grad1
            forces[k] -= grad2
    return energy, forces


def bench_stillinger_weber(quick: bool = False) -> list[dict]:
    rows = []
    for repeat in (3, 6) if quick else (3, 6, 10):
        atoms = rattled_diamond(repeat)
        n = len(atoms)

        def fresh(atoms=atoms):
            StillingerWeber().get_forces(atoms)  # builds the neighbour list every call

        calc = StillingerWeber(skin=0.5)
        atoms.calc = calc
        atoms.get_forces()
        rng = np.random.default_rng(0)

        def md_like(atoms=atoms, rng=rng):
            atoms.positions += rng.normal(scale=0.002, size=(len(atoms), 3))  # an MD step
            atoms.get_forces()

        ours_fresh, ours_md = cpu_time(fresh), cpu_time(md_like, repeats=10)
        anchor = anchor_text = ratio = "-"
        if repeat == 3:
            anchor_time = cpu_time(lambda atoms=atoms: loop_sw_energy_forces(atoms), repeats=1)
            e_loop, f_loop = loop_sw_energy_forces(atoms)
            assert abs(e_loop - atoms.get_potential_energy()) < 1e-8
            assert np.abs(f_loop - atoms.get_forces()).max() < 1e-8
            anchor = "per-atom Python loop (same physics, checked equal)"
            anchor_text = f"{anchor_time / n * 1e6:.0f} us/atom"
            ratio = f"{anchor_time / ours_fresh:.0f}x faster"
        rows.append(
            {
                "benchmark": "SW energy + forces (fresh neighbour list)",
                "size": f"{n} atoms",
                "this project": f"{ours_fresh / n * 1e6:.1f} us/atom",
                "anchor": anchor,
                "anchor time": anchor_text,
                "ratio": ratio,
                "goal": "-",
            }
        )
        rows.append(
            {
                "benchmark": "SW energy + forces (MD step, Verlet list reused)",
                "size": f"{n} atoms",
                "this project": f"{ours_md / n * 1e6:.1f} us/atom",
                "anchor": "-",
                "anchor time": "-",
                "ratio": "-",
                "goal": "-",
            }
        )
    return rows


# ------------------------------------------------------------------ Steinhardt vs freud


def bench_steinhardt(quick: bool = False) -> list[dict]:
    try:
        import freud
    except ImportError:  # freud is a benchmark anchor, not a dependency
        return [{"benchmark": "Steinhardt q4, q6 vs freud", "size": "-", "this project": "-",
                 "anchor": "freud not installed", "anchor time": "-", "ratio": "-",
                 "goal": "within 3x of freud"}]  # fmt: skip
    freud.parallel.set_num_threads(1)
    rows = []
    for repeat in (6, 14) if quick else (6, 14, 30):
        atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(repeat)
        atoms.rattle(0.15, seed=1)
        n = len(atoms)
        length = atoms.cell.lengths()[0]
        box = freud.box.Box.cube(length)
        points = (atoms.get_positions(wrap=True) - length / 2).astype(np.float32)
        for label, ours_kwargs, query in [
            ("q4, q6 (12 nearest)", {"n_neighbors": 12}, {"num_neighbors": 12}),
            ("q4, q6 (r < 3.0 A)", {"r_cut": 3.0}, {"r_max": 3.0}),
            ("avg q4, q6 + w4, w6 (12 nearest)", {"n_neighbors": 12, "averaged": True,
             "w": True}, {"num_neighbors": 12}),
        ]:  # fmt: skip
            averaged = ours_kwargs.get("averaged", False)
            with_w = ours_kwargs.get("w", False)

            def ours(kw=ours_kwargs, atoms=atoms):
                return steinhardt(atoms, ls=(4, 6), **kw)

            def theirs(query=query, averaged=averaged, with_w=with_w, system=(box, points)):
                # one freud call gives q_l (.ql) and, with wl=True, normalised w_l
                compute = freud.order.Steinhardt(
                    [4, 6], average=averaged, wl=with_w, wl_normalize=with_w
                )
                compute.compute(system, neighbors=query)
                return compute.ql

            difference = np.abs(ours().q - theirs()).max()
            assert difference < 1e-4, difference
            t_ours, t_freud = cpu_time(ours), cpu_time(theirs)
            rows.append(
                {
                    "benchmark": f"Steinhardt {label}",
                    "size": f"{n} atoms",
                    "this project": f"{t_ours:.3f} s ({n / t_ours / 1e3:.0f}k atoms/s)",
                    "anchor": "freud 3.4 (C++, 1 thread)",
                    "anchor time": f"{t_freud:.3f} s ({n / t_freud / 1e3:.0f}k atoms/s)",
                    "ratio": f"{t_ours / t_freud:.2f}x freud's time",
                    "goal": "<= 3x" + (" (met)" if t_ours / t_freud <= 3 else " (NOT met)"),
                }
            )
    return rows


# ------------------------------------------------------------------ LAAF


def bench_laaf(quick: bool = False) -> list[dict]:
    atoms = rattled_diamond(11)  # 10 648 atoms
    etas = np.geomspace(0.4, 6.0, 100)
    rows = []
    for r_cut, r_avg in ((4.0, 3.0), (6.0, 5.0)):  # (6, 5) is LAAF_SI_SETTINGS
        seconds = cpu_time(
            lambda r_cut=r_cut, r_avg=r_avg: laaf_descriptor(atoms, etas, r_cut=r_cut, r_avg=r_avg)
        )
        rows.append(
            {
                "benchmark": f"LAAF, 100 etas, Rc = {r_cut:g} A, Ra = {r_avg:g} A",
                "size": f"{len(atoms)} atoms",
                "this project": f"{seconds:.2f} s",
                "anchor": "-",
                "anchor time": "-",
                "ratio": "-",
                "goal": "< 2 s" + (" (met)" if seconds < 2 else " (NOT met)"),
            }
        )
    return rows


#: The benchmark functions main() runs, in order; append yours (e.g. TS-LPP).
BENCHMARKS: list[Callable[[bool], list[dict]]] = [
    bench_stillinger_weber,
    bench_steinhardt,
    bench_laaf,
    *TSLPP_BENCHMARKS,  # benchmarks/tslpp_rows.py: TS-LPP vs the original algorithm
]


def markdown_table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(row.get(c, "-")) for c in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    rows = [row for bench in BENCHMARKS for row in bench(args.quick)]
    machine = f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"
    table = markdown_table(rows)
    print(f"Machine: {machine}; CPU seconds of one process\n")
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")


if __name__ == "__main__":
    main()
