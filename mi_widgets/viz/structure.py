"""3D structures with nglview, coloured by class, by a continuous value or by element."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import nglview
import numpy as np
from ase import Atoms

from mi_widgets._errors import MIInputError
from mi_widgets.viz.palette import class_color

__all__ = ["refit_view", "structure_view", "update_structure"]

#: Seconds to wait after the front end reports "loaded" before re-fitting (nglview #950).
REFIT_DELAY_S = 1.0
#: Continuous values are rescaled to this B-factor range before they reach the PDB text.
_BFACTOR_RANGE = (0.0, 99.0)


def _check_per_atom(values: Sequence | np.ndarray | None, n_atoms: int, name: str):
    if values is None:
        return None
    array = np.asarray(values)
    if array.shape != (n_atoms,):
        raise MIInputError(f"{name} needs one value per atom ({n_atoms}); got shape {array.shape}.")
    return array


def _scaled_bfactor(values: np.ndarray) -> np.ndarray:
    """Map values linearly onto the B-factor column's printable range."""
    values = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(values)):
        raise MIInputError("values contain NaN or infinity; colour needs finite numbers.")
    low, high = float(values.min()), float(values.max())
    span = high - low if high > low else 1.0
    return _BFACTOR_RANGE[0] + (values - low) / span * (_BFACTOR_RANGE[1] - _BFACTOR_RANGE[0])


def _structure_for_view(atoms: Atoms, values: np.ndarray | None) -> nglview.ASEStructure:
    shown = atoms.copy()
    shown.calc = None
    for key in list(shown.arrays):
        if key not in ("numbers", "positions"):
            del shown.arrays[key]
    if values is not None:
        shown.set_array("bfactor", _scaled_bfactor(values))
    return nglview.ASEStructure(shown)


def _selection(indices: np.ndarray) -> str:
    return "@" + ",".join(str(int(i)) for i in indices)


def _add_representations(view, n_atoms, labels, values, highlight, radius) -> None:
    """Draw the atoms: per class, by value, or by element; highlighted atoms larger."""
    if highlight is not None and len(highlight):
        mask = np.zeros(n_atoms, dtype=bool)
        mask[np.asarray(highlight, dtype=int)] = True
        groups = [
            (np.flatnonzero(mask), radius * 1.25, 1.0),
            (np.flatnonzero(~mask), radius * 0.6, 0.25),
        ]
    else:
        groups = [(np.arange(n_atoms), radius, 1.0)]
    for members, scale, opacity in groups:
        if members.size == 0:
            continue
        if labels is not None:
            for label in np.unique(labels[members]):
                chosen = members[labels[members] == label]
                view.add_spacefill(
                    selection=_selection(chosen),
                    color=class_color(int(label)),
                    radius_scale=scale,
                    opacity=opacity,
                )
        else:
            scheme = "bfactor" if values is not None else "element"
            view.add_spacefill(
                selection=_selection(members),
                color_scheme=scheme,
                color_scale="rwb",
                radius_scale=scale,
                opacity=opacity,
            )
    view.add_unitcell()


def _refit_once_loaded(view) -> None:
    """Re-fit the camera shortly after the front end has loaded (Voila draws it tiny otherwise)."""

    def on_loaded(change):
        if change["new"]:
            timer = threading.Timer(REFIT_DELAY_S, refit_view, args=(view,))
            timer.daemon = True
            timer.start()

    view.observe(on_loaded, "loaded")


def refit_view(view) -> None:
    """Re-fit a view to its widget size and centre it (call when a hidden tab is shown)."""
    view.handle_resize()
    _auto_view(view)


def _auto_view(view) -> None:
    """Fit the camera to every component the page has.

    ``view.center()`` asks NGL for component 0, which fails in the page ("reading
    'autoView'") while the structure is still loading there (a busy machine, a re-load);
    the stage's own ``autoView`` works whatever has loaded.
    """
    view._remote_call("autoView", target="Stage", args=[0])


