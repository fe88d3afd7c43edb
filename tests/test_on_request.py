"""Studies run at once in a notebook and on a button in a Voila app."""

from __future__ import annotations

import pytest

from mi_widgets import MIInputError
from mi_widgets.viz import StudyButton, run_when_asked, served_by_voila


def test_voila_is_recognised_by_the_variable_it_sets_for_its_kernels(monkeypatch):
    monkeypatch.delenv("VOILA_BASE_URL", raising=False)
    assert not served_by_voila()
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    assert served_by_voila()


def test_in_a_notebook_the_study_runs_at_once(monkeypatch, capsys):
    monkeypatch.delenv("VOILA_BASE_URL", raising=False)
    assert run_when_asked(lambda: print("studied"), "Run it") is None
    assert capsys.readouterr().out == "studied\n"


def test_in_an_app_the_study_waits_for_its_button(monkeypatch):
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    calls = []
    button = run_when_asked(lambda: calls.append(1), "Run it", "about 2 s")
    assert isinstance(button, StudyButton) and calls == []
    assert button.button.description == "Run it" and button.status.value == "about 2 s"
    button.button.click()
    button.button.click()
    assert calls == [1, 1]
    assert button.status.value.startswith("Done in") and not button.button.disabled


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (MIInputError("The table has no rows."), "The table has no rows."),
        (ValueError("boom"), "Something went wrong (ValueError: boom)."),
    ],
)
def test_a_failing_study_shows_one_sentence_and_the_button_stays_usable(error, shown):
    def study():
        raise error

    button = StudyButton(study, "Run it", "about 2 s")
    button.run()
    assert button.banner.message.startswith(shown)
    assert button.status.value == "about 2 s" and not button.button.disabled


def test_a_notebook_call_raises_the_studys_own_error():
    def study():
        raise MIInputError("The table has no rows.")

    with pytest.raises(MIInputError, match="no rows"):
        run_when_asked(study, "Run it", now=True)
