"""Molecular dynamics with any ASE calculator and its analysis (no UI imports).

* :func:`run_md`: NVE (velocity Verlet) or NVT (Langevin) with ASE, recording unwrapped
  positions, velocities and energies every ``sample_every`` steps;
* :func:`radial_distribution`: g(r) averaged over frames
  (:func:`mi_widgets.structure.rdf`, ASE's neighbour list);
* :func:`mean_squared_displacement` and :func:`diffusion_constant`: Einstein relation
  ``MSD(t) = 6 D t`` at long times, averaged over atoms and time origins;
* :func:`vibrational_dos`: the mass-weighted velocity autocorrelation and its spectrum,
  ``g(nu) ~ sum_i m_i |FFT v_i(t)|^2`` (Wiener-Khinchin);
* :func:`energy_drift`: slope of the total energy per atom in NVE (eV/atom/ps);
* :func:`scale_up`: the lab's comparison, one liquid cell run with two potentials.

Units: time in ps, lengths in Angstrom, energies in eV, frequencies in THz,
diffusion constants in Angstrom^2/ps (1 Angstrom^2/ps = 1e-4 cm^2/s).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from ase import Atoms, units
from ase.build import bulk
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta
from ase.md.verlet import VelocityVerlet

from mi_widgets._errors import MIInputError, check_positive_int
from mi_widgets.structure.rdf import rdf

__all__ = [
    "MDAnalysis",
    "MDTrajectory",
    "ScaleUpResult",
    "VibrationalDOS",
    "analyse",
    "diffusion_constant",
    "energy_drift",
    "mean_squared_displacement",
    "radial_distribution",
    "run_md",
    "scale_up",
    "unwrap",
    "vibrational_dos",
]

#: ASE velocity unit in Angstrom/ps.
VELOCITY_TO_A_PER_PS = 1000.0 * units.fs


@dataclass(frozen=True)
class MDTrajectory:
    """Frames recorded during MD.

    Attributes
    ----------
    times : numpy.ndarray, shape (n_frames,)
        Time of each frame (ps), starting at 0.
    positions : numpy.ndarray, shape (n_frames, n_atoms, 3)
        Unwrapped Cartesian positions (Angstrom).
    velocities : numpy.ndarray, shape (n_frames, n_atoms, 3)
        Velocities (Angstrom/ps).
    potential_energy, kinetic_energy : numpy.ndarray, shape (n_frames,)
        Per atom (eV/atom).
    temperature : numpy.ndarray, shape (n_frames,)
        Instantaneous kinetic temperature (K).
    masses : numpy.ndarray, shape (n_atoms,)
        Atomic masses (amu).
    last : ase.Atoms
        The final structure (with momenta), to continue from.
    cpu_seconds : float
        CPU time of the MD steps.
    n_steps : int
        MD steps taken.
    """

    times: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    potential_energy: np.ndarray
    kinetic_energy: np.ndarray
    temperature: np.ndarray
    masses: np.ndarray
    last: Atoms
    cpu_seconds: float
    n_steps: int

    @property
    def total_energy(self) -> np.ndarray:
        """Potential plus kinetic energy per atom (eV/atom)."""
        return self.potential_energy + self.kinetic_energy

    @property
    def atom_steps_per_cpu_second(self) -> float:
        """MD throughput."""
        return self.n_steps * len(self.masses) / max(self.cpu_seconds, 1e-9)

    def frames(self) -> list[Atoms]:
        """Every recorded frame as ``ase.Atoms`` (positions wrapped back into the cell)."""
        out = []
        for positions in self.positions:
            atoms = self.last.copy()
            atoms.calc = None
            atoms.positions = positions
            atoms.wrap()
            out.append(atoms)
        return out


def _check_md_input(atoms, timestep_fs, n_steps, sample_every):
    if not isinstance(atoms, Atoms) or len(atoms) == 0:
        raise MIInputError("atoms must be a non-empty ase.Atoms structure.")
    if atoms.calc is None:
        raise MIInputError("atoms has no calculator; set atoms.calc = a potential first.")
    if not np.isfinite(timestep_fs) or not 0 < float(timestep_fs) <= 10:
        raise MIInputError(f"timestep_fs must be in (0, 10] fs; got {timestep_fs!r}.")
    n_steps = check_positive_int(n_steps, "n_steps", maximum=10_000_000)
    sample_every = check_positive_int(sample_every, "sample_every", maximum=n_steps)
    return n_steps, sample_every


def _dynamics(atoms, timestep_fs, temperature_K, ensemble, friction_per_fs, rng):
    if ensemble == "nve":
        return VelocityVerlet(atoms, timestep_fs * units.fs)
    if ensemble == "nvt":
        if temperature_K is None or not temperature_K > 0:
            raise MIInputError("NVT needs temperature_K > 0.")
        return Langevin(atoms, timestep_fs * units.fs, temperature_K=temperature_K,
                        friction=friction_per_fs / units.fs, fixcm=False, rng=rng)  # fmt: skip
    raise MIInputError(f"ensemble must be 'nve' or 'nvt'; got {ensemble!r}.")


def _record(atoms: Atoms):
    n = len(atoms)
    kinetic = atoms.get_kinetic_energy()
    return (
        atoms.get_positions(),
        atoms.get_velocities() * VELOCITY_TO_A_PER_PS,
        atoms.get_potential_energy() / n,
        kinetic / n,
        2.0 * kinetic / (3.0 * n * units.kB),
    )


def run_md(
    atoms: Atoms,
    n_steps: int,
    *,
    timestep_fs: float = 1.5,
    ensemble: str = "nve",
    temperature_K: float | None = None,
    friction_per_fs: float = 0.02,
    sample_every: int = 1,
    initialise_velocities: bool = False,
    random_state: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> MDTrajectory:
    """Run MD on ``atoms`` (its calculator) with ASE and record frames.

    Parameters
    ----------
    atoms : ase.Atoms
        Structure with a calculator; it is copied (the input is not moved).
    n_steps : int
        Number of MD steps.
    timestep_fs : float, default 1.5
    ensemble : {"nve", "nvt"}
        Velocity Verlet, or Langevin at ``temperature_K``.
    temperature_K : float, optional
        Thermostat temperature; also the Maxwell-Boltzmann draw when
        ``initialise_velocities``.
    friction_per_fs : float, default 0.02
        Langevin friction.
    sample_every : int, default 1
        Steps between recorded frames (frame 0 is the start).
    initialise_velocities : bool, default False
        Draw velocities at ``temperature_K`` (zero total momentum and rotation) instead
        of keeping the structure's momenta.
    random_state : int, default 0
        Seed of the velocity draw and the Langevin noise.
    progress : callable, optional
        Called as ``progress(steps_done, n_steps)``.

    Returns
    -------
    MDTrajectory

    Examples
    --------
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    >>> atoms.calc = EMT()
    >>> traj = run_md(atoms, 20, timestep_fs=2.0, temperature_K=300,
    ...               initialise_velocities=True, sample_every=5)
    >>> traj.positions.shape, float(traj.times[-1])
    ((5, 32, 3), 0.04)
    >>> bool(abs(energy_drift(traj)) < 1e-3)  # eV/atom/ps in NVE
    True
    """
    n_steps, sample_every = _check_md_input(atoms, timestep_fs, n_steps, sample_every)
    calculator = atoms.calc
    atoms = atoms.copy()
    atoms.calc = calculator
    rng = np.random.default_rng(random_state)
    if initialise_velocities:
        if temperature_K is None or not temperature_K > 0:
            raise MIInputError("initialise_velocities needs temperature_K > 0.")
        thermalize_momenta(atoms, temperature_K=temperature_K, rng=rng)
        Stationary(atoms)
        if not atoms.pbc.any():
            ZeroRotation(atoms)
    dyn = _dynamics(atoms, float(timestep_fs), temperature_K, ensemble, friction_per_fs, rng)
    records = [_record(atoms)]
    start = time.process_time()
    for done in range(sample_every, n_steps + 1, sample_every):
        dyn.run(sample_every)
        records.append(_record(atoms))
        if progress is not None:
            progress(done, n_steps)
    cpu = time.process_time() - start
    columns = (np.array(x) for x in zip(*records, strict=True))
    positions, velocities, potential, kinetic, temperature = columns
    steps = sample_every * (len(records) - 1)
    return MDTrajectory(
        times=np.arange(len(records)) * sample_every * float(timestep_fs) / 1000.0,
        positions=unwrap(positions, atoms.cell.array, atoms.pbc),
        velocities=velocities,
        potential_energy=potential,
        kinetic_energy=kinetic,
        temperature=temperature,
        masses=atoms.get_masses(),
        last=atoms,
        cpu_seconds=cpu,
        n_steps=steps,
    )


def unwrap(positions: np.ndarray, cell: np.ndarray, pbc=True) -> np.ndarray:
    """Undo jumps across periodic boundaries between consecutive frames.

    Each frame-to-frame displacement is brought to its minimum image (atoms move less
    than half a cell between recorded frames), then accumulated.

    Examples
    --------
    >>> cell = np.eye(3) * 10.0
    >>> wrapped = np.array([[[9.5, 0, 0]], [[0.5, 0, 0]]])  # crossed x = 10
    >>> unwrap(wrapped, cell)[:, 0, 0].tolist()
    [9.5, 10.5]
    """
    positions = np.asarray(positions, dtype=float)
    steps = np.diff(positions, axis=0)
    fractional = steps @ np.linalg.inv(cell)
    periodic = np.broadcast_to(np.asarray(pbc, dtype=bool), (3,))
    fractional[..., periodic] -= np.round(fractional[..., periodic])
    steps = fractional @ cell
    return np.concatenate([positions[:1], positions[:1] + np.cumsum(steps, axis=0)])


def radial_distribution(frames: Sequence[Atoms], r_max: float = 6.0, n_bins: int = 120):
    """g(r) averaged over frames; returns ``(r, g)`` in Angstrom and dimensionless.

    Examples
    --------
    >>> from ase.build import bulk
    >>> r, g = radial_distribution([bulk("Si", cubic=True)], r_max=3.0, n_bins=30)
    >>> round(float(r[g.argmax()]), 2)  # first shell at 2.35 A
    2.35
    """
    if len(frames) == 0:
        raise MIInputError("No frames for g(r); record at least one frame.")
    results = [rdf(atoms, r_max=r_max, n_bins=n_bins) for atoms in frames]
    return results[0].r, np.mean([res.g for res in results], axis=0)


def mean_squared_displacement(
    positions: np.ndarray, times: np.ndarray, max_lag_fraction: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """MSD(t) averaged over atoms and every time origin, up to a share of the run.

    Parameters
    ----------
    positions : numpy.ndarray, shape (n_frames, n_atoms, 3)
        Unwrapped positions, equally spaced in time.
    times : numpy.ndarray, shape (n_frames,)
    max_lag_fraction : float, default 0.5
        Longest lag as a share of the run (longer lags have few origins).

    Returns
    -------
    lags, msd : numpy.ndarray
        Lag times (ps) and MSD (Angstrom^2).

    Examples
    --------
    >>> t = np.linspace(0, 1, 11)
    >>> x = np.zeros((11, 1, 3)); x[:, 0, 0] = 2.0 * t  # ballistic, 2 A/ps
    >>> lags, msd = mean_squared_displacement(x, t)
    >>> np.allclose(msd, (2.0 * lags) ** 2)
    True
    """
    positions = np.asarray(positions, dtype=float)
    if positions.ndim != 3 or positions.shape[0] < 2:
        raise MIInputError("positions must have shape (n_frames >= 2, n_atoms, 3).")
    n_lags = max(2, int(max_lag_fraction * positions.shape[0]) + 1)
    msd = np.zeros(n_lags)
    for lag in range(1, n_lags):  # loop over lags only; atoms and origins are vectorised
        step = positions[lag:] - positions[:-lag]
        msd[lag] = np.mean(np.sum(step**2, axis=-1))
    return np.asarray(times)[:n_lags] - times[0], msd


def diffusion_constant(lags: np.ndarray, msd: np.ndarray, fit_from: float = 0.3) -> float:
    """``D = slope / 6`` of a straight line fitted to MSD(t) past ``fit_from`` of the lags.

    The first part (ballistic, then caging) is left out. Angstrom^2/ps.

    Examples
    --------
    >>> lags = np.linspace(0, 10, 101)
    >>> round(diffusion_constant(lags, 6 * 0.25 * lags + 1.0), 6)
    0.25
    """
    keep = lags >= fit_from * lags[-1]
    if keep.sum() < 2:
        raise MIInputError("Too few MSD points for a diffusion fit; run longer.")
    slope = np.polyfit(lags[keep], msd[keep], 1)[0]
    return float(slope / 6.0)


@dataclass(frozen=True)
class VibrationalDOS:
    """Vibrational density of states from the velocity autocorrelation.

    Attributes
    ----------
    frequency : numpy.ndarray
        Frequencies (THz), from 0 to the Nyquist frequency.
    dos : numpy.ndarray
        Density of states, normalised to unit area over ``frequency``.
    lags : numpy.ndarray
        Lag times of the autocorrelation (ps).
    vacf : numpy.ndarray
        Mass-weighted velocity autocorrelation, normalised to 1 at lag 0.
    """

    frequency: np.ndarray
    dos: np.ndarray
    lags: np.ndarray
    vacf: np.ndarray

    def peak(self) -> float:
        """Frequency of the highest point (THz)."""
        return float(self.frequency[np.argmax(self.dos)])


def vibrational_dos(
    velocities: np.ndarray, dt_ps: float, masses: np.ndarray | None = None
) -> VibrationalDOS:
    """VDOS ``g(nu) ~ sum_i m_i |FFT v_i|^2`` and the VACF (its inverse transform).

    The run is zero-padded to twice its length, so the autocorrelation is linear (not
    circular), averaged over time origins.

    Parameters
    ----------
    velocities : numpy.ndarray, shape (n_frames, n_atoms, 3)
    dt_ps : float
        Time between frames (ps).
    masses : numpy.ndarray, optional
        Weights per atom (default 1).

    Examples
    --------
    >>> t = np.arange(2000) * 0.005  # 10 ps
    >>> v = np.cos(2 * np.pi * 15.0 * t)[:, None, None] * np.ones((1, 1, 3))
    >>> round(vibrational_dos(v, 0.005).peak(), 1)  # a 15 THz oscillator
    15.0
    """
    v = np.asarray(velocities, dtype=float)
    if v.ndim != 3 or v.shape[0] < 4:
        raise MIInputError("velocities must have shape (n_frames >= 4, n_atoms, 3).")
    n = v.shape[0]
    weights = np.ones(v.shape[1]) if masses is None else np.asarray(masses, dtype=float)
    spectrum = np.abs(np.fft.rfft(v, n=2 * n, axis=0)) ** 2  # (2n//2+1, atoms, 3)
    power = np.einsum("fac,a->f", spectrum, weights)
    vacf = np.fft.irfft(power, n=2 * n)[:n] / (n - np.arange(n))
    vacf = vacf / vacf[0]
    frequency = np.fft.rfftfreq(2 * n, d=dt_ps)
    dos = power / np.trapezoid(power, frequency)
    return VibrationalDOS(frequency=frequency, dos=dos, lags=np.arange(n) * dt_ps, vacf=vacf)


def energy_drift(trajectory: MDTrajectory) -> float:
    """Slope of the total energy per atom against time (eV/atom/ps), a line fit.

    Meaningful in NVE; a thermostat exchanges energy on purpose.
    """
    if len(trajectory.times) < 2:
        raise MIInputError("Need at least two frames for an energy drift.")
    return float(np.polyfit(trajectory.times, trajectory.total_energy, 1)[0])


@dataclass(frozen=True)
class MDAnalysis:
    """What lab 06 compares between two potentials on the same run.

    Attributes
    ----------
    r, g : numpy.ndarray
        g(r) (Angstrom; dimensionless).
    lags, msd : numpy.ndarray
        MSD (ps; Angstrom^2).
    diffusion : float
        Diffusion constant (Angstrom^2/ps).
    vdos : VibrationalDOS
    drift : float
        NVE energy drift (eV/atom/ps).
    temperature : float
        Mean kinetic temperature of the run (K).
    throughput : float
        Atom-steps per CPU-second.
    """

    r: np.ndarray
    g: np.ndarray
    lags: np.ndarray
    msd: np.ndarray
    diffusion: float
    vdos: VibrationalDOS
    drift: float
    temperature: float
    throughput: float


def analyse(trajectory: MDTrajectory, r_max: float = 6.0, rdf_frames: int = 10) -> MDAnalysis:
    """g(r) (on ``rdf_frames`` frames spread over the run), MSD, D, VDOS and drift."""
    frames = trajectory.frames()
    pick = np.unique(np.linspace(0, len(frames) - 1, min(rdf_frames, len(frames))).astype(int))
    r, g = radial_distribution([frames[k] for k in pick], r_max=r_max)
    lags, msd = mean_squared_displacement(trajectory.positions, trajectory.times)
    dt = float(trajectory.times[1] - trajectory.times[0])
    return MDAnalysis(
        r=r,
        g=g,
        lags=lags,
        msd=msd,
        diffusion=diffusion_constant(lags, msd),
        vdos=vibrational_dos(trajectory.velocities, dt, trajectory.masses),
        drift=energy_drift(trajectory),
        temperature=float(trajectory.temperature.mean()),
        throughput=trajectory.atom_steps_per_cpu_second,
    )


@dataclass(frozen=True)
class ScaleUpResult:
    """Two potentials on the same liquid cell: ``model`` and ``reference`` analyses.

    Attributes
    ----------
    model, reference : MDAnalysis
    n_atoms : int
    rdf_difference : float
        ``integral |g_model - g_ref| dr / integral g_ref dr`` over 0..r_max.
    diffusion_ratio : float
        ``D_model / D_reference``.
    """

    model: MDAnalysis
    reference: MDAnalysis
    n_atoms: int
    rdf_difference: float
    diffusion_ratio: float


def liquid_si(repeat: int, temperature_K: float, reference, random_state: int = 0,
              melt_steps: int = 400, progress=None) -> Atoms:  # fmt: skip
    """A ``repeat^3`` cubic-cell Si liquid: melted at 3500 K then held at ``temperature_K``.

    Uses the (cheap) ``reference`` calculator; returns the structure with momenta.
    """
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(check_positive_int(repeat, "repeat"))
    atoms.calc = reference
    hot = run_md(atoms, melt_steps, ensemble="nvt", temperature_K=3500.0, sample_every=melt_steps,
                 initialise_velocities=True, random_state=random_state)  # fmt: skip
    hot.last.calc = reference
    held = run_md(hot.last, melt_steps, ensemble="nvt", temperature_K=temperature_K,
                  sample_every=melt_steps, random_state=random_state + 1)  # fmt: skip
    if progress is not None:
        progress(1, 1)
    return held.last


def _hold_then_nve(atoms, equilibrate_steps, n_steps, timestep_fs, temperature_K, seed, report,
                   offset) -> MDTrajectory:  # fmt: skip
    calculator = atoms.calc
    hold = run_md(atoms, equilibrate_steps, timestep_fs=timestep_fs, ensemble="nvt",
                  temperature_K=temperature_K, sample_every=max(1, equilibrate_steps // 10),
                  random_state=seed + 2, progress=report)  # fmt: skip
    offset[0] += equilibrate_steps
    hold.last.calc = calculator
    run = run_md(hold.last, n_steps, timestep_fs=timestep_fs, sample_every=2, progress=report)
    offset[0] += n_steps
    return run


def scale_up(
    model,
    reference,
    *,
    repeat: int = 3,
    temperature_K: float = 2000.0,
    n_steps: int = 300,
    timestep_fs: float = 1.5,
    equilibrate_steps: int = 100,
    random_state: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> ScaleUpResult:
    """Run the same Si liquid with ``model`` and ``reference`` and compare them.

    The liquid is prepared with the reference (melt at 3500 K, hold at
    ``temperature_K``); each potential then equilibrates it for ``equilibrate_steps``
    (Langevin) and runs ``n_steps`` of NVE, from which g(r), MSD and D, the VDOS and the
    energy drift come.

    Examples
    --------
    >>> from mi_widgets.structure import StillingerWeber
    >>> result = scale_up(StillingerWeber(), StillingerWeber(), repeat=2, n_steps=20,
    ...                   equilibrate_steps=5)
    >>> result.n_atoms, result.rdf_difference
    (64, 0.0)
    """
    n_steps = check_positive_int(n_steps, "n_steps", maximum=100_000)
    total = 2 * (equilibrate_steps + n_steps)
    offset = [0]

    def report(done, _):
        if progress is not None:
            progress(offset[0] + done, total)

    start = liquid_si(repeat, temperature_K, reference, random_state)
    analyses = []
    for name, calculator in (("the model", model), ("the reference", reference)):
        atoms = start.copy()
        atoms.calc = calculator
        try:
            run = _hold_then_nve(atoms, equilibrate_steps, n_steps, timestep_fs, temperature_K,
                                 random_state, report, offset)  # fmt: skip
            analyses.append(analyse(run))
        except MIInputError as error:
            if type(error) is not MIInputError:  # e.g. a stop request from the progress callback
                raise
            raise MIInputError(
                f"MD with {name} broke down ({error}) The potential met atoms closer than its "
                "training data held and extrapolated; train it on hotter, denser frames."
            ) from None
    ours, ref = analyses
    area = np.trapezoid(ref.g, ref.r)
    return ScaleUpResult(
        model=ours,
        reference=ref,
        n_atoms=len(start),
        rdf_difference=float(np.trapezoid(np.abs(ours.g - ref.g), ref.r) / area),
        diffusion_ratio=ours.diffusion / ref.diffusion if ref.diffusion else float("nan"),
    )
