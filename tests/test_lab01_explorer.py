"""Lab 01's structure explorer, driven from Python as the browser would."""

from __future__ import annotations

import pytest

from mi_widgets.structure import builtin_crystal, structure_to_text
from mi_widgets.structure.viewer import StructureExplorer


@pytest.fixture
def explorer():
    return StructureExplorer("Cu (fcc)", repeat=(2, 2, 2))


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
    explorer.load_file(text, "zno.cif")
    assert explorer.error == ""
    assert explorer.atoms.get_chemical_formula() == "O16Zn16"
    assert "zno.cif" in explorer._crystal.options
    explorer.select_crystal("Cu (fcc)")
    explorer.select_crystal("zno.cif")
    assert explorer.atoms.get_chemical_formula() == "O16Zn16"


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"not a structure", "bad.cif", "could not be read"),
        (b"", "empty.xyz", "is empty"),
        (b"2\n\nH 0 0 0\nH 0 0 0.74\n", "molecule.xyz", "no periodic cell"),
    ],
)
def test_bad_files_show_a_message_and_keep_the_previous_structure(explorer, content, name, message):
    before = explorer.atoms
    explorer.load_file(content, name)
    assert message in explorer.error
    assert explorer.atoms is before
    explorer.select_crystal("Si (diamond)")  # the app still works
    assert explorer.error == ""


def test_too_large_supercell_is_refused_and_state_kept(explorer):
    before = explorer.atoms
    explorer.set_repeat(20, 20, 20)
    assert "would have" in explorer.error
    assert explorer.atoms is before


def test_downloads_are_the_current_supercell(explorer):
    assert (
        "Cu32" in explorer.download_text("extxyz")
        or "32" in explorer.download_text("extxyz").splitlines()[0]
    )
    assert "supercell_2x2x2.cif" in explorer._downloads.value
