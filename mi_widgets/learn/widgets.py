"""Apps of the property-prediction labs (10, 11): importance explorer, reject option, model choice.

Each app is a :class:`~mi_widgets.viz.app.LabApp`: its public methods are the
actions (they raise :class:`MIInputError` on bad input; from a button they run
inside the error banner) and every computation is one call into the core
(``mi_widgets.learn``). One app a module of ``mi_widgets.viz``:
``learn_importance_explorer`` (lab 10),
``learn_reject_option`` (lab 10) and ``learn_model_choice`` (lab 11); the names are gathered here.
"""

from mi_widgets.viz.learn_importance_explorer import (
    MAX_UPLOAD_ROWS,
    PermutationImportanceExplorer,
)
from mi_widgets.viz.learn_model_choice import ModelChoiceLab
from mi_widgets.viz.learn_reject_option import RejectOptionExplorer

__all__ = [
    "MAX_UPLOAD_ROWS",
    "ModelChoiceLab",
    "PermutationImportanceExplorer",
    "RejectOptionExplorer",
]
