"""Analytic derivatives of the magnetisation with respect to the couplings.

With the conventions of :mod:`mi_widgets.spin.ed`, H(J) = sum_k J_k V_k - g mu_B B S^z_total,
V_k = -sum_{b in k} [S^x_i S^x_j + S^y_i S^y_j + Delta S^z_i S^z_j] the bond operator of
coupling k (meV per meV). Total S^z commutes with H and with every V_k, so in the sector
basis S^z is the constant sector value m and the eigenvectors |n> of each sector, found at
B = 0, are the eigenvectors at every field (the Zeeman term only shifts the sector by
-g mu_B B m). The thermal average <A> = Tr(A e^{-beta H}) / Z of an observable A that is
a function of S^z (S^z itself, (S^z)^2) then has the derivative

    d<A>/dJ_k = -beta (<A V_k> - <A><V_k>),
    <A V_k> = sum_n A(m_n) <n|V_k|n> e^{-beta E_n} / Z,

so only the diagonal elements <n|V_k|n> of each bond operator in each eigenstate are
needed (Hellmann-Feynman slopes dE_n/dJ_k; the formula holds for degenerate levels too,
because the trace does not depend on the basis chosen within a degenerate subspace).
They do not depend on B or T: one diagonalisation with eigenvectors gives M and dM/dJ at
every field and temperature. For M = g <S^z_total> / N (mu_B per spin),
dM/dJ_k = g / N d<S^z_total>/dJ_k (mu_B per spin per meV).

At T = 0, M(B) is a staircase of the ground state's S^z: away from the level crossings
it does not change under small changes of J, so its derivative is 0 there (and undefined
at a crossing, where the step moves); :func:`thermal_derivatives` returns 0 at T = 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.linalg import eigh

from mi_widgets._errors import MIInputError
from mi_widgets.spin.ed import (
    _BLAS,
    BOHR_MAGNETON_MEV_PER_T,
    BOLTZMANN_MEV_PER_K,
    MAX_FULL_ED,
    Spectrum,
    SpinCluster,
    _check_g_delta,
    check_fields,
    check_temperatures,
)

__all__ = [
    "SlopedSpectrum",
    "ThermalDerivatives",
    "curves_with_gradients",
    "levels_with_slopes",
    "magnetization_gradient",
    "thermal_derivatives",
]


@dataclass(frozen=True)
class SlopedSpectrum(Spectrum):
    """A full :class:`~mi_widgets.spin.ed.Spectrum` with the slope of every level.

    Attributes
    ----------
    slopes : numpy.ndarray
        dE_n/dJ_k = <n|V_k|n>, shape (n_couplings, n_levels), in the order of
        ``cluster.names`` (meV per meV).
    """

    slopes: np.ndarray = None  # type: ignore[assignment]


@dataclass(frozen=True)
class ThermalDerivatives:
    """Thermal moments of S^z_total at one temperature and their derivatives.

    Attributes
    ----------
    mean, var : numpy.ndarray
        <S^z_total> and Var(S^z_total) at each field, shape (n_fields,).
    d_mean, d_var : numpy.ndarray
        Their derivatives with respect to each coupling (per meV),
        shape (n_couplings, n_fields).
    """

    mean: np.ndarray
    var: np.ndarray
    d_mean: np.ndarray
    d_var: np.ndarray


def _sector_slopes(sector, vectors: np.ndarray, delta: float) -> np.ndarray:
    """<n|V_k|n> for every eigenvector (columns of ``vectors``), shape (n_couplings, dim)."""
    zz = sector.zz @ vectors**2
    if sector.dense:
        xy = ((sector.xy_dense @ vectors) * vectors).sum(axis=1)
    else:
        xy = np.array([((m @ vectors) * vectors).sum(axis=0) for m in sector.xy])
    return -(delta * zz + xy)


def _sector_eigensystem(sector, j: np.ndarray, delta: float):
    h = sector.hamiltonian(j, delta)
    if sparse.issparse(h):
        h = h.toarray()
    return eigh(h, overwrite_a=True, check_finite=False)


def levels_with_slopes(
    cluster: SpinCluster, couplings: Mapping[str, float], delta: float = 1.0
) -> SlopedSpectrum:
    """Every zero-field level of ``cluster`` and its derivative with respect to each coupling.

    One diagonalisation (with eigenvectors) per S^z sector; the mirror sector -m has the
    same levels and slopes (global spin flip).

    Parameters
    ----------
    cluster : SpinCluster
        At most :data:`~mi_widgets.spin.ed.MAX_FULL_ED` spins.
    couplings : dict of str to float
        One value (meV) per coupling name.
    delta : float, default 1.0
        XXZ anisotropy of every bond.

    Returns
    -------
    SlopedSpectrum
        Levels (meV), their S^z, and ``slopes`` dE_n/dJ_k.

    Examples
    --------
    >>> dimer = SpinCluster(2, [(0, 1, "J")])
    >>> spec = levels_with_slopes(dimer, {"J": -1.0})
    >>> sorted(zip(spec.energies.round(3).tolist(), spec.slopes[0].round(3).tolist()))
    [(-0.75, 0.75), (0.25, -0.25), (0.25, -0.25), (0.25, -0.25)]
    """
    j = cluster.coupling_vector(couplings)
    _, delta = _check_g_delta(2.0, delta)
    n = cluster.n_spins
    if n > MAX_FULL_ED:
        raise MIInputError(
            f"level slopes need the full spectrum, limited to {MAX_FULL_ED} spins; got {n}."
        )
    energies, sz, slopes = [], [], []
    with _BLAS.limit(limits=1, user_api="blas"):
        for n_up in range(n // 2 + 1):
            sector = cluster.sector(n_up)
            values, vectors = _sector_eigensystem(sector, j, delta)
            dvalues = _sector_slopes(sector, vectors, delta)
            mirrored = n - n_up != n_up
            for m in (sector.sz, -sector.sz) if mirrored else (sector.sz,):
                energies.append(values)
                sz.append(np.full(values.size, m))
                slopes.append(dvalues)
    return SlopedSpectrum(
        np.concatenate(energies), np.concatenate(sz), n, True, np.concatenate(slopes, axis=1)
    )


def thermal_derivatives(
    spectrum: SlopedSpectrum, fields: np.ndarray, temperature: float, g: float = 2.0
) -> ThermalDerivatives:
    """<S^z_total>, Var(S^z_total) and their coupling derivatives at one temperature.

    d<A>/dJ_k = -beta (<A V_k> - <A><V_k>) for A = S^z and (S^z)^2; Var = <(S^z)^2> - <S^z>^2.
    At T = 0 the derivatives are 0 (the T = 0 curve is a staircase whose steps only move).

    Parameters
    ----------
    spectrum : SlopedSpectrum
        From :func:`levels_with_slopes`.
    fields : numpy.ndarray
        B (T).
    temperature : float
        T (K), 0 or above.
    g : float, default 2.0
    """
    mean, var = spectrum.moments(fields, temperature, g)
    n_c = spectrum.slopes.shape[0]
    if temperature == 0.0:
        zero = np.zeros((n_c, mean.size))
        return ThermalDerivatives(mean, var, zero, zero.copy())
    beta = 1.0 / (BOLTZMANN_MEV_PER_K * temperature)
    levels = spectrum.at_field(fields, g)
    weights = np.exp(-beta * (levels - levels.min(axis=1, keepdims=True)))
    weights /= weights.sum(axis=1, keepdims=True)
    sz, slopes = spectrum.sz, spectrum.slopes
    v = slopes @ weights.T  # <V_k>, (n_c, n_fields)
    sz_v = (slopes * sz) @ weights.T
    sz2_v = (slopes * sz**2) @ weights.T
    second = weights @ sz**2
    d_mean = -beta * (sz_v - mean * v)
    d_second = -beta * (sz2_v - second * v)
    return ThermalDerivatives(mean, var, d_mean, d_second - 2 * mean * d_mean)


def curves_with_gradients(
    spectrum: SlopedSpectrum,
    fields: np.ndarray,
    temperatures: np.ndarray,
    g: float,
    chi_temperatures: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """M(B, T) and chi(T) per spin with their coupling derivatives, from one spectrum.

    Parameters
    ----------
    spectrum : SlopedSpectrum
    fields, temperatures : numpy.ndarray
        B (T) and T (K) of the magnetisation curves (checked by the caller).
    g : float
    chi_temperatures : numpy.ndarray, optional
        T (K, above 0) of a zero-field susceptibility curve.

    Returns
    -------
    m : numpy.ndarray
        (n_temperatures, n_fields), mu_B per spin.
    dm : numpy.ndarray
        (n_couplings, n_temperatures, n_fields), mu_B per spin per meV.
    chi, dchi : numpy.ndarray or None
        chi(T) = g^2 mu_B Var(S^z) / (k_B T N) (mu_B / T per spin), (n_chi,), and its
        derivatives, (n_couplings, n_chi); None without ``chi_temperatures``.
    """
    scale = g / spectrum.n_spins
    parts = [thermal_derivatives(spectrum, fields, t, g) for t in temperatures]
    m = np.array([p.mean for p in parts]) * scale
    dm = np.stack([p.d_mean for p in parts], axis=1) * scale
    if chi_temperatures is None:
        return m, dm, None, None
    zero = np.zeros(1)
    parts = [thermal_derivatives(spectrum, zero, t, g) for t in chi_temperatures]
    factor = g**2 * BOHR_MAGNETON_MEV_PER_T / (BOLTZMANN_MEV_PER_K * chi_temperatures)
    factor = factor / spectrum.n_spins
    chi = factor * np.array([p.var[0] for p in parts])
    dchi = factor * np.stack([p.d_var[:, 0] for p in parts], axis=1)
    return m, dm, chi, dchi


def magnetization_gradient(
    cluster: SpinCluster,
    couplings: Mapping[str, float],
    fields: Any,
    temperature: Any,
    g: float = 2.0,
    delta: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """M(B) per spin (mu_B) and dM/dJ_k (mu_B per meV) from one diagonalisation.

    Parameters
    ----------
    cluster : SpinCluster
    couplings : dict of str to float
        Coupling per name (meV).
    fields : array_like
        B (T), strictly increasing.
    temperature : float or array_like
        T (K); at 0 K the derivative is 0 away from the magnetisation steps.
    g : float, default 2.0
    delta : float, default 1.0

    Returns
    -------
    m : numpy.ndarray
        As :func:`~mi_widgets.spin.ed.magnetization`: (n_fields,) or (n_temperatures, n_fields).
    dm : numpy.ndarray
        dM/dJ_k, the coupling axis first in the order of ``cluster.names``:
        (n_couplings, n_fields) or (n_couplings, n_temperatures, n_fields).

    Examples
    --------
    >>> dimer = SpinCluster(2, [(0, 1, "J")])
    >>> m, dm = magnetization_gradient(dimer, {"J": -4.0}, [30.0], 2.0)
    >>> h = 1e-6
    >>> from mi_widgets.spin import magnetization
    >>> fd = (magnetization(dimer, {"J": -4.0 + h}, [30.0], 2.0)
    ...       - magnetization(dimer, {"J": -4.0 - h}, [30.0], 2.0)) / (2 * h)
    >>> bool(np.allclose(dm[0], fd, rtol=1e-6))
    True
    """
    b = check_fields(fields)
    temps = check_temperatures(temperature)
    g, delta = _check_g_delta(g, delta)
    spectrum = levels_with_slopes(cluster, couplings, delta)
    m, dm, _, _ = curves_with_gradients(spectrum, b, temps, g)
    if np.ndim(temperature) == 0:
        return m[0], dm[:, 0]
    return m, dm
