"""Write data/xps_c1s.csv: a carbon 1s X-ray photoelectron spectrum from a physical model.

Model: three chemical states of carbon in an oxidised polymer surface
(C-C/C-H at 284.8 eV, C-O at 286.3 eV, O-C=O at 288.9 eV binding energy;
Beamson & Briggs, High Resolution XPS of Organic Polymers, 1992), each a
pseudo-Voigt line (instrumental Gaussian broadening + core-hole Lorentzian
lifetime), on a Shirley background of inelastically scattered electrons plus
a constant, with Poisson counting noise. Seeded: the file is reproducible.

Usage: python scripts/make_spectra_data.py [--out data] [--channels 400]
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from mi_widgets.spectra import model as pm

SEED = 20261121
CENTRES_EV = [284.8, 286.3, 288.9]
FWHM_EV = [1.15, 1.3, 1.4]
AREAS = [5200.0, 1900.0, 900.0]  # counts x eV
ETA = [0.25, 0.25, 0.25]
SHIRLEY = [40.0, 0.06]  # constant level (counts), scattered fraction per unit area


def make_c1s(n_channels: int = 400, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Binding energy (eV, increasing) and counts per channel."""
    x = np.linspace(280.0, 294.0, n_channels)
    params = pm.join(CENTRES_EV, FWHM_EV, AREAS, ETA, np.array(SHIRLEY))
    expected = pm.model(x, params, 3, "shirley")
    counts = np.random.default_rng(seed).poisson(expected)
    return x, counts.astype(float)


def write(out: Path, n_channels: int) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    x, counts = make_c1s(n_channels)
    path = out / "xps_c1s.csv"
    lines = ["binding_energy_eV,counts"] + [
        f"{e:.4f},{int(c)}" for e, c in zip(x, counts, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data")
    parser.add_argument("--channels", type=int, default=400)
    args = parser.parse_args()
    path = write(args.out, args.channels)
    print(path, hashlib.sha256(path.read_bytes()).hexdigest())


if __name__ == "__main__":
    main()
