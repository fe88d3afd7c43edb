"""Every in-app upload path under fuzzing: the banner, the kept state, escaped names.

Each :class:`UploadPath` builds one lab app (small data, so it builds in seconds) and
names its upload button and the seed file (from :mod:`fuzz_corpus`) that a user would
upload there. :func:`upload_verdict` uploads hostile bytes under a hostile file name,
as a browser would (the widget's ``value``), and judges what the app did:

* ``loaded``: no banner, the app took the file;
* ``clear``: the banner shows one clear sentence and the state is unchanged;
* ``unclear``: the banner's sentence is not clear (see :func:`fuzz_corpus.unclear_reason`),
  or user text reached an HTML widget unescaped;
* ``crash``: the banner shows the generic "Something went wrong" (an unexpected exception);
* ``wrong``: the banner shows a message but the app's state changed (the previous result
  was lost).

Shared by ``tests/test_fuzz_loaders.py`` and ``benchmarks/bench_hardening.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets
from fuzz_corpus import SEEDS, unclear_reason
from widget_helpers import upload

#: The file name every hostile upload carries: HTML that would run if shown unescaped.
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
_GENERIC = "Something went wrong"


@dataclass(frozen=True)
class UploadPath:
    """One upload button of one lab app."""

    name: str
    seed: str
    suffix: str
    make: Callable[[], object]
    button: Callable[[object], widgets.FileUpload]
    #: Uploads that must precede this one (e.g. a table before its results).
    prepare: Callable[[object], None] | None = None


def _html_values(widget: widgets.Widget) -> list[str]:
    """The values of every HTML widget inside ``widget``."""
    found: list[str] = []
    stack = [widget]
    while stack:
        current = stack.pop()
        if isinstance(current, (widgets.HTML, widgets.HTMLMath)):
            found.append(str(current.value))
        stack.extend(getattr(current, "children", ()) or ())
    return found


def _state(app: object) -> dict[str, object]:
    """What an upload may replace: every attribute of the app that is not a widget."""
    return {
        key: value
        for key, value in vars(app).items()
        if not isinstance(value, widgets.Widget) and not key.startswith("_syncing")
    }


def _changed(before: dict[str, object], after: dict[str, object]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) is not after.get(k))


def upload_verdict(path: UploadPath, app: object, content: bytes) -> tuple[str, str]:
    """Upload ``content`` into ``app`` through ``path``: the outcome and why."""
    before = _state(app)
    upload(path.button(app), HOSTILE_NAME + path.suffix, content)
    message = app.banner.message
    raw = [v for v in _html_values(app.widget) if "<img src=x" in v]
    if raw:
        return "unclear", f"unescaped file name in HTML: {raw[0][:120]}"
    if not message:
        return "loaded", ""
    if message.startswith(_GENERIC):
        return "crash", message
    reason = unclear_reason(message)
    if reason:
        return "unclear", f"{reason}: {message}"
    changed = _changed(before, _state(app))
    if changed:
        return "wrong", f"state changed ({', '.join(changed)}) after: {message}"
    return "clear", message


def still_usable(path: UploadPath, app: object) -> str | None:
    """Upload the valid seed file again: None if the app takes it, else the banner text."""
    if path.prepare is not None:
        path.prepare(app)
    upload(path.button(app), "seed" + path.suffix, SEEDS[path.seed])
    return app.banner.message or None


# ------------------------------------------------------------------------ the apps
def _structure_explorer():
    from mi_widgets.structure.widgets import StructureExplorer

    return StructureExplorer("Si (diamond)", repeat=(1, 1, 1))


def _peak_picker():
    from mi_widgets.spectra.io import load_example_spectrum
    from mi_widgets.spectra.widgets import PeakPicker

    return PeakPicker(*load_example_spectrum())


def _map_explorer():
    from mi_widgets.spectra.generate import make_spectral_image
    from mi_widgets.spectra.widgets import SpectralMapExplorer

    image = make_spectral_image(4, 4, random_state=0)
    return SpectralMapExplorer(image.x, image.spectra, n_peaks=2)


def _bo_lab():
    from mi_widgets.bayesopt.widgets import BOLab

    return BOLab(random_state=0)


def _bo_table_first(app) -> None:
    upload(app.table_upload, "table.csv", SEEDS["bo_table"])


def _hamiltonian_lab():
    from mi_widgets.spin.widgets import HamiltonianLab

    return HamiltonianLab(random_state=0)


def _potential_lab():
    from mi_widgets.potentials.widgets import PotentialLab

    return PotentialLab(random_state=0)


def _local_structure_lab():
    from mi_widgets.local_structure.widgets import LocalStructureLab

    return LocalStructureLab(random_state=0)


def _structure_map_explorer():
    from ase.build import bulk

    from mi_widgets.embedding import fit_structure_map
    from mi_widgets.embedding.widgets import StructureMapExplorer

    crystal = bulk("Si", "diamond", a=5.431, cubic=True) * (2, 2, 2)
    hot = crystal.copy()
    hot.rattle(0.3, seed=1)
    model = fit_structure_map([crystal, hot], ["crystal", "hot"], cross_validate=False)
    return StructureMapExplorer(model, [crystal, hot])


def _phase_lab():
    from mi_widgets.active.widgets import PhaseDiagramLab

    return PhaseDiagramLab("eutectic", n_initial=5, random_state=0)


def _importance_explorer():
    from sklearn.model_selection import train_test_split

    from mi_widgets.learn import load_alloy_features, make_regressor
    from mi_widgets.learn.widgets import PermutationImportanceExplorer

    data = load_alloy_features(n_samples=120, random_state=1)
    X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, random_state=0)
    model = make_regressor("random_forest", n_estimators=10).fit(X_train, y_train)
    return PermutationImportanceExplorer(model, X_test, y_test, data.names, n_repeats=2)


UPLOAD_PATHS: dict[str, UploadPath] = {
    path.name: path
    for path in (
        UploadPath("lab01 structure", "cif", ".cif", _structure_explorer, lambda a: a._upload),
        UploadPath("lab01 structure (xyz)", "extxyz", ".xyz", _structure_explorer,
                   lambda a: a._upload),
        UploadPath("lab02 spectrum", "spectrum", ".csv", _peak_picker, lambda a: a.upload),
        UploadPath("lab03 map (.npz)", "spectra_npz", ".npz", _map_explorer, lambda a: a.upload),
        UploadPath("lab03 map (.csv)", "spectra_csv", ".csv", _map_explorer, lambda a: a.upload),
        UploadPath("lab04 candidate table", "bo_table", ".csv", _bo_lab,
                   lambda a: a.table_upload),
        UploadPath("lab04 results", "bo_own_results", ".csv", _bo_lab,
                   lambda a: a.results_upload, _bo_table_first),
        UploadPath("lab05 curves", "magnetization", ".csv", _hamiltonian_lab,
                   lambda a: a.upload_curves),
        UploadPath("lab05 bonds", "bonds", ".csv", _hamiltonian_lab, lambda a: a.upload_bonds),
        UploadPath("lab06 training frames", "training_frames", ".extxyz", _potential_lab,
                   lambda a: a.upload),
        UploadPath("lab07 structure", "extxyz", ".extxyz", _local_structure_lab,
                   lambda a: a.upload),
        UploadPath("lab08 trajectory", "extxyz", ".extxyz", _structure_map_explorer,
                   lambda a: a._upload),
        UploadPath("lab09 candidates", "phase_csv", ".csv", _phase_lab, lambda a: a.upload),
        UploadPath("lab10 table", "table", ".csv", _importance_explorer, lambda a: a.upload),
    )
}  # fmt: skip


def ready_app(path: UploadPath) -> object:
    """A fresh app for ``path``, with its prerequisite uploads done."""
    app = path.make()
    if path.prepare is not None:
        path.prepare(app)
    return app
