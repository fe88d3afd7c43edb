"""Write notebooks/08_tslpp_structure_analysis.ipynb (outputs stripped).

Run from the repository root: ``python scripts/make_notebook_08.py``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

PATH = Path(__file__).resolve().parents[1] / "notebooks" / "08_tslpp_structure_analysis.ipynb"

CELLS = [
    (
        "md",
        r"""# 08 · What are the atoms doing? TS-LPP maps of crystal, liquid and amorphous Si

## Goals

- Describe the local environment of every atom of a molecular-dynamics (MD) run by a
  **LAAF descriptor** (100 numbers per atom).
- See why **PCA** of these descriptors mixes liquid and amorphous atoms, and how
  **TS-LPP** (two-step locality preserving projections) finds a plane where the phases separate.
- **Classify the atoms of new frames** by their nearest neighbours in that plane, and follow a
  **melt-quench**: at which temperature does the liquid turn amorphous?
- Look at the atoms in 3D, coloured by class, and pick them on the map.""",
    ),
    ("code", "from mi_widgets.viz import setup_notebook\n\nsetup_notebook()"),
    (
        "md",
        r"""## Background

**LAAF descriptor** (Tamura et al. 2022). For atom $i$ and a Gaussian width $\eta_m$,

$$V_i(\eta_m; R_c) = \sum_{j \ne i} e^{-(r_{ij}/\eta_m)^2} f(r_{ij}; R_c), \qquad
f(r; R_c) = \tfrac12\left[\cos(\pi r/R_c) + 1\right] \ (r < R_c),$$

then averaged over the atom and its neighbours within $R_a$. One row of 100 numbers
($\eta_m$ from 0.05 to 6 Å, $R_c = 6$ Å, $R_a = 5$ Å) per atom.

**LPP** (He & Niyogi 2003) looks for a *linear* map $y = X a$ that keeps neighbours close:
build a $k$-nearest-neighbour graph with heat-kernel weights
$W_{ij} = e^{-\lVert x_i - x_j\rVert^2 / 2\sigma^2}$, then solve

$$X^\top L X\, a = \lambda\, X^\top D X\, a, \qquad L = D - W,\ D_{ii} = \textstyle\sum_j W_{ij},$$

keeping the eigenvectors of the smallest $\lambda$. **TS-LPP** applies LPP twice: first to an
intermediate dimension, then again to 2D. PCA keeps the directions of largest *variance*;
LPP keeps *neighbourhoods*, which is what a classifier by nearest neighbours needs.
Both maps are linear, so atoms of new frames are placed by one matrix product and labelled
by a $k$-nearest-neighbour vote.

Paper: R. Tamura, M. Matsuda, J. Lin, Y. Futamura, T. Sakurai, T. Miyazaki,
*Phys. Rev. B* **105**, 075107 (2022). This lab reproduces the original code
(github.com/rtmr/TS-LPP) to 1e-9 on its own data, and fits 10⁵ atoms in seconds.""",
    ),
    (
        "md",
        r"""## Data

216 Si atoms in a periodic box, Stillinger-Weber potential, Langevin MD (see `data/README.md`):
crystal at 300 K and 1600 K, liquid at 2000 K, and amorphous Si made by cooling the liquid
to 300 K at 5·10¹³ K/s. The frames of that quench, one per 100 K, are the "new" data.""",
    ),
    (
        "code",
        """from mi_widgets.structure import load_si_md

kinds = ["crystal_300K", "crystal_1600K", "liquid_2000K", "amorphous_300K"]
frames = [frame for kind in kinds for frame in load_si_md(kind)]
phases = [frame.info["phase"] for frame in frames]
quench = load_si_md("quench")
n_atoms = sum(map(len, frames))
print(f"{len(frames)} reference frames, {n_atoms} atoms; {len(quench)} quench frames")""",
    ),
    (
        "md",
        """Fit the map: LAAF of every reference atom, TS-LPP and PCA to 2D, a 5-nearest-neighbour
classifier in each plane. The accuracy is measured on held-out atoms (5 folds: the map is fitted
without them, then they are placed on it and classified).""",
    ),
    (
        "code",
        """from mi_widgets.embedding import fit_structure_map

si_map = fit_structure_map(frames, phases)
print("held-out kNN accuracy:", {name: round(acc, 3) for name, acc in si_map.accuracy.items()})""",
    ),
    (
        "md",
        """## Interactive lab

