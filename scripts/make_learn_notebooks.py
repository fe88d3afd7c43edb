# ruff: noqa: E501  (the markdown cells are prose, one paragraph per line)
"""Write notebooks 10 and 11 (outputs stripped) from the cell texts below."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

NB10 = [
    (
        "md",
        """# Property prediction and permutation feature importance

## Goals
- Turn a composition such as `Cu0.5Ni0.25Au0.25` into a fixed-length **feature vector** (Magpie-style statistics of elemental properties).
- Train **regression** models for the mixing energy of alloys and compare them by cross-validation.
- Train a **classifier** for *stable or not*, measure it with the cross-entropy, and use the **reject option**.
- Ask a fitted model which features it relies on with **permutation importance**, and see why correlated features share importance.""",
    ),
    (
        "code",
        """from mi_widgets.viz import setup_notebook

setup_notebook()""",
    ),
    (
        "md",
        r"""## Background
**Features from composition.** For an elemental property $p$ (electronegativity, radius, melting point, ...) and atomic fractions $x_i$ the Magpie features (Ward *et al.* 2016) are the mean $\bar p = \sum_i x_i p_i$, the average deviation $\sum_i x_i |p_i - \bar p|$, and the minimum, maximum and range over the elements present. Eight properties give 40 features.

**Regression.** Kernel ridge regression with a Gaussian kernel $k(\mathbf a, \mathbf b) = \exp(-\gamma \lVert \mathbf a - \mathbf b \rVert^2)$ minimises $\sum_n (y_n - f(\mathbf x_n))^2 + \lambda \lVert f \rVert^2$; Pilania *et al.* (2016) first drop features whose Pearson correlation with a kept feature exceeds a threshold. $\lambda$ and $\gamma$ are **hyperparameters**: tuned by cross-validation, not learned.

**Classification** minimises the cross-entropy $-\frac1N \sum_n \log p(y_n \mid \mathbf x_n)$. With the **reject option** (Chow 1970) a sample is classified only if $\max_k p(k \mid \mathbf x) \ge \theta$: fewer samples are classified, but more of them correctly.

**Permutation importance** (Breiman 2001; Fisher *et al.* 2019): shuffle feature $j$ in held-out data, which breaks its link to the target, and measure how much the error grows,
$I_j = \frac1K \sum_{k=1}^{K} \mathrm{MAE}(\text{shuffle}_k(j)) - \mathrm{MAE}$. A predictive feature makes the error jump; a useless one changes nothing. If two features are strongly correlated, the model can use the twin of a shuffled feature, so both look less important than they are.""",
    ),
    (
        "md",
        """## Data
