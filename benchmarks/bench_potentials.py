"""Benchmark the potentials lab: symmetry functions vs DScribe, force calls, accuracy.

Run from the repository root (not part of pytest)::

    nice python benchmarks/bench_potentials.py [--quick]

Times are CPU seconds of this process (``time.process_time``, best of a few repeats),
so other users of a shared machine disturb them less than wall time. Both codes get
the same structure and the same symmetry-function settings (8 G2 + 8 G4 and G1, the
project's :func:`~mi_widgets.potentials.default_acsf`); the values are checked equal
before timing. DScribe's ACSF derivatives are numerical (central differences);
this project's are analytic.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import ase.io
import numpy as np
from ase.build import bulk
from ase.calculators.emt import EMT
from timing import cpu_time

from mi_widgets.potentials import (
    ACSFSettings,
    KernelPotential,
    LinearPotential,
    NeuralNetworkPotential,
    acsf,
    default_acsf,
)
from mi_widgets.structure import StillingerWeber

DATA = Path(__file__).resolve().parents[1] / "data"


def copper(repeat: int) -> object:
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(repeat)
    atoms.rattle(0.05, seed=0)
    return atoms


def acsf_rows(quick: bool) -> list[tuple]:
    from dscribe.descriptors import ACSF

    settings = default_acsf(["Cu"])
    anchor = ACSF(
        r_cut=settings.r_cut,
        g2_params=settings.g2,
        g4_params=settings.g4,
        species=["Cu"],
        periodic=True,
    )
    rows = []
    atoms = copper(4 if quick else 8)  # 256 or 2048 atoms
    ours = acsf(atoms, settings.r_cut, settings.g2, settings.g4)
    theirs = anchor.create(atoms)
    assert np.allclose(ours, theirs, rtol=1e-8, atol=1e-12), "values differ from DScribe"
    # values take well under a CPU second: best of 5, the two codes alternating
    values = [
        lambda: acsf(atoms, settings.r_cut, settings.g2, settings.g4),
        lambda: anchor.create(atoms),
    ]
    t_ours, t_theirs = np.min([[cpu_time(f, 1) for f in values] for _ in range(5)], axis=0)
    t_deriv = cpu_time(
        lambda: acsf(atoms, settings.r_cut, settings.g2, settings.g4, derivatives=True)
    )
    n = len(atoms)
    rows.append(
        (f"ACSF values, Cu {n} atoms", f"{n / t_ours:,.0f} atoms/CPU-s",
         f"{n / t_theirs:,.0f} atoms/CPU-s", f"{t_theirs / t_ours:.2f}")
    )  # fmt: skip
    rows.append(
        (f"ACSF values + analytic derivatives, Cu {n} atoms", f"{n / t_deriv:,.0f} atoms/CPU-s",
         "(DScribe: dense numerical only)", "")
    )  # fmt: skip
    small = copper(3)  # 108 atoms
    t_ours = cpu_time(
        lambda: acsf(small, settings.r_cut, settings.g2, settings.g4, derivatives=True)
    )
    t_theirs = cpu_time(
        lambda: anchor.derivatives(small, attach=True, method="numerical"), repeats=1
    )
    _, ours_d = acsf(small, settings.r_cut, settings.g2, settings.g4, derivatives=True)
    theirs_d, _ = anchor.derivatives(small, attach=True, method="numerical")
    mismatch = np.abs(ours_d.wrt_positions() - theirs_d).max() / np.abs(theirs_d).max()
    rows.append(
        (f"ACSF derivatives, Cu {len(small)} atoms (max rel. diff {mismatch:.1e})",
         f"{t_ours:.3f} CPU s", f"{t_theirs:.2f} CPU s", f"{t_theirs / t_ours:.0f}")
    )  # fmt: skip
    return rows


def force_rows() -> list[tuple]:
    rows = []
    cu = copper(3)
    network = NeuralNetworkPotential(["Cu"], hidden=(16, 16)).initialize_weights()
    t_nn = cpu_time(lambda: network.predict_frame(cu), repeats=5)
    emt = EMT()
    t_emt = cpu_time(lambda: (emt.reset(), emt.get_forces(cu)), repeats=5)  # no cache
    rows.append(
        ("Force call, Cu 108 atoms, network (16, 16) vs EMT", f"{t_nn * 1e3:.1f} ms",
         f"{t_emt * 1e3:.1f} ms", f"{t_emt / t_nn:.2f}")
    )  # fmt: skip
    si = bulk("Si", "diamond", a=5.431, cubic=True).repeat(3)
    si.rattle(0.05, seed=0)
    network = NeuralNetworkPotential(["Si"], hidden=(16, 16)).initialize_weights()
    t_nn = cpu_time(lambda: network.predict_frame(si), repeats=5)
    sw = StillingerWeber(skin=0.0)
    t_sw = cpu_time(lambda: (sw.reset(), sw.get_forces(si)), repeats=5)
    rows.append(
        ("Force call, Si 216 atoms, network (16, 16) vs Stillinger-Weber",
         f"{t_nn * 1e3:.1f} ms", f"{t_sw * 1e3:.1f} ms", f"{t_sw / t_nn:.2f}")
    )  # fmt: skip
    return rows


def emt_copper_acsf(r_cut: float = 5.5) -> ACSFSettings:
    """Symmetry functions for EMT Cu: G1, 10 unshifted G2, the 8 G4 of ``default_acsf``.

    ASE's EMT for Cu reaches 5.1 A (its Fermi cut-off sits at 4.77 A, between the third and
    fourth fcc shells), so ``default_acsf``'s 4.5 A misses part of every atom's energy. The
    radial Gaussians are centred on the atom (r_s = 0) with eta from 0.02 to 2 / A^2: broad,
    overlapping functions that span EMT's smooth exponential densities without the narrow,
    nearly empty shells of shifted Gaussians.
    """
    g2 = [(float(eta), 0.0) for eta in np.geomspace(0.02, 2.0, 10)]
    return ACSFSettings.create(r_cut, ["Cu"], g2, default_acsf(["Cu"]).g4)


#: Network training of the accuracy table, step decaying 100x. Cu: a ridge baseline under the
#: network (``linear_baseline``), every training frame used (the last weights kept).
NETWORK_TRAINING = {
    "cu": {"hidden": (24, 24), "learning_rate": 0.005, "final_learning_rate": 5e-5,
           "max_epochs": 1000, "patience": 1000, "energy_weight": 3.0, "linear_baseline": 1e-6,
           "validation_fraction": 0.0},
    "si": {"hidden": (16, 16), "learning_rate": 0.005, "final_learning_rate": 5e-5,
           "max_epochs": 1000, "patience": 1000, "energy_weight": 10.0},
}  # fmt: skip
#: Symmetry functions of the accuracy table (network and ridge alike); None: ``default_acsf``.
DESCRIPTORS = {"cu": emt_copper_acsf, "si": lambda: None}
SEEDS = (0, 1, 2)


def _network(element: str, name: str, quick: bool, seed: int) -> tuple:
    """A network of the accuracy table and its (energy_weight, force_weight)."""
    settings = dict(NETWORK_TRAINING[name])
    energy_weight = settings.pop("energy_weight")
    if quick:
        settings.update(max_epochs=40, final_learning_rate=None)
    model = NeuralNetworkPotential([element], DESCRIPTORS[name](), random_state=seed, **settings)
    return model, (energy_weight, 1.0)


def _squared_errors(model, frame) -> tuple[float, float]:
    """Squared energy error per atom and mean squared force component error of one frame."""
    result = model.predict_frame(frame.copy())
    e = (result["energy"] - frame.get_potential_energy()) / len(frame)
    return e**2, float(np.mean((result["forces"] - frame.get_forces()) ** 2))


def _fold_errors(frames, folds, make_models, quick: bool) -> tuple[dict, dict]:
    """Held-out squared errors per model and subset over the folds, and CPU seconds per fit."""
    errors, cpu, fits = {}, {}, {}
    for fold in range(1 if quick else 4):
        train = [f for f, k in zip(frames, folds, strict=True) if k != fold]
        for label, model, weights in make_models(fold):
            start = time.process_time()
            model.fit(train, *weights)
            cpu[label] = cpu.get(label, 0.0) + time.process_time() - start
            fits[label] = fits.get(label, 0) + 1
            for index in np.flatnonzero(folds == fold):
                subset = frames[index].info["subset"]
                energy, force = errors.setdefault(label, {}).setdefault(subset, ([], []))
                e2, f2 = _squared_errors(model, frames[index])
                energy.append(e2)
                force.append(f2)
    return errors, {label: cpu[label] / fits[label] for label in cpu}


def _cell(errors: dict, subset: str, goal: tuple[float, float] | None = None) -> str:
    e2, f2 = errors.get(subset, ([np.nan], [np.nan]))
    energy, force = 1e3 * np.sqrt(np.mean(e2)), np.sqrt(np.mean(f2))
    text = f"{energy:.1f} meV/atom, {force:.3f} eV/A"
    if goal is not None:
        met = energy <= goal[0] and force <= goal[1]
        text += ": met" if met else ": **not met**"
    return text


ACCURACY_GOALS = {"cu": (2.0, 0.015), "si": (5.0, 0.15)}  # meV/atom, eV/A


def accuracy_rows(quick: bool, materials: Sequence[str] = ("cu", "si")) -> list[tuple]:
    """Network (3 seeds per fold) vs linear model on every subset, 4-fold split by frame."""
    rows = []
    for name, element in (("cu", "Cu"), ("si", "Si")):
        if name not in materials:
            continue
        path = DATA / f"potentials_{name}.extxyz"
        if not path.is_file():
            continue
        frames = ase.io.read(path, index=":")
        folds = np.random.default_rng(0).permutation(len(frames)) % 4

        def make_models(fold, element=element, name=name):
            ridge = LinearPotential([element], DESCRIPTORS[name](), alpha=1e-6)
            models = [("linear", ridge, (1.0, 1.0))]
            for seed in SEEDS[:1] if quick else SEEDS:
                models.append(("network", *_network(element, name, quick, 10 * fold + seed)))
            return models

        errors, cpu = _fold_errors(frames, folds, make_models, quick)
        for subset in sorted({f.info["subset"] for f in frames}):
            rows.append(
                (f"{element} ({path.name}) held-out {subset}",
                 _cell(errors["network"], subset, ACCURACY_GOALS[name]),
                 _cell(errors["linear"], subset), "")
            )  # fmt: skip
        rows.append(
            (f"{element} training CPU time per fit", f"{cpu['network']:.1f} s",
             f"{cpu['linear']:.2f} s", "")
        )  # fmt: skip
    return rows


def kernel_rows(quick: bool, materials: Sequence[str] = ("cu", "si")) -> list[tuple]:
    """Kernel (GAP-style) baseline fitted on energies alone, on the same 4-fold split."""
    rows = []
    for name, element in (("cu", "Cu"), ("si", "Si")):
        if name not in materials:
            continue
        path = DATA / f"potentials_{name}.extxyz"
        if not path.is_file():
            continue
        frames = ase.io.read(path, index=":")
        folds = np.random.default_rng(0).permutation(len(frames)) % 4
        errors, cpu = {}, 0.0
        for fold in range(1 if quick else 4):
            train = [f for f, k in zip(frames, folds, strict=True) if k != fold]
            start = time.process_time()
            model = KernelPotential([element], n_sparse=200, noise=1e-4).fit(train)
            cpu += time.process_time() - start
            for index in np.flatnonzero(folds == fold):
                frame = frames[index]
                result = model.predict_frame(frame.copy())
                e = (result["energy"] - frame.get_potential_energy()) / len(frame)
                f = np.mean((result["forces"] - frame.get_forces()) ** 2)
                bucket = errors.setdefault(frame.info["subset"], ([], []))
                bucket[0].append(e**2)
                bucket[1].append(f)
        for subset, (e2, f2) in sorted(errors.items()):
            rows.append(
                (f"{element} held-out {subset}, kernel (energies only)",
                 f"{1e3 * np.sqrt(np.mean(e2)):.1f} meV/atom, {np.sqrt(np.mean(f2)):.3f} eV/A",
                 "", "")
            )  # fmt: skip
        rows.append((f"{element} kernel fit CPU time per fold", f"{cpu / 4:.2f} s", "", ""))
    return rows


def force_training_rows(quick: bool) -> list[tuple]:
    """Energy-only vs energy + force training of the same network on the same SW Si split."""
    path = DATA / "potentials_si.extxyz"
    if not path.is_file():
        return []
    frames = ase.io.read(path, index=":")
    folds = np.random.default_rng(0).permutation(len(frames)) % 4
    train = [f for f, k in zip(frames, folds, strict=True) if k != 0]
    test = [f for f, k in zip(frames, folds, strict=True) if k == 0]
    cells = []
    for force_weight in (0.0, 1.0):
        model = NeuralNetworkPotential(
            ["Si"], hidden=(16, 16), max_epochs=40 if quick else 300, learning_rate=0.005,
            patience=60,
        ).fit(train, force_weight=force_weight)  # fmt: skip
        e2, f2 = [], []
        for frame in test:
            result = model.predict_frame(frame.copy())
            e2.append(((result["energy"] - frame.get_potential_energy()) / len(frame)) ** 2)
            f2.append(np.mean((result["forces"] - frame.get_forces()) ** 2))
        cells.append((1e3 * np.sqrt(np.mean(e2)), np.sqrt(np.mean(f2))))
    (e_only, f_only), (e_both, f_both) = cells
    return [
        ("Si held-out (fold 0), energy + force training vs energy only",
         f"{e_both:.1f} meV/atom, {f_both:.3f} eV/A", f"{e_only:.1f} meV/atom, {f_only:.3f} eV/A",
         f"forces {f_only / f_both:.1f}x better")
    ]  # fmt: skip


def md_rows(quick: bool) -> list[tuple]:
    """NVE throughput (atom-steps per CPU-second) of the shipped network and of SW, liquid Si."""
    import warnings

    from mi_widgets.potentials import ExtrapolationWarning, load_pretrained, run_md
    from mi_widgets.potentials.md import liquid_si

    warnings.simplefilter("ignore", ExtrapolationWarning)
    rows = []
    for repeat in (3,) if quick else (3, 4):
        start = liquid_si(repeat, 2000.0, StillingerWeber(), random_state=0)
        speeds = []
        for calculator in (load_pretrained("Si"), StillingerWeber()):
            atoms = start.copy()
            atoms.calc = calculator
            speeds.append(
                run_md(atoms, 50 if quick else 200, sample_every=10).atom_steps_per_cpu_second
            )
        rows.append(
            (f"MD throughput, liquid Si {len(start)} atoms, NVE 1.5 fs: shipped network vs SW",
             f"{speeds[0]:,.0f} atom-steps/CPU-s", f"SW {speeds[1]:,.0f} atom-steps/CPU-s",
             f"{speeds[1] / speeds[0]:.0f}x slower")
        )  # fmt: skip
    return rows


def scale_up_rows(quick: bool) -> list[tuple]:
    """The issue's scale-up goal: 512-atom liquid Si at 2000 K, network vs SW."""
    import warnings

    from mi_widgets.potentials import ExtrapolationWarning, load_pretrained, scale_up

    warnings.simplefilter("ignore", ExtrapolationWarning)
    repeat, steps = (3, 300) if quick else (4, 2000)
    start = time.process_time()
    result = scale_up(load_pretrained("Si"), StillingerWeber(), repeat=repeat, n_steps=steps,
                      equilibrate_steps=200)  # fmt: skip
    m, r = result.model, result.reference
    return [
        (f"Scale-up, liquid Si {result.n_atoms} atoms 2000 K, {steps} NVE steps: g(r) "
         "integrated abs difference / integral (goal <= 0.05)", f"{result.rdf_difference:.3f}", "",
         ""),
        ("  diffusion constant (A^2/ps; goal within 20 %)", f"{m.diffusion:.3f}",
         f"SW {r.diffusion:.3f}", f"{result.diffusion_ratio:.2f}"),
        ("  NVE drift (meV/atom/ps)", f"{1e3 * m.drift:.2f}", f"SW {1e3 * r.drift:.2f}", ""),
        ("  VDOS peak (THz)", f"{m.vdos.peak():.1f}", f"SW {r.vdos.peak():.1f}", ""),
        ("  mean temperature (K)", f"{m.temperature:.0f}", f"SW {r.temperature:.0f}", ""),
        ("  CPU time of the whole comparison", f"{time.process_time() - start:.0f} s", "", ""),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller cells, fewer epochs")
    parser.add_argument("--only", choices=("all", "md", "accuracy", "acsf"), default="all",
                        help="md: only the MD throughput and scale-up rows; accuracy: only the "
                             "held-out accuracy tables (network, ridge, kernel); acsf: only the "
                             "symmetry-function rows against DScribe")  # fmt: skip
    parser.add_argument("--materials", default="cu,si",
                        help="accuracy tables of these data only: cu, si or cu,si")  # fmt: skip
    args = parser.parse_args()
    materials = tuple(args.materials.split(","))
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}")
    print("load average at start: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    header = ("benchmark", "this project", "anchor (DScribe / reference / linear)", "ratio")
    rows = acsf_rows(args.quick) if args.only == "acsf" else []
    if args.only in ("all", "accuracy"):
        rows += accuracy_rows(args.quick, materials) + kernel_rows(args.quick, materials)
    if args.only == "all":
        rows = acsf_rows(args.quick) + force_rows() + rows + force_training_rows(args.quick)
    if args.only in ("all", "md"):
        rows += md_rows(args.quick) + scale_up_rows(args.quick)
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
