"""StillingerWeber keeps its settings in ASE's ``parameters``, like ASE's own calculators."""

from __future__ import annotations

import dataclasses
import json

import pytest
from ase.build import bulk
from ase.calculators.lj import LennardJones

from mi_widgets._errors import MIInputError
from mi_widgets.structure.stillinger_weber import SW_GERMANIUM, SW_SILICON, StillingerWeber


def test_defaults_and_todict_match_ase_conventions():
    lj = LennardJones(epsilon=2.0)  # the ASE behaviour mirrored below
    assert lj.todict()["epsilon"] == 2.0 and "sigma" not in lj.todict()
    calc = StillingerWeber()
    assert calc.todict() == {}
    assert set(calc.parameters) == {"elements", "skin"}
    full = calc.todict(skip_default=False)
    assert full["skin"] == 0.3 and set(full["elements"]) == {"Si", "Ge"}
    json.dumps(full)  # plain numbers: storable as ASE stores calculator parameters


def test_set_discards_results_only_when_something_changed():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True)
    calc = StillingerWeber()
    atoms.calc = calc
    energy = atoms.get_potential_energy()
    assert calc.set(skin=0.3) == {}  # unchanged: results kept, as in ASE
    assert calc.results
    softer = dataclasses.replace(SW_SILICON, epsilon=SW_SILICON.epsilon / 2)
    changed = calc.set(elements={"Si": softer})
    assert list(changed) == ["elements"]
    assert calc.results == {}
    # epsilon scales every SW term: half of it halves the energy
    assert atoms.get_potential_energy() == pytest.approx(energy / 2, rel=1e-12)
    assert calc.set(skin=0.0) == {"skin": 0.0}
    assert calc.skin == 0.0 and calc.results == {}


def test_todict_rebuilds_an_equal_calculator():
    atoms = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
    atoms.rattle(0.1, seed=2)
    calc = StillingerWeber(elements={"Si": dataclasses.replace(SW_SILICON, lambda_=25.0)})
    atoms.calc = calc
    energy = atoms.get_potential_energy()
    clone = StillingerWeber(**calc.todict())
    assert clone.todict() == calc.todict()
    atoms.calc = clone
    assert atoms.get_potential_energy() == pytest.approx(energy, rel=1e-13)


def test_constructor_arguments_are_stored_in_parameters():
    calc = StillingerWeber(elements={"Ge": SW_GERMANIUM}, skin=0.7)
    assert calc.parameters["skin"] == 0.7
    assert calc.parameters["elements"]["Ge"]["lambda_"] == SW_GERMANIUM.lambda_
    assert calc.todict() == {"elements": {"Ge": dataclasses.asdict(SW_GERMANIUM)}, "skin": 0.7}
    # a mapping of fields works as well as SWParameters
    same = StillingerWeber(elements={"Ge": {"epsilon": 1.93, "sigma": 2.181, "lambda_": 31.0}})
    assert same.parameters["elements"] == calc.parameters["elements"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"skin": -1.0}, "skin must be"),
        ({"elements": {"Xx": SW_SILICON}}, "not a chemical symbol"),
        ({"elements": {"Si": {"epsilon": 1.0, "sigma": 2.0, "zeta": 1.0}}}, "Unknown"),
        ({"elements": {"Si": {"epsilon": 1.0}}}, "at least epsilon and sigma"),
        ({"elements": {}}, "elements must map"),
    ],
)
def test_bad_parameters_raise_one_sentence_and_keep_the_old_ones(kwargs, message):
    with pytest.raises(MIInputError, match=message):
        StillingerWeber(**kwargs)
    calc = StillingerWeber()
    with pytest.raises(MIInputError, match=message):
        calc.set(**kwargs)
    assert calc.todict() == {}
