"""Write ``data/elements.csv``: elemental properties for composition features.

Run once at data-generation time; needs ``mendeleev`` (``pip install mendeleev``),
which is NOT a run-time dependency of mi-lab.  Sources per column:

==========================  =================================================================
column                      source
==========================  =================================================================
atomic_number               ``ase.data.atomic_numbers``
atomic_mass_u               ``ase.data.atomic_masses`` (IUPAC standard atomic weights)
group, period               mendeleev 1.3.0 ``group_id``, ``period``
electronegativity_pauling   mendeleev 1.3.0 ``en_pauling`` (Pauling scale)
covalent_radius_pm          mendeleev 1.3.0 ``covalent_radius_pyykko``: single-bond radii of
                            P. Pyykko and M. Atsumi, Chem. Eur. J. 15, 186 (2009)
atomic_radius_pm            mendeleev 1.3.0 ``atomic_radius``: empirical radii of
                            J. C. Slater, J. Chem. Phys. 41, 3199 (1964)
ionisation_energy_eV        mendeleev 1.3.0 ``ionenergies[1]`` (first ionisation energy,
                            NIST Atomic Spectra Database)
valence_electrons           mendeleev 1.3.0 ``nvalence()``
melting_point_K             mendeleev 1.3.0 ``melting_point``; Sn typed from the CRC Handbook
                            of Chemistry and Physics (505.08 K) because mendeleev has none
density_g_cm3               mendeleev 1.3.0 ``density`` (at room temperature; gases at STP)
==========================  =================================================================

Elements whose row would have a gap (C, P, S, Se, Ce) are left out.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ase.data import atomic_masses, atomic_numbers

SYMBOLS = (
    "H Li Be B N O F Na Mg Al Si Cl K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Br Rb Sr Y Zr "
    "Nb Mo Ru Rh Pd Ag Cd In Sn Sb Te I Cs Ba La Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi"
).split()
TYPED_MELTING_POINT_K = {"Sn": 505.08}  # CRC Handbook; mendeleev 1.3.0 has no value
COLUMNS = (
    "symbol",
    "atomic_number",
    "atomic_mass_u",
    "group",
    "period",
    "electronegativity_pauling",
    "covalent_radius_pm",
    "atomic_radius_pm",
    "ionisation_energy_eV",
    "valence_electrons",
    "melting_point_K",
    "density_g_cm3",
)


def element_row(symbol: str) -> dict:
    """One row of the table, from ase.data and mendeleev."""
    from mendeleev import element  # data-generation time only

    e = element(symbol)
    z = atomic_numbers[symbol]
    melting = e.melting_point if e.melting_point is not None else TYPED_MELTING_POINT_K[symbol]
    return {
        "symbol": symbol,
        "atomic_number": z,
        "atomic_mass_u": f"{atomic_masses[z]:.4f}",
        "group": e.group_id,
        "period": e.period,
        "electronegativity_pauling": e.en_pauling,
        "covalent_radius_pm": f"{e.covalent_radius_pyykko:.0f}",
        "atomic_radius_pm": f"{e.atomic_radius:.0f}",
        "ionisation_energy_eV": f"{e.ionenergies[1]:.4f}",
        "valence_electrons": e.nvalence(),
        "melting_point_K": f"{melting:.2f}",
        "density_g_cm3": f"{e.density:.5g}",
    }


def main() -> None:
    out = Path(__file__).parents[1] / "data" / "elements.csv"
    rows = [element_row(s) for s in SYMBOLS]
    with open(out, "w", newline="") as handle:
        handle.write(
            "# Elemental properties; scripts/make_element_table.py (sources per column there)\n"
        )
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} elements to {out}")


if __name__ == "__main__":
    main()
