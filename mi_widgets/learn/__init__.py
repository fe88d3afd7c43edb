"""Property prediction from composition: features, model zoo, studies, permutation importance.

Core only (numpy, scipy, scikit-learn); the explorer widget lives in
``mi_widgets.learn.importance``.
"""

from mi_widgets.learn.composition import (
    DEFAULT_PROPERTIES,
    STATISTICS,
    AlloyFeatures,
    CompositionFeatures,
    ElementTable,
    composition_features,
    composition_groups,
    composition_matrix,
    load_alloy_features,
    load_element_table,
    parse_composition,
    table_features,
)
from mi_widgets.learn.features import CorrelationFilter
from mi_widgets.learn.io import Table, load_alloys, read_table
from mi_widgets.learn.models import (
    CLASSIFIERS,
    REGRESSORS,
    ModelComparison,
    RejectOption,
    compare_models,
    cv_folds,
    elemnet_mlp,
    make_classifier,
    make_regressor,
    reject_option,
)
from mi_widgets.learn.permutation import chunked_permutation_importance, permuted_prediction
from mi_widgets.learn.studies import (
    DepthStudy,
    EpochCurve,
    LearningCurves,
    ModelChoice,
    SearchComparison,
    choose_model,
    compare_searches,
    depth_study,
    epoch_curve,
    krr_search_space,
    learning_curves,
    split_rows,
)

__all__ = [
    "CLASSIFIERS",
    "DEFAULT_PROPERTIES",
    "REGRESSORS",
    "STATISTICS",
    "AlloyFeatures",
    "CompositionFeatures",
    "CorrelationFilter",
    "DepthStudy",
    "ElementTable",
    "EpochCurve",
    "LearningCurves",
    "ModelChoice",
    "ModelComparison",
    "RejectOption",
    "SearchComparison",
    "Table",
    "choose_model",
    "chunked_permutation_importance",
    "compare_models",
    "compare_searches",
    "composition_features",
    "composition_groups",
    "composition_matrix",
    "cv_folds",
    "depth_study",
    "elemnet_mlp",
    "epoch_curve",
    "krr_search_space",
    "learning_curves",
    "load_alloy_features",
    "load_alloys",
    "load_element_table",
    "make_classifier",
    "make_regressor",
    "parse_composition",
    "permuted_prediction",
    "read_table",
    "reject_option",
    "split_rows",
    "table_features",
]