2289 random fcc alloys of Al, Ni, Cu, Pd, Ag, Pt and Au (binary and ternary, 8- and 16-atom cells), relaxed with ASE's effective-medium-theory (EMT) potential: mixing energy (eV/atom), lattice constant, bulk modulus, and *stable* = mixing energy < 0 (see `data/README.md`). We use a random subset here to keep the notebook quick.""",
    ),
    (
        "code",
        """from sklearn.model_selection import train_test_split

from mi_widgets.learn import compare_models, load_alloy_features, make_classifier, make_regressor

data = load_alloy_features("mixing_energy_eV_per_atom", n_samples=900, random_state=0)
print(data.X.shape, "features, e.g.", data.names[:3])
print("first alloys:", data.compositions[:4].tolist(), "E_mix:", data.y[:4].round(3))""",
    ),
    (
        "code",
        """X_train, X_test, y_train, y_test, s_train, s_test = train_test_split(
    data.X, data.y, data.stable, test_size=0.3, random_state=0
)
zoo = {name: make_regressor(name) for name in ("dummy", "ridge", "krr", "random_forest")}
zoo["krr + filter"] = make_regressor("krr", correlation_threshold=0.95)
comparison = compare_models(zoo, X_train, y_train, cv=3)
for name, mae, std in zip(comparison.names, comparison.mean_mae, comparison.std_mae, strict=True):
    print(f"{name:>14}: CV MAE {1000 * mae:6.1f} +- {1000 * std:4.1f} meV/atom")""",
    ),
    (
        "code",
        """from sklearn.metrics import log_loss

classifier = make_classifier("logistic").fit(X_train, s_train)
probabilities = classifier.predict_proba(X_test)
base_rate = make_classifier("dummy").fit(X_train, s_train).predict_proba(X_test)
print(f"stable fraction {s_test.mean():.2f}; cross-entropy on the test split:")
print(f"logistic {log_loss(s_test, probabilities):.3f} nats")
print(f"base rate {log_loss(s_test, base_rate):.3f} nats")""",
    ),
    (
        "md",
        """## Interactive lab
First tab: the importance of each feature for a random forest that predicts the mixing energy, measured on the held-out test split (bars: mean and standard deviation over 5 shuffles). **Click a bar** to see predicted vs true before and after shuffling that feature. The heat map shows the Pearson correlation between features. Second tab: the reject option; move theta.""",
    ),
    (
        "code",
        """import ipywidgets as widgets

from mi_widgets.learn.importance import PermutationImportanceExplorer
from mi_widgets.learn.widgets import RejectOptionExplorer

forest = make_regressor("random_forest", n_estimators=60).fit(X_train, y_train)
explorer = PermutationImportanceExplorer(
    forest, X_test, y_test, data.names, n_repeats=5, random_state=0, target_name="E_mix (eV/atom)"
)
reject = RejectOptionExplorer(probabilities, s_test, theta=0.7)
lab = widgets.Tab(children=[explorer.app, reject.app])
lab.titles = ("Permutation importance (mixing energy)", "Stable or not: reject option")
lab""",
    ),
    (
        "md",
        """## What to look for
- Which feature makes the MAE jump the most when shuffled? Is it plausible physically? (Hume-Rothery: atoms whose radii differ by more than about 15 % mix badly; look for the *range* and *average deviation* of the radii.)
- Find two features with a correlation near 1 in the heat map (e.g. the mean atomic number and the mean atomic mass). Are both important, or does one carry the other? Drop one (`data.X[:, keep]`) and recompute.
- Features whose bar is near zero: the model does not use them. Does that mean they carry no information?
- Reject option: how much accuracy do you gain by refusing the 20 % least confident alloys?

**Exercises.** (1) Replace the random forest by `make_regressor("ridge")`: do the importances change? (2) Predict `lattice_constant_A` instead: which features matter now? (3) Use `n_repeats=20`: how do the error bars shrink?""",
    ),
    (
        "md",
        """## Your own data
Upload a CSV in the explorer (left panel): every numeric column is a feature, a `composition` or `formula` column (e.g. `Cu0.5Ni0.5`, `Cu2Ni`) becomes composition features, and you choose the target column; a random forest is fitted on 75 % of the rows and explained on the other 25 %. Missing or non-numeric cells, unknown elements or fractions that do not add up to one are reported in the red banner. From code, explain your own fitted model:

```python
from mi_widgets.learn import read_table, table_features
X, y, names = table_features(read_table("my_table.csv"), "band_gap_eV")
PermutationImportanceExplorer(my_model, X_test, y_test, names)
```""",
    ),
    (
        "md",
        """## References
- L. Ward, A. Agrawal, A. Choudhary, C. Wolverton, *A general-purpose machine learning framework for predicting properties of inorganic materials*, npj Comput. Mater. **2**, 16028 (2016).
- G. Pilania, A. Mannodi-Kanakkithodi, B. P. Uberuaga, R. Ramprasad, J. E. Gubernatis, T. Lookman, *Machine learning bandgaps of double perovskites*, Sci. Rep. **6**, 19375 (2016).
- L. Breiman, *Random forests*, Mach. Learn. **45**, 5 (2001); A. Fisher, C. Rudin, F. Dominici, *All models are wrong, but many are useful*, JMLR **20**, 177 (2019).
- C. K. Chow, *On optimum recognition error and reject tradeoff*, IEEE Trans. Inf. Theory **16**, 41 (1970).
- K. W. Jacobsen, P. Stoltze, J. K. Norskov, *A semi-empirical effective medium theory for metals and alloys*, Surf. Sci. **366**, 394 (1996).
- scikit-learn: `sklearn.inspection.permutation_importance`; matminer's `ElementProperty.from_preset("magpie")`.""",
    ),
]