Left map: TS-LPP; middle: PCA of the same atoms; right: the current frame in 3D, every atom
coloured by its TS-LPP class. Faint dots are the reference atoms, outlined dots the atoms of the
current frame. **Lasso or tap atoms on either map** and they light up in 3D. Move the **frame**
slider through the quench; the plot below shows the fraction of each class against temperature
(solid: TS-LPP, dashed: PCA).""",
    ),
    (
        "code",
        """from mi_widgets.embedding.widgets import StructureMapExplorer

app = StructureMapExplorer(si_map, quench, frame=6, title="Si melt-quench on the TS-LPP map")
app""",
    ),
    (
        "md",
        """## What to look for

- In the TS-LPP plane crystal at 300 K and at 1600 K form two compact groups far from the rest,
  and liquid and amorphous atoms two neighbouring groups; in the PCA plane liquid and amorphous
  overlap. Lasso the overlap in the
  PCA map: where do those atoms sit in the TS-LPP map?
- Step through the quench. Around which temperature does the amorphous fraction pass 50 %?
  Compare the solid (TS-LPP) and dashed (PCA) curves.
- Select liquid-like atoms in a cold frame: are they clustered in 3D, or scattered?

The same numbers, from code:""",
    ),
    (
        "code",
        """import numpy as np

result = si_map.classify(quench)
half = result.temperatures[np.argmax(result.fractions[:, 2] > 0.5)]
print(f"amorphous fraction first exceeds 50% at {half:.0f} K")""",
    ),
    (
        "md",
        """**Exercises**

1. The map uses an intermediate dimension of 10, unit weights (`sigma=None`) and 30 graph
   neighbours. Refit with the original's 7 neighbours, `fit_structure_map(frames, phases,
   n_neighbors=7)`: each crystal frame becomes its own island. Why? (Hint: the atoms of one
   crystal frame are each other's nearest neighbours, so the graph falls apart into pieces.)
2. The original chooses sigma and the intermediate dimension by the Calinski-Harabasz index of
   k-means (the cell below, on a small grid). Does its choice give the best held-out accuracy?
3. Replace the reference labels by `labels=None` (k-means clusters): which phases does k-means
   tell apart, and which not?""",
    ),
    (
        "code",
        """from mi_widgets.embedding import select_tslpp_params

features = si_map.laaf.features(frames, si_map.species)
search = select_tslpp_params(
    features, 3, sigmas=[5.0, 20.0, 90.0], n_intermediates=[5, 10], n_neighbors=30
)
print(f"best sigma = {search.sigma}, intermediate dimension = {search.n_intermediate}")""",
    ),
    (
        "md",
        """## Your own data

Use the **Upload trajectory** button in the app: a trajectory file with a periodic cell
(extended XYZ, CIF, POSCAR, XDATCAR, LAMMPS text dump). Choose *classify with the reference
map* (the Si map above: your frames must contain only Si) or *unsupervised clusters* (a new
TS-LPP map of your own atoms, with k-means clusters). From code:""",
    ),
    (
        "code",
        """from mi_widgets.structure.data import read_trajectory

# my_frames = read_trajectory("my_trajectory.extxyz")
# app.load_frames(my_frames)              # classify on the Si reference map
# app.load_frames(my_frames, clusters=3)  # or: unsupervised clusters of your own atoms
# my_map = fit_structure_map(my_frames, my_labels)  # or: your own labelled reference set""",
    ),
    (
        "md",
        """## References

- R. Tamura, M. Matsuda, J. Lin, Y. Futamura, T. Sakurai, T. Miyazaki, "Structural analysis
  based on unsupervised learning: Search for a characteristic low-dimensional space by local
  structures in atomistic simulations", *Phys. Rev. B* **105**, 075107 (2022), arXiv:2107.14311;
  code: github.com/rtmr/TS-LPP (MIT).
- X. He and P. Niyogi, "Locality Preserving Projections", *NIPS* **16** (2003).
- F. H. Stillinger and T. A. Weber, *Phys. Rev. B* **31**, 5262 (1985).
- W. Lechner and C. Dellago, *J. Chem. Phys.* **129**, 114707 (2008) (neighbour averaging).""",
    ),
]


def build() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell(text) if kind == "md" else new_code_cell(text) for kind, text in CELLS
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


if __name__ == "__main__":
    nbformat.write(build(), PATH)
    print(f"wrote {PATH}")