def _check_labels(labels, n_atoms):
    labels = _check_per_atom(labels, n_atoms, "labels")
    if labels is not None and (labels.dtype.kind not in "iu" or (labels < 0).any()):
        raise MIInputError("labels must be non-negative integer class indices, one per atom.")
    return labels


def structure_view(
    atoms: Atoms,
    labels: Sequence[int] | np.ndarray | None = None,
    values: Sequence[float] | np.ndarray | None = None,
    *,
    highlight: Sequence[int] | np.ndarray | None = None,
    width: str = "460px",
    height: str = "420px",
    radius_scale: float = 0.5,
) -> nglview.NGLWidget:
    """Show atoms in 3D, coloured per class, by a continuous value, or by element.

    Parameters
    ----------
    atoms : ase.Atoms
        The structure; its cell is drawn when it has one.
    labels : array of int, optional
        A class index per atom; class ``k`` gets :func:`~mi_widgets.viz.class_color` ``(k)``,
        the same colour as in 2D plots.
    values : array of float, optional
        A continuous value per atom, drawn blue-white-red (ignored when ``labels`` is given).
    highlight : array of int, optional
        Indices of atoms to emphasise; the others are drawn small and translucent.
    width, height : str
        CSS size of the view.
    radius_scale : float
        Atom radius relative to the van der Waals radius.

    Returns
    -------
    nglview.NGLWidget
        The view; it re-fits its camera once the browser has loaded it.

    Examples
    --------
    >>> from ase.build import bulk
    >>> view = structure_view(bulk("Cu", cubic=True), labels=[0, 0, 1, 1])
    >>> view.layout.width
    '460px'
    """
    n_atoms = len(atoms)
    labels = _check_labels(labels, n_atoms)
    values = _check_per_atom(values, n_atoms, "values") if labels is None else None
    view = nglview.NGLWidget()
    view._mi_radius = radius_scale
    view.add_component(_structure_for_view(atoms, values), default_representation=False)
    _add_representations(view, n_atoms, labels, values, highlight, radius_scale)
    view.layout.width, view.layout.height = width, height
    view.add_class("mi-structure-view")
    view._mi_state = {"atoms": atoms, "labels": labels, "values": values, "highlight": highlight}
    _refit_once_loaded(view)
    return view


def update_structure(
    view: nglview.NGLWidget,
    atoms: Atoms | None = None,
    labels: Sequence[int] | np.ndarray | None = None,
    values: Sequence[float] | np.ndarray | None = None,
    highlight: Sequence[int] | np.ndarray | None = None,
) -> None:
    """Re-colour a view from :func:`structure_view`, or show other atoms in it.

    Parameters
    ----------
    view : nglview.NGLWidget
        A view made by :func:`structure_view`.
    atoms : ase.Atoms, optional
        New atoms; ``None`` keeps the current ones.
    labels, values, highlight
        As in :func:`structure_view`; they replace the current colouring.

    Examples
    --------
    >>> from ase.build import bulk
    >>> view = structure_view(bulk("Cu", cubic=True))
    >>> update_structure(view, labels=[1, 1, 0, 0], highlight=[0])
    """
    state = view._mi_state
    new_atoms = atoms if atoms is not None else state["atoms"]
    n_atoms = len(new_atoms)
    labels = _check_labels(labels, n_atoms)
    values = _check_per_atom(values, n_atoms, "values") if labels is None else None
    reload = atoms is not None or values is not None or state["values"] is not None
    if reload:
        for component_id in list(view._ngl_component_ids):
            view.remove_component(component_id)
        view.add_component(_structure_for_view(new_atoms, values), default_representation=False)
    else:
        view.clear_representations()
    _add_representations(view, n_atoms, labels, values, highlight, view._mi_radius)
    view._mi_state = {
        "atoms": new_atoms,
        "labels": labels,
        "values": values,
        "highlight": highlight,
    }
    if reload and view.loaded:
        # before the front end has loaded, the re-fit on load does this (centring earlier
        # makes NGL's autoView fail in the page)
        _auto_view(view)
