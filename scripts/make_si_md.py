"""Generate the Si molecular-dynamics data of lab 08 with the Stillinger-Weber potential.

Physics: 216 Si atoms (3 x 3 x 3 cubic diamond cells, a = 5.431 A, held fixed:
NVT at the crystal density), Stillinger-Weber potential
(:class:`mi_widgets.structure.StillingerWeber`), Langevin thermostat
(friction 0.01 / fs), time step 1.5 fs, fixed seed. The SW melting point is
about 1690 K (Broughton & Li, PRB 35, 9120 (1987)).

1. crystal at 300 K and at 1600 K (near melting): 1.5 ps equilibration, then
   5 frames 150 fs apart;
2. liquid: the crystal melted at 4000 K for 6 ps, then 3 ps at 2000 K, then
   5 frames 300 fs apart at 2000 K;
3. melt-quench: the 2000 K liquid cooled linearly to 300 K at 5e13 K/s
   (34 ps); one frame every 100 K with its thermostat and instantaneous
   temperature in ``atoms.info``;
4. amorphous: the quenched structure at 300 K, 1.5 ps, then 5 frames 150 fs apart.

Each frame keeps the SW energy, forces and stress (extended XYZ). ``--small``
runs the same protocol on 64 atoms with about 1/25 of the steps (seconds), for
the test that proves this script works. Run from the repository root::

    nice python scripts/make_si_md.py            # writes data/si_md_*.extxyz
    python scripts/make_si_md.py --small --out /tmp/si
"""

from __future__ import annotations

import argparse
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms, units
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, thermalize_momenta

from mi_widgets.structure import StillingerWeber

SEED = 2026
TIMESTEP_FS = 1.5
FRICTION_PER_FS = 0.01
QUENCH_RATE_K_PER_S = 5e13


@dataclass(frozen=True)
class Protocol:
    """Number of unit cells per side and MD steps of each stage."""

    repeat: int = 3
    equilibrate: int = 1000  # 1.5 ps
    frame_every: int = 100  # 150 fs
    frame_every_liquid: int = 200  # 300 fs
    melt: int = 4000  # 6 ps at 4000 K
    liquid: int = 2000  # 3 ps at 2000 K
    n_frames: int = 5
    quench_rate: float = QUENCH_RATE_K_PER_S


SMALL = Protocol(
    repeat=2,
    equilibrate=40,
    frame_every=8,
    frame_every_liquid=8,
    melt=200,
    liquid=80,
    n_frames=2,
    quench_rate=QUENCH_RATE_K_PER_S * 25,
)


def snapshot(atoms: Atoms, **info) -> Atoms:
    """A copy with SW energy, forces and stress frozen in, plus ``info`` keys."""
    frame = atoms.copy()
    frame.calc = SinglePointCalculator(
        frame,
        energy=atoms.get_potential_energy(),
        forces=atoms.get_forces(),
        stress=atoms.get_stress(),
    )
    frame.info.update(info)
    frame.info["temperature_inst_K"] = round(float(atoms.get_temperature()), 2)
    return frame


def thermostat(
    atoms: Atoms,
    temperature: float,
    rng: np.random.Generator,
    *,
    timestep_fs: float = TIMESTEP_FS,
    friction_per_fs: float = FRICTION_PER_FS,
) -> Langevin:
    """Langevin NVT at ``temperature`` (K), the centre of mass free to move."""
    return Langevin(
        atoms,
        timestep_fs * units.fs,
        temperature_K=temperature,
        friction=friction_per_fs / units.fs,
        fixcm=False,
        rng=rng,
    )


def sample(dyn: Langevin, atoms: Atoms, protocol: Protocol, every: int, **info) -> list[Atoms]:
    frames = []
    for _ in range(protocol.n_frames):
        dyn.run(every)
        frames.append(snapshot(atoms, **info))
    return frames


def sw_calculator() -> StillingerWeber:
    """The original Stillinger-Weber silicon."""
    return StillingerWeber(skin=1.0)


