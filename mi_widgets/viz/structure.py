"""3D structures with nglview, coloured by class, by a continuous value or by element."""

from __future__ import annotations

from collections.abc import Sequence

import nglview
import numpy as np
from ase import Atoms

from mi_widgets._errors import MIInputError
from mi_widgets.viz.palette import class_color

__all__ = ["refit_view", "structure_view", "update_structure"]

#: JavaScript run in the browser's view of an NGL widget (``this`` is the view): fit the
#: camera to the atoms whenever the view becomes visible, changes size, or gets a new
#: structure, and only when its stage and a structure exist. Fitting from Python with a
#: timer (nglview #950) raced the page under CPU load: "Cannot read properties of
#: undefined (reading 'autoView')" and atoms drawn tiny in a corner.
FIT_ON_SHOW_JS = """
const view = this;
const install = function (tries) {
  if (view._miFit) { return; }
  if (!view.stage || !view.stage.viewer) {
    if (tries < 200) { setTimeout(function () { install(tries + 1); }, 100); }
    return;
  }
  let pending = false;
  view._miFit = function () {
    if (pending) { return; }
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      const stage = view.stage;
      if (!stage || !stage.viewer || !view.el.isConnected) { return; }
      const box = view.el.getBoundingClientRect();
      if (box.width < 2 || box.height < 2) { return; }
      stage.handleResize();
      if (stage.compList.length > 0) { stage.autoView(); }
    });
  };
  new ResizeObserver(function () { view._miFit(); }).observe(view.el);
  new IntersectionObserver(function (entries) {
    if (entries.some(function (e) { return e.isIntersecting; })) { view._miFit(); }
  }).observe(view.el);
  view.stage.signals.componentAdded.add(function (component) {
    const fit = function () { view._miFit(); };
    if (component && component.structure) { fit(); } else { setTimeout(fit, 0); }
  });
  view._miFit();
};
install(0);
"""
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


def _fit_on_show(view) -> None:
    """Install :data:`FIT_ON_SHOW_JS` in every browser view of ``view`` (now and later ones)."""
    view._execute_js_code(FIT_ON_SHOW_JS)


def refit_view(view) -> None:
    """Fit the camera of a view from :func:`structure_view` to its atoms now.

    The view already re-fits itself whenever it becomes visible, is resized or
    shows new atoms; call this after moving the camera by hand.
    """
    view._execute_js_code("if (this._miFit) { this._miFit(); }", fire_once=True)


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
        The view; in the browser it fits its camera to the atoms whenever it
        becomes visible, is resized or shows new atoms.

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
    _fit_on_show(view)
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
    # new atoms: the browser re-fits when the component arrives (FIT_ON_SHOW_JS)
