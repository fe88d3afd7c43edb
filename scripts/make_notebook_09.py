"""Write notebooks/09_phase_diagram_sampling.ipynb (outputs stripped)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

CELLS = [
    (
        "md",
        """# Phase diagrams from few experiments: uncertainty sampling (PDC)

## Goals
- See how label propagation turns a handful of measured points into a whole phase diagram.
- Step the uncertainty-sampling loop and watch it measure near phase boundaries.
- Compare with random sampling on the Macro-F1 vs samples curve.
- Use batches for parallel experiments, coexisting phases (`A+B`) and your own data.""",
    ),
    (
        "code",
        """from mi_widgets.viz import setup_notebook

setup_notebook()""",
    ),
    (
        "md",
        r"""## Background

PDC (Terayama, Tamura *et al.*, Phys. Rev. Materials **3**, 033802 (2019)) builds a phase
diagram over a fixed grid of candidate conditions $x_i$ (composition, temperature).

1. **Estimate** every candidate's phase probabilities from the measured ones on a graph with
   weights $W_{ij}$ (an RBF $e^{-\gamma|z_i-z_j|^2}$ in the original; here by default a sparse
   $k$-nearest-neighbour graph, which scales to $10^5$ candidates):
   label propagation iterates $F \leftarrow D^{-1} W F$ and clamps the measured rows;
   label spreading iterates $F \leftarrow \alpha D^{-1/2} W D^{-1/2} F + (1-\alpha) Y$.
2. **Score** the uncertainty of each unmeasured candidate from its probabilities $p$:
   least confident $1-\max_k p_k$, margin $1-(p_{(1)}-p_{(2)})$, entropy $-\sum_k p_k \ln p_k$.
3. **Measure** the most uncertain candidate (or a batch: the top $n$, or the top $n$ with
   neighbours excluded, Tamura *et al.* 2022), and repeat.

Accuracy is the Macro-F1 of the estimated diagram against the truth (the mean over phases
of $F_1 = 2\,\mathrm{precision}\cdot\mathrm{recall}/(\mathrm{precision}+\mathrm{recall})$), so
small phases count as much as big ones. In the paper, uncertainty sampling needed about
20 % of the samples of random sampling.

**Coexisting phases.** A point in a two-phase region is labelled `A+B`. Here each single
phase gets its own presence probability $p_j$, so an `A+B` point teaches both the `A` and
the `B` regions (after Terayama *et al.*, Scripta Mater. **208**, 114335 (2022)); an
assemblage $a$ has probability $\propto\prod_{j\in a} p_j \prod_{j\notin a}(1-p_j)$.""",
    ),
    (
        "md",
        """## Data

The built-in diagrams are **computed, not drawn**: equilibrium phases from the lower convex
hull of model Gibbs energies (regular-solution liquid and solid solutions, intermediate
compounds) at each temperature (`scripts/make_phase_diagrams.py`). A facet of the hull that
spans two (three) phases is a two- (three-) phase region.""",
    ),
    (
        "code",
        """import numpy as np

from mi_widgets.active.io import load_phase_diagram

diagram = load_phase_diagram("peritectic")
print(diagram.description)
labels, counts = np.unique(diagram.labels, return_counts=True)
print(dict(zip(labels.tolist(), counts.tolist(), strict=True)))""",
    ),
    (
        "md",
        """## Interactive lab

**Step** measures the highlighted proposal(s) (ringed) in a simulated experiment and
re-estimates the diagram; **Run N** does N steps. Colours are the estimated phases, opacity
the confidence; switch to the uncertainty map, or reveal the truth. The right plot compares
Macro-F1 with random sampling from the same starting points.""",
    ),
    (
        "code",
        """from mi_widgets.active.widgets import PhaseDiagramLab

lab = PhaseDiagramLab("eutectic", n_initial=5, seed=0)
lab.widget""",
    ),
    (
        "md",
        """## What to look for / exercises

1. Step 20 times. Where are the new points? Switch to *Uncertainty*: which regions are
   uncertain, and why are points far from any measurement uncertain too?
2. *Run N* to 150 samples. How many samples does uncertainty sampling need to reach a
   Macro-F1 of 0.9? And random sampling?
3. On `peritectic`, does the sampler find the small phase `delta`? Try the *margin* and
   *entropy* scores and label spreading.
4. Set *Batch size* 5 with *ranked* and then *neighbour exclusion*: why do ranked batches
   cluster, and what does that cost per experiment?
5. On `ternary`, count the one-, two- and three-phase regions after 100 samples. Which
   labels are the hardest?""",
    ),
    (
        "md",
        """## Your own data

Upload a CSV in the lab's *Your own experiments* card: a header line, then one row per
candidate condition, **phase first** (empty = not measured yet; `A+B` for coexisting phases),
then the coordinates, e.g.

```
phase,x_B,T_K
L,0.10,1200
,0.10,1150
alpha+beta,0.30,800
```

The lab proposes the next conditions to measure; download them, measure, fill the phases
into your CSV and upload it again. The same in code:""",
    ),
    (
        "code",
        """from mi_widgets.active import PhaseDiagramSampler

sampler = PhaseDiagramSampler(
    diagram.coordinates, estimator="label_propagation", score="least_confident"
)
measured = [0, 100, 2575, 5050, 5150]
sampler.tell(measured, diagram.labels[measured])
sampler.suggest(3, batch="neighbour_exclusion", k=2)""",
    ),
    (
        "md",
        """## References

- K. Terayama, R. Tamura, Y. Nose, H. Hiramatsu, H. Hosono, Y. Okuno, K. Tsuda,
  *Efficient construction method for phase diagrams using uncertainty sampling*,
  Phys. Rev. Materials **3**, 033802 (2019); code: tsudalab/PDC.
- K. Terayama *et al.*, *Acceleration of phase diagram construction by machine learning
  incorporating Gibbs' phase rule*, Scripta Materialia **208**, 114335 (2022).
- R. Tamura *et al.*, *Batch-type uncertainty sampling for phase diagram construction*
  (DPP-PDC), Sci. Technol. Adv. Mater.: Methods **2**, 153 (2022).
- X. Zhu, Z. Ghahramani, *Learning from labeled and unlabeled data with label propagation*
  (2002); D. Zhou *et al.*, *Learning with local and global consistency*, NIPS (2004).""",
    ),
]


def main() -> Path:
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in CELLS
    ]
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    path = ROOT / "notebooks" / "09_phase_diagram_sampling.ipynb"
    nbformat.write(nb, path)
    return path


if __name__ == "__main__":
    print(main())