def diamond(
    protocol: Protocol, temperature: float, rng: np.random.Generator, calculator=sw_calculator
) -> Atoms:
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(protocol.repeat)
    atoms.calc = calculator()
    thermalize_momenta(atoms, temperature_K=temperature, rng=rng)
    Stationary(atoms)
    return atoms


def crystal(protocol: Protocol, temperature: float, rng: np.random.Generator) -> list[Atoms]:
    atoms = diamond(protocol, temperature, rng)
    dyn = thermostat(atoms, temperature, rng)
    dyn.run(protocol.equilibrate)
    return sample(
        dyn, atoms, protocol, protocol.frame_every, phase="crystal", temperature_K=temperature
    )


def liquid_quench_amorphous(
    protocol: Protocol, rng: np.random.Generator, calculator=sw_calculator
) -> tuple[list[Atoms], list[Atoms], list[Atoms]]:
    atoms = diamond(protocol, 4000.0, rng, calculator)
    dyn = thermostat(atoms, 4000.0, rng)
    dyn.run(protocol.melt)
    dyn.set_temperature(temperature_K=2000.0)
    dyn.run(protocol.liquid)
    liquid = sample(
        dyn, atoms, protocol, protocol.frame_every_liquid, phase="liquid", temperature_K=2000.0
    )

    # linear ramp 2000 K -> 300 K, thermostat target updated every 10 K
    kelvin_per_step = protocol.quench_rate * TIMESTEP_FS * 1e-15
    steps_per_10K = max(1, round(10.0 / kelvin_per_step))
    quench, elapsed = [], 0
    for target in np.arange(2000.0, 299.0, -10.0):
        dyn.set_temperature(temperature_K=float(target))
        dyn.run(steps_per_10K)
        elapsed += steps_per_10K
        if round(target) % 100 == 0:
            quench.append(
                snapshot(
                    atoms,
                    phase="quench",
                    temperature_K=float(target),
                    time_ps=round(elapsed * TIMESTEP_FS * 1e-3, 3),
                    cooling_rate_K_per_s=protocol.quench_rate,
                )
            )
    dyn.set_temperature(temperature_K=300.0)
    dyn.run(protocol.equilibrate)
    amorphous = sample(
        dyn, atoms, protocol, protocol.frame_every, phase="amorphous", temperature_K=300.0
    )
    return liquid, quench, amorphous


def generate(protocol: Protocol, out: Path) -> dict[str, Path]:
    """Run every stage with the fixed seed and write one extended XYZ file per kind."""
    rng = np.random.default_rng(SEED)
    runs = {
        "crystal_300K": crystal(protocol, 300.0, rng),
        "crystal_1600K": crystal(protocol, 1600.0, rng),
    }
    liquid, quench, amorphous = liquid_quench_amorphous(protocol, rng)
    runs.update(liquid_2000K=liquid, quench=quench, amorphous_300K=amorphous)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind, frames in runs.items():
        for frame in frames:
            frame.info.update(seed=SEED, timestep_fs=TIMESTEP_FS, potential="Stillinger-Weber")
        path = out / f"si_md_{kind}.extxyz"
        ase.io.write(path, frames, format="extxyz")
        paths[kind] = path
    return paths


def arguments() -> argparse.Namespace:
    """``--small`` and ``--out``, shared with ``scripts/make_si_amorphous_vink.py``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="64 atoms, few steps (a test)")
    parser.add_argument("--out", type=Path, default=Path("data"), help="output folder")
    return parser.parse_args()


def report(paths, start: float) -> None:
    """Print the run time and a data/README row (name, size, sha256) per file."""
    print(f"done in {time.perf_counter() - start:.1f} s")
    for path in paths:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"| {path.name} | {path.stat().st_size / 1e3:.0f} kB | {digest} |")


def main() -> None:
    args = arguments()
    start = time.perf_counter()
    paths = generate(SMALL if args.small else Protocol(), args.out)
    report(paths.values(), start)


if __name__ == "__main__":
    main()
