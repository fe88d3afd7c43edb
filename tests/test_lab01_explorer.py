"""Lab 01's structure explorer, driven from Python as the browser would."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from widget_helpers import upload as upload_file

from mi_widgets._errors import MIInputError
from mi_widgets.structure import (
    BUILTIN_CRYSTALS,
    builtin_crystal,
    coordination_numbers,
    load_si_md,
    structure_to_text,
)
from mi_widgets.structure.build import first_shell_cutoff
from mi_widgets.structure.widgets import StructureExplorer
from mi_widgets.viz.app import LabApp


@pytest.fixture
def explorer():
    return StructureExplorer("Cu (fcc)", repeat=(2, 2, 2))


def _upload(explorer, name: str, content: bytes) -> None:
    """What the browser does when a user picks a file."""
    upload_file(explorer._upload, name, content)


# --------------------------------------------------------------------------- coordination
#: Nearest-neighbour counts of the built-in crystals (textbook values).
COORDINATION = {
    "Cu (fcc)": 12,
    "Fe (bcc)": 8,
    "Mg (hcp)": 12,
    "Si (diamond)": 4,
    "NaCl (rocksalt)": 6,
    "LiI (rocksalt)": 6,
    "CsCl (B2)": 8,
    "ZnO (wurtzite)": 4,
}


def test_every_builtin_crystal_has_its_textbook_coordination():
    assert set(COORDINATION) == set(BUILTIN_CRYSTALS)
    for name, expected in COORDINATION.items():
        explorer = StructureExplorer(name, repeat=(1, 1, 1))
        assert set(explorer.coordination.tolist()) == {expected}, name


@pytest.mark.parametrize(
    ("name", "second_shell_ratio"),
    [("CsCl (B2)", 2 / np.sqrt(3)), ("Fe (bcc)", 2 / np.sqrt(3)), ("Cu (fcc)", np.sqrt(2))],
)
def test_cutoff_lies_between_the_first_and_second_shell(name, second_shell_ratio):
    """A cut-off 1.2 x the nearest distance took bcc's second shell (1.155 x): 14, not 8."""
    atoms = builtin_crystal(name)
    distances = np.sort(np.unique(np.round(atoms.get_all_distances(mic=True).ravel(), 6)))
    d_nn = distances[distances > 0][0]
    cutoff = first_shell_cutoff(atoms)
    assert d_nn < cutoff < second_shell_ratio * d_nn
    assert coordination_numbers(atoms, 1.2 * d_nn)[0] > COORDINATION[name] or name == "Cu (fcc)"


def test_cutoff_is_the_first_minimum_of_g_of_r_in_a_liquid():
    from mi_widgets.structure import rdf

    liquid = load_si_md("liquid_2000K")[0]
    cutoff = first_shell_cutoff(liquid)
    g = rdf(liquid, 6.0, 300, smearing=0.1)
    first_peak = int(np.argmax(g.g))
    after = slice(first_peak, int(np.searchsorted(g.r, 4.0)))
    minimum = g.r[after][np.argmin(g.g[after])]
    assert cutoff == pytest.approx(minimum, abs=0.15)


def test_lii_is_rock_salt_as_in_the_lecture():
    lii = builtin_crystal("LiI (rocksalt)")
    assert lii.get_chemical_formula() == "I4Li4"
    assert coordination_numbers(lii, first_shell_cutoff(lii)).tolist() == [6] * 8


# --------------------------------------------------------------------------- the app
def test_is_a_lab_app_with_one_widget(explorer):
    assert isinstance(explorer, LabApp)
    assert explorer.widget is explorer.widget
    assert "mi-structure-explorer" in explorer.widget._dom_classes
    assert explorer.random_state == 0
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()


def test_choosing_a_crystal_updates_everything(explorer):
    first_g = explorer.rdf_result.g.copy()
    explorer._crystal.value = "Si (diamond)"  # what a user's choice does
    assert explorer.atoms.get_chemical_formula() == "Si64"
    assert set(explorer.coordination.tolist()) == {4}
    assert not (explorer.rdf_result.g == first_g).all()
    assert list(explorer._source.data["g"]) == explorer.rdf_result.g.tolist()
    assert "Si64" in explorer._info.value


def test_supercell_and_colour_controls(explorer):
    explorer._repeat[0].value = 3
    assert len(explorer.atoms) == 4 * 3 * 2 * 2
    explorer._color.value = "coordination"
    assert explorer.color_mode == "coordination"
    assert "Neighbours within" in explorer._legend.value
    assert explorer._view._mi_state["labels"] is not None


