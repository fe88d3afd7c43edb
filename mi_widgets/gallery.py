"""The table of labs and the gallery page that links to them."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from mi_widgets._resources import notebooks_dir

__all__ = ["LABS", "Lab", "gallery_html"]

NOTEBOOKS = notebooks_dir()


@dataclass(frozen=True)
class Lab:
    """One lab of the suite: its notebook, title, what it covers and where it comes from."""

    notebook: str
    title: str
    summary: str
    lectures: str

    def exists(self, folder: Path = NOTEBOOKS) -> bool:
        """True when the lab's notebook is in ``folder``."""
        return (folder / self.notebook).is_file()


LABS: tuple[Lab, ...] = (
    Lab(
        "01_materials_data_with_ase.ipynb",
        "Materials data with ASE",
        "Read, build, repeat, view and write crystal structures; radial distribution "
        "function; exploratory data analysis.",
        "course wrap-up (ASE, EDA)",
    ),
    Lab(
        "02_em_peak_fitting.ipynb",
        "EM peak fitting",
        "Pick peaks by hand and watch the EM algorithm converge; pseudo-Voigt profiles; "
        "how many peaks?",
        "Ando (spectrum analysis)",
    ),
    Lab(
        "03_spectral_imaging.ipynb",
        "Spectral imaging",
        "Fit 10⁴ to 10⁵ spectra of a map and map the phases; scale out with Dask.",
        "Ando (X-ray spectromicroscopy)",
    ),
    Lab(
        "04_bayesian_optimization.ipynb",
        "Bayesian optimisation",
        "Gaussian-process Bayesian optimisation over a candidate set: step the loop and search "
        "the most stable Cu grain boundary with far fewer calculations than an exhaustive search.",
        "Ando, Tamura (PHYSBO)",
    ),
    Lab(
        "05_hamiltonian_estimation.ipynb",
        "Hamiltonian estimation",
        "Spin-model parameters from magnetisation curves: MAP estimate and Bayesian optimisation.",
        "Tamura",
    ),
    Lab(
        "06_ml_potentials.ipynb",
        "Machine-learning potentials",
        "Symmetry functions, a Behler-Parrinello network trained on energies and forces, "
        "MD of a larger cell with it: g(r), diffusion and VDOS next to the reference.",
        "Ando, course wrap-up",
    ),
    Lab(
        "07_local_structure_classification.ipynb",
        "Local-structure classification",
        "Steinhardt maps, a neural classifier with a reject option, autoencoder + GMM.",
        "ML for molecular physics L07",
    ),
    Lab(
        "08_tslpp_structure_analysis.ipynb",
        "TS-LPP structure analysis",
        "LAAF descriptors, TS-LPP maps, kNN classes, 3D atoms coloured by class through a "
        "melt-quench.",
        "Tamura",
    ),
    Lab(
        "09_phase_diagram_sampling.ipynb",
        "Phase-diagram sampling",
        "Uncertainty sampling (PDC): step the loop, Macro-F1 against samples, batches, "
        "ternary sections.",
        "Tamura",
    ),
    Lab(
        "10_property_prediction_importance.ipynb",
        "Property prediction",
        "Composition features, models, and permutation feature importance.",
        "course wrap-up, L07",
    ),
    Lab(
        "11_model_choice_and_hyperparameters.ipynb",
        "Model choice and hyperparameters",
        "Grid vs random search, learning curves, network depth after ElemNet.",
        "Liu (ElemNet, data, models)",
    ),
)

_CARD = (
    "border:1px solid #d9d9d9;border-radius:8px;padding:14px 16px;background:#fff;"
    "border-top:6px solid {color};min-height:150px;display:flex;flex-direction:column;"
)
_GRID = (
    "display:grid;grid-template-columns:repeat(auto-fill,minmax(290px,1fr));gap:16px;"
    "font-family:Helvetica,Arial,sans-serif;"
)
_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")


def _card(lab: Lab, available: bool, color: str) -> str:
    number = lab.notebook[:2]
    title = html.escape(lab.title)
    if available:
        link = (
            f'<a href="{html.escape(lab.notebook)}" class="mi-lab-link" '
            f'style="font-weight:600;color:#0072B2;text-decoration:none;">Open the lab &rarr;</a>'
        )
        style = _CARD.format(color=color)
    else:
        link = (
            '<span class="mi-lab-coming" style="color:#777;font-style:italic;">Coming soon</span>'
        )
        style = _CARD.format(color="#bbbbbb") + "opacity:0.75;"
    return (
        f'<div class="mi-lab-card" style="{style}">'
        f'<div style="font-size:13px;color:#666;">Lab {number}</div>'
        f'<div style="font-size:19px;font-weight:700;margin:2px 0 8px 0;">{title}</div>'
        f'<div style="font-size:14px;line-height:1.45;flex:1;">{html.escape(lab.summary)}</div>'
        f'<div style="font-size:12px;color:#666;margin:8px 0;">'
        f"After: {html.escape(lab.lectures)}</div>"
        f"<div>{link}</div></div>"
    )


def gallery_html(folder: Path = NOTEBOOKS) -> str:
    """HTML for the gallery: a card per lab, linked when its notebook exists.

    Parameters
    ----------
    folder : pathlib.Path
        The notebooks folder; links are relative to it, so they work in Voila and JupyterLab.

    Examples
    --------
    >>> "Materials data with ASE" in gallery_html()
    True
    """
    cards = [
        _card(lab, lab.exists(folder), _COLORS[k % len(_COLORS)]) for k, lab in enumerate(LABS)
    ]
    return f'<div class="mi-gallery" style="{_GRID}">{"".join(cards)}</div>'
