"""Make the lab-05 "experiment": magnetisation curves and chi(T) of the KCu4P3O12 model.

The effective model of Tamura et al., PRB 101, 224435 (2020) (8-spin zigzag stand-in
bond map, J1 = -8.54, J2 = -2.67, J3 = 3.90, J4 = 6.24 meV, g = 2.08; see
``mi_widgets.spin.data``) is solved by exact diagonalisation; Gaussian noise of
0.01 M_s (M_s = g/2 mu_B per spin) is added to M(B) at 1.4, 4.2 and 20 K on 0-75 T
(1 T steps) and noise of 2e-4 mu_B/T to chi(T) at 50 temperatures from 2 to 100 K.
One ``numpy.random.default_rng(20200612)`` stream: M first, then chi.

Usage: ``python scripts/make_spin_data.py [--out DIR]`` (a second, no more).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from mi_widgets.spin import spin_gap
from mi_widgets.spin.data import (
    BONDS_FILE,
    CHI_NOISE,
    CHI_TEMPERATURES,
    KCU4P3O12_BONDS,
    KCU4P3O12_COUPLINGS,
    KCU4P3O12_FIELDS,
    KCU4P3O12_G,
    KCU4P3O12_NOISE,
    KCU4P3O12_SEED,
    KCU4P3O12_TEMPERATURES,
    MAGNETIZATION_FILE,
    SUSCEPTIBILITY_FILE,
    kcu4p3o12_cluster,
)
from mi_widgets.spin.ed import magnetization, susceptibility


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    cluster = kcu4p3o12_cluster()
    rng = np.random.default_rng(KCU4P3O12_SEED)
    fields = np.array(KCU4P3O12_FIELDS)
    temps = np.array(KCU4P3O12_TEMPERATURES)
    m = magnetization(cluster, KCU4P3O12_COUPLINGS, fields, temps, g=KCU4P3O12_G)
    m_noisy = m + rng.normal(0.0, KCU4P3O12_NOISE, m.shape)
    chi_t = np.array(CHI_TEMPERATURES)
    chi = susceptibility(cluster, KCU4P3O12_COUPLINGS, chi_t, g=KCU4P3O12_G)
    chi_noisy = chi + rng.normal(0.0, CHI_NOISE, chi.shape)

    files = {
        BONDS_FILE: "i,j,name\n" + "".join(f"{i},{j},{n}\n" for i, j, n in KCU4P3O12_BONDS),
        MAGNETIZATION_FILE: "temperature_K,field_T,magnetization_muB\n"
        + "".join(
            f"{t:g},{b:g},{value:.6f}\n"
            for t, row in zip(temps, m_noisy, strict=True)
            for b, value in zip(fields, row, strict=True)
        ),
        SUSCEPTIBILITY_FILE: "temperature_K,chi_muB_per_T\n"
        + "".join(f"{t:.6g},{c:.7f}\n" for t, c in zip(chi_t, chi_noisy, strict=True)),
    }
    for name, text in files.items():
        (out / name).write_text(text)
        print(name, hashlib.sha256(text.encode()).hexdigest())
    gap = spin_gap(cluster, KCU4P3O12_COUPLINGS)
    print(f"spin gap of the model: {gap:.4f} meV; chi max {chi.max():.4f} mu_B/T")


if __name__ == "__main__":
    main()