NB11 = [
    (
        "md",
        """# Model choice, hyperparameters and learning curves

## Goals
- Read a **learning curve**: how the validation error falls as the training set grows, and what the gap to the training error says.
- Compare **grid search** and **random search** at the same number of evaluations.
- Study **network depth** in an ElemNet-style neural network: deeper helps, but not always.
- **Choose a model** by cross-validation on the training split, and touch the test split only once, at the end.""",
    ),
    (
        "code",
        """from mi_widgets.viz import setup_notebook

setup_notebook()""",
    ),
    (
        "md",
        r"""## Background
A **learning curve** plots the cross-validated error against the number of training samples $n$. Validation error falling as $n^{-\alpha}$ says that more data will help; a large gap between training and validation error says the model over-fits; two high, close curves say it is too simple.

**Hyperparameters** ($\lambda$, $\gamma$ of kernel ridge; trees, depth, layers) are chosen by **K-fold cross-validation**: the training data are split into $K$ folds; each setting is trained on $K-1$ and scored on the remaining one. **Grid search** tries every combination of a few values per parameter; **random search** draws each setting from a distribution (here log-uniform). With the same budget random search tries more distinct values of the parameter that matters (Bergstra & Bengio 2012).

**ElemNet** (Jha *et al.* 2018) predicts formation energies from the composition alone with a deep fully connected network; depth helps with enough data but is no free lunch.

**The test split** is held out before any choice is made and used once, to report the error of the chosen model; choosing by the test error would make that number optimistic.""",
    ),
    (
        "md",
        """## Data
The EMT alloys of notebook 10 (`data/alloys.csv`): 40 Magpie-style composition features and the mixing energy in eV/atom. The lab uses a random subset (slider) so each study takes seconds.""",
    ),
    (
        "code",
        """from mi_widgets.learn import load_alloy_features

data = load_alloy_features("mixing_energy_eV_per_atom")
print(data.X.shape[0], "alloys,", data.X.shape[1], "features")""",
    ),
    (
        "md",
        """## Interactive lab
Each button runs one study with scikit-learn (`learning_curve`, `GridSearchCV` vs `RandomizedSearchCV`, `MLPRegressor` of growing depth, `cross_val_score`) on the chosen number of alloys. Larger samples are slower but closer to the truth.""",
    ),
    (
        "code",
        """from mi_widgets.learn.widgets import ModelChoiceLab

lab = ModelChoiceLab(data.X, data.y, n_samples=300, target_name="MAE (eV/atom)")
lab.run_all()
lab""",
    ),
    (
        "md",
        """## What to look for
- Learning curves: which model improves fastest with more data? Which one would you bet on with 10x more alloys?
- Search: after how many evaluations does random search reach the grid's best? Why does a grid waste evaluations when one parameter barely matters?
- Depth: does the fourth hidden layer still help at 300 alloys? Move the slider to 1500 and rerun.
- Model choice: compare the chosen model's CV error with its test error. Why must the test split not be used to choose?

**Exercises.** (1) Add `make_regressor("svr")` to a learning-curve comparison (`mi_widgets.learn.learning_curves`). (2) Give the random search a wider range of gamma: does it still win? (3) Repeat the model choice with another `random_state`: is the winner stable?""",
    ),
    (
        "md",
        """## Your own data
Any feature table works:

```python
from mi_widgets.learn import read_table, table_features
X, y, names = table_features(read_table("my_table.csv"), "my_target")
ModelChoiceLab(X, y, n_samples=500, target_name="MAE (units of my_target)")
```
A `composition` / `formula` column becomes composition features automatically.""",
    ),
    (
        "md",
        """## References
- J. Bergstra, Y. Bengio, *Random search for hyper-parameter optimization*, JMLR **13**, 281 (2012).
- D. Jha, L. Ward, A. Paul, W. Liao, A. Choudhary, C. Wolverton, A. Agrawal, *ElemNet: deep learning the chemistry of materials from only elemental composition*, Sci. Rep. **8**, 17593 (2018).
- L. Ward *et al.*, npj Comput. Mater. **2**, 16028 (2016) (Magpie features).
- T. Hastie, R. Tibshirani, J. Friedman, *The Elements of Statistical Learning*, 2nd ed., Springer (2009), ch. 7 (model assessment and selection).
- scikit-learn user guide: *Tuning the hyper-parameters of an estimator*, *Validation curves: plotting scores to evaluate models*.""",
    ),
]


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A notebook with no outputs from (kind, source) pairs."""
    nb = new_notebook()
    nb.cells = [new_markdown_cell(s) if k == "md" else new_code_cell(s) for k, s in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def main() -> None:
    for name, cells in (
        ("10_property_prediction_importance.ipynb", NB10),
        ("11_model_choice_and_hyperparameters.ipynb", NB11),
    ):
        nbformat.write(build(cells), NOTEBOOKS / name)
        print("wrote", NOTEBOOKS / name)


if __name__ == "__main__":
    main()