def test_actions_from_python_move_the_controls(explorer):
    explorer.select_crystal("NaCl (rocksalt)")
    explorer.set_repeat(1, 2, 3)
    explorer.set_color_mode("coordination")
    assert explorer._crystal.value == "NaCl (rocksalt)"
    assert [b.value for b in explorer._repeat] == [1, 2, 3]
    assert explorer._color.value == "coordination"


def test_uploaded_structure_is_shown_and_kept_in_the_list(explorer):
    text = structure_to_text(builtin_crystal("ZnO (wurtzite)"), "cif").encode()
    _upload(explorer, "zno.cif", text)
    assert explorer.error == ""
    assert explorer.atoms.get_chemical_formula() == "O16Zn16"
    assert "zno.cif" in explorer._crystal.options
    explorer.select_crystal("Cu (fcc)")
    explorer._crystal.value = "zno.cif"
    assert explorer.atoms.get_chemical_formula() == "O16Zn16"


def test_uploaded_file_names_are_escaped(explorer):
    text = structure_to_text(builtin_crystal("Si (diamond)"), "cif").encode()
    _upload(explorer, "<img src=x onerror=alert(1)>.cif", text)
    assert explorer.error == ""
    assert "<img" not in explorer._info.value
    assert "&lt;img src=x onerror=alert(1)&gt;.cif" in explorer._info.value


BAD_FILES = [
    (b"not a structure", "bad.cif", "could not be read"),
    (b"2\n\nH 0 0 0\nH 0 0 0.74\n", "molecule.xyz", "no periodic cell"),
]


@pytest.mark.parametrize(("content", "name", "message"), BAD_FILES)
def test_bad_files_raise_from_python(explorer, content, name, message):
    before = explorer.atoms
    with pytest.raises(MIInputError, match=message):
        explorer.load_file(content, name)
    assert explorer.atoms is before


@pytest.mark.parametrize(
    ("content", "name", "message"), [*BAD_FILES, (b"", "empty.xyz", "is empty")]
)
def test_bad_uploads_show_the_banner_and_keep_the_previous_structure(
    explorer, content, name, message
):
    before = explorer.atoms
    _upload(explorer, name, content)
    assert message in explorer.error
    assert explorer.atoms is before
    assert explorer._upload.value == ()  # the same file can be chosen again after a fix
    explorer._crystal.value = "Si (diamond)"  # the app still works
    assert explorer.error == ""


def test_too_large_supercell_is_refused_and_state_kept(explorer):
    before = explorer.atoms
    with pytest.raises(MIInputError, match="would have"):
        explorer.set_repeat(20, 20, 20)
    explorer._repeat[0].value = 20  # the same through the controls: 320 atoms, fine
    explorer._repeat[1].value = 20  # 3200
    before = explorer.atoms
    explorer._repeat[2].value = 20  # 32000: refused
    assert "would have" in explorer.error
    assert explorer.atoms is before
    assert [box.value for box in explorer._repeat] == [20, 20, 2]


def test_bad_colour_mode_and_r_max_are_refused(explorer):
    with pytest.raises(MIInputError, match="Colour mode"):
        explorer.set_color_mode("rainbow")
    with pytest.raises(MIInputError, match="r max"):
        explorer.set_r_max(100.0)
    assert explorer.color_mode == "element" and explorer.r_max == 8.0


def test_downloads_are_the_current_supercell(explorer):
    assert explorer.download_text("extxyz").splitlines()[0].strip() == "32"
    assert "supercell_2x2x2.cif" in explorer._downloads.value


# --------------------------------------------------------------------------- the 3D view
def test_3d_view_fits_itself_in_the_browser_and_never_calls_autoview_early():
    """The fit runs in the page (on show, resize, new atoms); Python sends no early autoView."""
    from mi_widgets.viz.structure import FIT_ON_SHOW_JS, structure_view, update_structure

    view = structure_view(builtin_crystal("Si (diamond)"))
    sent = [msg for msg in view._ngl_msg_archive if msg["methodName"] == "executeCode"]
    assert [msg["args"][0] for msg in sent] == [FIT_ON_SHOW_JS]  # replayed to every new view
    for hook in ("ResizeObserver", "IntersectionObserver", "componentAdded", "compList.length"):
        assert hook in FIT_ON_SHOW_JS
    view.loaded = True  # as when the browser has the stage
    queued = []
    view._remote_call_thread = SimpleNamespace(q=queued)  # capture what would be sent
    update_structure(view, atoms=builtin_crystal("NaCl (rocksalt)"))
    methods = [callback._method_name for callback in queued]
    assert "loadFile" in methods and "autoView" not in methods
