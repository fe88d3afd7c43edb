"""Write notebooks/02_em_peak_fitting.ipynb and notebooks/03_spectral_imaging.ipynb (no outputs)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

SETUP = "from mi_widgets.viz import setup_notebook\n\nsetup_notebook()"

NB02 = [
    new_markdown_cell(
        "# Lab 02 · Peak fitting with the EM algorithm\n\n"
        "## Goals\n\n"
        "- Read a spectrum as a **histogram** and fit its peaks as a **mixture model** with the "
        "EM algorithm, intensities acting as weights.\n"
        "- Pick starting peaks by hand, choose the profile (Gaussian, Lorentzian, pseudo-Voigt) "
        "and a background fitted *inside* the model (linear, exponential, Shirley).\n"
        "- Watch EM converge iteration by iteration, and compare with least squares from the "
        "same start.\n"
        "- Choose the number of peaks with the Bayesian information criterion (BIC)."
    ),
    new_code_cell(SETUP),
    new_markdown_cell(
        "## Background\n\n"
        "Channel $i$ at energy $x_i$ holds intensity $y_i$. Read as a histogram, the spectrum is "
        "a sample from a mixture density $p(x) = \\sum_k \\pi_k f_k(x)$ of peak shapes $f_k$ and "
        "background shapes. EM alternates (Dempster, Laird & Rubin 1977; Ando's EMPeaks):\n\n"
        "- **E step** — share of channel $i$ owned by component $k$: "
        "$g_{ik} = \\pi_k f_k(x_i) / \\sum_j \\pi_j f_j(x_i)$\n"
        "- **M step** — with weights $y_i$: $N_k = \\sum_i y_i g_{ik}$, "
        "$\\mu_k = \\sum_i y_i g_{ik} x_i / N_k$, "
        "$\\sigma_k^2 = \\sum_i y_i g_{ik} (x_i-\\mu_k)^2 / N_k$, $\\pi_k = N_k / \\sum_i y_i$.\n\n"
        "An iteration costs $O(K \\times \\text{channels})$ whatever the total counts, and the "
        "log-likelihood $\\sum_i y_i \\log p(x_i)$ never decreases. A pseudo-Voigt "
        "$(1-\\eta)\\,G + \\eta\\,L$ ($\\eta$ = Lorentzian fraction, lmfit's `fraction`) "
        "is fitted by "
        "an ECM step: its Lorentzian part is a Student-t with one degree of freedom. Backgrounds "
        "are extra components of fixed shape. Several random starts run, the best log-likelihood "
        "wins, and a least-squares polish gives standard errors. The peak count minimises "
        "$\\mathrm{BIC} = -2\\log L + p \\log n$."
    ),
    new_markdown_cell(
        "## Data\n\n"
        "A carbon 1s X-ray photoelectron spectrum of an oxidised polymer surface: C-C at "
        "284.8 eV, C-O at 286.3 eV, O-C=O at 288.9 eV on a Shirley background, with counting "
        "noise (`data/xps_c1s.csv`, made by `scripts/make_spectra_data.py`). For the EM player, "
        "a synthetic spectrum with three overlapping peaks whose true positions are known."
    ),
    new_code_cell(
        "from mi_widgets.spectra import load_example_spectrum, make_spectrum\n\n"
        "x, y = load_example_spectrum()\n"
        "x3, y3, truth = make_spectrum(3, random_state=7)\n"
        "print(f'{x.size} channels, {y.sum():.0f} counts')\n"
        "print('true centres of the synthetic peaks:', truth.center.round(2))"
    ),
    new_markdown_cell(
        "## Interactive lab\n\n"
        "**Top — pick peaks:** click the spectrum to place a starting centre (click a marker to "
        "remove it), choose shape and background, press **Fit**. With no markers, Fit uses "
        "automatic starts.\n\n"
        "**Bottom — watch EM:** **Step**, **Play** or drag the slider through the iterations: "
        "the components, the total model, the residual and the log-likelihood. The dashed line is "
        "plain least squares from the *same* start. **New random start** tries another one."
    ),
    new_code_cell(
        "from ipywidgets import VBox\n\n"
        "from mi_widgets.spectra.widgets import EMPlayer, PeakPicker\n\n"
        "picker = PeakPicker(x, y, background='shirley', x_label='binding energy (eV)')\n"
        "player = EMPlayer(x3, y3, 3, random_state=23)  # a start where EM recovers\n"
        "VBox([picker, player])"
    ),
    new_markdown_cell(
        "## What to look for\n\n"
        "1. Place three markers on the C 1s spectrum and fit with a Shirley background. Then "
        "switch to a linear background: what happens to the areas of the C-O and O-C=O peaks?\n"
        "2. Place only two markers, then four. Compare the BIC shown under the table.\n"
        "3. In the player, press **New random start** a few times. Sometimes EM recovers where "
        "least squares from the same start fails, sometimes both fail, sometimes only EM does: "
        "that is why `fit_peaks` runs several EM starts (cheap: each iteration costs "
        "O(K x channels)) and keeps the best log-likelihood. Does the log-likelihood trace ever "
        "go down?\n"
        "4. Why does an EM iteration cost the same for $10^3$ and $10^7$ counts?\n\n"
        "The peak count by BIC, from automatic starts:"
    ),
    new_code_cell(
        "from mi_widgets.spectra import fit_peaks\n\n"
        "auto = fit_peaks(x, y, 'auto', background='shirley', max_peaks=5, random_state=0)\n"
        "bic = {n: round(b, 1) for n, b in auto.bic_by_n_peaks.items()}\n"
        "print('BIC by number of peaks:', bic)\n"
        "print('chosen:', auto.n_peaks, 'peaks at', auto.peaks.center.round(2), 'eV')"
    ),
    new_markdown_cell(
        "## Your own data\n\n"
        "Use **Upload spectrum** in the app (two columns, x then intensity; commas, semicolons, "
        "tabs or spaces; a header line is fine; a decreasing binding-energy axis is reversed). "
        "Or in code:\n\n"
        "```python\n"
        "from mi_widgets.spectra import fit_peaks, load_spectrum\n"
        "x, y = load_spectrum('my_spectrum.csv')\n"
        "picker.set_spectrum(x, y)            # into the app\n"
        "fit = fit_peaks(x, y, 'auto', background='shirley')\n"
        "fit.peaks.rows()                       # centre, FWHM, area, height, eta with errors\n"
        "```"
    ),
    new_markdown_cell(
        "## References\n\n"
        "- Y. Ando, lectures on spectrum analysis; EMPeaks, https://github.com/yasunobu-ando/EMPeaks\n"
        "- T. Matsumura, N. Nagamura, S. Akaho, K. Nagata, Y. Ando, *Spectrum adapted "
        "expectation-maximization algorithm for high-throughput peak shift analysis*, "
        "Sci. Technol. Adv. Mater. 20, 733 (2019).\n"
        "- A. P. Dempster, N. M. Laird, D. B. Rubin, *Maximum likelihood from incomplete data via "
        "the EM algorithm*, J. R. Stat. Soc. B 39, 1 (1977).\n"
        "- D. A. Shirley, Phys. Rev. B 5, 4709 (1972) (background).\n"
        "- G. Beamson, D. Briggs, *High Resolution XPS of Organic Polymers* (Wiley, 1992)."
    ),
]

NB03 = [
    new_markdown_cell(
        "# Lab 03 · Spectral imaging: fit every pixel of a map\n\n"
        "## Goals\n\n"
        "- Fit thousands of spectra of a spectromicroscopy map with one peak model, without "
        "a hand-made starting guess per spectrum.\n"
        "- Map any fitted parameter (peak position = chemical shift, area = amount) and click a "
        "pixel to check its fit.\n"
        "- Cluster the pixels by their fitted peaks into phases (character mapping).\n"
        "- Scale the same code out with Dask."
    ),
    new_code_cell(SETUP),
    new_markdown_cell(
        "## Background\n\n"
        "Spectromicroscopy and simulations give $10^4$-$10^6$ spectra. Least squares needs a "
        "good start for each; EM does not (Lab 02). `fit_many` fits the mean spectrum with "
        "multi-start EM, then runs EM for every spectrum from that solution — vectorised, arrays "
        "of shape (spectra, peaks, channels), so a block of spectra costs one pass over "
        "memory — and finishes with a batched Levenberg-Marquardt least-squares step. Chunks of "
        "spectra are independent tasks: with a `dask.distributed.Client` they run on a cluster.\n\n"
        "Phases: each pixel becomes a feature vector (peak centres and area fractions); k-means "
        "on the standardised features labels the phases."
    ),
    new_markdown_cell(
        "## Data\n\n"
        "A synthetic O 1s-like map of a three-phase sample, generated on the fly with a fixed "
        "seed: two pseudo-Voigt peaks per pixel whose positions differ by phase (a chemical "
        "shift), an area ratio per phase, a strain gradient that shifts all peaks by up to "
        "0.3 eV across the map, a thickness that changes the counts by ±30 %, a linear "
        "background and Poisson noise."
    ),
    new_code_cell(
        "from mi_widgets.spectra import make_spectral_image\n\n"
        "image = make_spectral_image(40, 40, random_state=0)\n"
        "print('map', image.spectra.shape[:2], 'with', image.spectra.shape[2], 'channels')"
    ),
    new_markdown_cell(
        "## Interactive lab\n\n"
        "The map shows a fitted parameter (menu **Map of**). Click a pixel: its spectrum, fit and "
        "peaks appear on the right. **Cluster into phases** colours the map by phase."
    ),
    new_code_cell(
        "from mi_widgets.spectra.widgets import SpectralMapExplorer\n\n"
        "explorer = SpectralMapExplorer(image.x, image.spectra, n_peaks=2)\n"
        "explorer"
    ),
    new_markdown_cell(
        "## What to look for\n\n"
        "1. Map *center of peak 1*: where do you see the chemical shift between phases, and "
        "where the smooth strain gradient?\n"
        "2. Map *area of peak 1*: why does it follow the thickness more than the phases? Which "
        "quantity separates the phases better?\n"
        "3. Cluster with 2, 3 and 4 phases. How well does the phase map match the truth below?\n"
        "4. Time `fit_many` for maps of 20 x 20, 40 x 40 and 80 x 80 pixels: does the time "
        "grow linearly with the number of spectra?"
    ),
    new_code_cell(
        "import numpy as np\n\n"
        "from mi_widgets.spectra import cluster_phases\n\n"
        "phases = cluster_phases(explorer.result, 3).reshape(image.phase.shape)\n"
        "print(f'pixels whose phase matches the truth: {np.mean(phases == image.phase):.1%}')"
    ),
    new_markdown_cell(
        "Many spectra in code, with a progress bar (`progress=True`) and, optionally, a Dask "
        "cluster:\n\n"
        "```python\n"
        "from dask.distributed import Client\n"
        "client = Client()                      # or the address of a cluster\n"
        "batch = fit_many(x, spectra, 2, client=client, progress=True)\n"
        "```"
    ),
    new_code_cell(
        "from mi_widgets.spectra import fit_many\n\n"
        "spectra = image.spectra.reshape(-1, image.x.size)[:400]\n"
        "batch = fit_many(image.x, spectra, 2, progress=True, random_state=0)\n"
        "print('centres of peak 1, first five pixels:', batch.center[:5, 0].round(3))"
    ),
    new_markdown_cell(
        "## Your own data\n\n"
        "Use **Upload stack** in the app: an `.npz` with arrays `x` (channels) and `spectra` "
        "(ny, nx, channels) or (n, channels), or a CSV whose first column is x and each further "
        "column one spectrum. Or in code:\n\n"
        "```python\n"
        "from mi_widgets.spectra import fit_many, load_spectra\n"
        "x, spectra = load_spectra('my_map.npz')\n"
        "explorer.set_spectra(x, spectra)\n"
        "```"
    ),
    new_markdown_cell(
        "## References\n\n"
        "- Y. Ando, lectures on X-ray spectromicroscopy and spectrum analysis; EMPeaks, "
        "https://github.com/yasunobu-ando/EMPeaks\n"
        "- T. Matsumura et al., Sci. Technol. Adv. Mater. 20, 733 (2019).\n"
        "- Dask: https://docs.dask.org/ (distributed scheduler)."
    ),
]


def write(name: str, cells: list) -> None:
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    nbformat.write(notebook, ROOT / "notebooks" / name)


if __name__ == "__main__":
    write("02_em_peak_fitting.ipynb", NB02)
    write("03_spectral_imaging.ipynb", NB03)
    # the code cells follow the project's style (ruff format), as hand-written ones would
    names = ["02_em_peak_fitting.ipynb", "03_spectral_imaging.ipynb"]
    subprocess.run(["ruff", "format", *(str(ROOT / "notebooks" / n) for n in names)], check=False)
