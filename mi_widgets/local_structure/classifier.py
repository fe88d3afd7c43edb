"""A neural-network classifier of local structure, read as Bayes posteriors, with a reject option.

The network (scikit-learn's ``MLPClassifier``, trained by cross-entropy, i.e.
maximum likelihood of the labels) outputs ``P(C_k | x)`` for every class. The
Bayes rule picks the class of largest posterior; with the reject option an atom
is classified only if ``max_k P(C_k | x) >= theta`` and is otherwise labelled
``"rejected"`` (Chow, IEEE Trans. Inf. Theory 16, 41 (1970); Bishop, Pattern
Recognition and Machine Learning, section 1.5.3). Atoms with too few neighbours
for the features are rejected too.

The fitted network is kept as plain arrays (scaler, weights, biases, classes),
so it is saved as ``.npz`` + JSON without pickle and evaluated in numpy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.neural_network import MLPClassifier
from sklearn.utils.validation import check_is_fitted

from mi_widgets._errors import MIInputError, check_finite_array
from mi_widgets._npz import read_npz

__all__ = [
    "REJECTED",
    "AccuracyCoverage",
    "LocalStructureClassifier",
    "accuracy_coverage",
]

#: The label of atoms the classifier abstains on.
REJECTED = "rejected"


class LocalStructureClassifier(ClassifierMixin, BaseEstimator):
    """An MLP classifier of per-atom features with Chow's reject option.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (32, 32)
        Hidden units per layer (ReLU).
    theta : float, default 0.0
        Reject threshold on the largest posterior in [0, 1]; 0 never rejects.
    alpha : float, default 1e-4
        L2 penalty.
    max_iter : int, default 200
        Training epochs at most (Adam; with 2000 samples or more, early stopping on a
        10 % validation split).
    random_state : int or None
        Seed of the initial weights and the validation split.

    Attributes
    ----------
    classes_ : ndarray of str
        The classes the network knows (``predict`` may also return "rejected").
    mean_, scale_ : ndarray
        Feature standardisation.
    coefs_, intercepts_ : list of ndarray
        The network's weights and biases.
    loss_curve_ : list of float
        Training loss (cross-entropy plus the L2 term) per epoch.
    validation_loss_ : list of float
        Held-out cross-entropy per epoch (empty below 2000 samples).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(4, 1, (50, 2))])
    >>> y = np.array(["a"] * 50 + ["b"] * 50)
    >>> model = LocalStructureClassifier(hidden_layer_sizes=(8,), random_state=0).fit(X, y)
    >>> model.predict([[0.0, 0.0], [4.0, 4.0]]).tolist()
    ['a', 'b']
    >>> model.set_params(theta=0.99).predict([[2.0, 2.0]]).tolist()
    ['rejected']
    """

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (32, 32),
        theta: float = 0.0,
        alpha: float = 1e-4,
        max_iter: int = 200,
        random_state: int | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.theta = theta
        self.alpha = alpha
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, y, progress=None) -> LocalStructureClassifier:
        """Train on features ``X`` (n, f) and labels ``y`` (n,) by cross-entropy.

        One Adam epoch at a time; with 2000 samples or more, 10 % are held out
        and the weights of the epoch with the lowest held-out cross-entropy are
        kept (early stopping, patience 15 epochs). ``progress(done, total)`` is
        called after every epoch.
        """
        X = check_finite_array(X, "X", ndim=2)
        y = np.asarray(y).astype(str)
        if len(y) != len(X):
            raise MIInputError(f"X has {len(X)} rows but y has {len(y)} labels; give one each.")
        classes = np.unique(y)
        if classes.size < 2:
            raise MIInputError("y needs at least two classes to train a classifier.")
        self.mean_ = X.mean(axis=0)
        self.scale_ = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
        Z = (X - self.mean_) / self.scale_
        rng = np.random.default_rng(self.random_state)
        held_out = rng.random(len(Z)) < 0.1 if len(Z) >= 2000 else np.zeros(len(Z), bool)
        net = MLPClassifier(
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            alpha=self.alpha,
            batch_size=min(200, len(Z)),
            random_state=self.random_state,
        )
        self.loss_curve_, self.validation_loss_ = [], []
        best, best_weights, waited = np.inf, None, 0
        for epoch in range(int(self.max_iter)):  # epochs, not samples
            net.partial_fit(Z[~held_out], y[~held_out], classes=classes)
            self.loss_curve_.append(float(net.loss_))
            if held_out.any():
                p = np.clip(net.predict_proba(Z[held_out]), 1e-12, 1.0)
                codes = np.searchsorted(net.classes_, y[held_out])
                loss = float(-np.log(p[np.arange(len(codes)), codes]).mean())
                self.validation_loss_.append(loss)
                if loss < best - 1e-5:
                    best, waited = loss, 0
                    best_weights = (
                        [w.copy() for w in net.coefs_],
                        [b.copy() for b in net.intercepts_],
                    )
                else:
                    waited += 1
            if progress is not None:
                progress(epoch + 1, int(self.max_iter))
            if waited >= 15:
                break
        coefs, intercepts = best_weights or (net.coefs_, net.intercepts_)
        self.classes_ = net.classes_.astype(str)
        self.coefs_ = [w.copy() for w in coefs]
        self.intercepts_ = [b.copy() for b in intercepts]
        self.n_iter_ = epoch + 1
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Posterior ``P(C_k | x)`` of every class, shape (n, n_classes)."""
        check_is_fitted(self, "coefs_")
        X = check_finite_array(X, "X", ndim=2)
        if X.shape[1] != self.n_features_in_:
            raise MIInputError(
                f"X has {X.shape[1]} features but the model was trained on "
                f"{self.n_features_in_}; use the same feature kind."
            )
        h = (X - self.mean_) / self.scale_
        for w, b in zip(self.coefs_[:-1], self.intercepts_[:-1], strict=True):
            h = np.maximum(h @ w + b, 0.0)
        logits = h @ self.coefs_[-1] + self.intercepts_[-1]
        if logits.shape[1] == 1:  # binary networks have one logistic output
            p = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.column_stack([1.0 - p, p])
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X, valid: np.ndarray | None = None) -> np.ndarray:
        """Bayes-rule labels; ``"rejected"`` where ``max P < theta`` or ``valid`` is False."""
        theta = float(self.theta)
        if not 0.0 <= theta <= 1.0:
            raise MIInputError(f"theta must lie in [0, 1]; got {theta}.")
        proba = self.predict_proba(X)
        labels = self.classes_[proba.argmax(axis=1)].astype(object)
        keep = proba.max(axis=1) >= theta
        if valid is not None:
            keep &= np.asarray(valid, dtype=bool)
        labels[~keep] = REJECTED
        return labels.astype(str)

    # ------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write the fitted model as ``.npz`` (arrays) with a JSON header; no pickle."""
        check_is_fitted(self, "coefs_")
        header = {
            "format": "mi-lab local-structure classifier 1",
            "classes": self.classes_.tolist(),
            "params": {k: (list(v) if isinstance(v, tuple) else v)
                       for k, v in self.get_params().items()},
            "n_layers": len(self.coefs_),
        }  # fmt: skip
        arrays = {"mean": self.mean_, "scale": self.scale_}
        for k, (w, b) in enumerate(zip(self.coefs_, self.intercepts_, strict=True)):
            arrays[f"w{k}"], arrays[f"b{k}"] = w, b
        np.savez_compressed(path, header=np.array(json.dumps(header)), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> LocalStructureClassifier:
        """Read a model written by :meth:`save` (sizes and shapes checked; no pickle).

        Raises
        ------
        MIInputError
            If the file is not such a model, or its arrays do not fit together.
        """
        name = Path(path).name if isinstance(path, (str, Path)) else "the model"
        what = "a saved classifier (an .npz archive)"
        arrays = read_npz(path, name, max_values=MAX_MODEL_VALUES, text=("header",), what=what)
        header = _model_header(arrays, name)
        n_layers = header["n_layers"]
        model = cls(**header["params"])
        model.classes_ = np.array(header["classes"], dtype=str)
        try:
            model.mean_, model.scale_ = _as_floats(arrays, ("mean", "scale"), name)
            model.coefs_ = _as_floats(arrays, [f"w{k}" for k in range(n_layers)], name)
            model.intercepts_ = _as_floats(arrays, [f"b{k}" for k in range(n_layers)], name)
        except KeyError as missing:
            raise MIInputError(f"{name} lacks the array {missing}; save the model again.") from None
        model.n_features_in_ = model.mean_.size
        _check_shapes(model, name)
        return model


#: The most values one array of a saved classifier may hold.
MAX_MODEL_VALUES = 2**22
_PARAMS = ("hidden_layer_sizes", "theta", "alpha", "max_iter", "random_state")


def _model_header(arrays: dict[str, np.ndarray], name: str) -> dict:
    """The JSON header of a saved classifier, its fields checked."""
    refused = f"{name} is not a classifier saved by LocalStructureClassifier.save."
    try:
        header = json.loads(str(arrays["header"]))
        n_layers, params = int(header["n_layers"]), dict(header["params"])
        classes = [str(c) for c in header["classes"]]
        params["hidden_layer_sizes"] = tuple(int(n) for n in params["hidden_layer_sizes"])
    except (KeyError, ValueError, TypeError, OverflowError, RecursionError):
        raise MIInputError(refused) from None
    theta = params.get("theta", 0.0)
    if (
        set(params) - set(_PARAMS)
        or not 1 <= n_layers <= 64
        or len(classes) < 2
        or not isinstance(theta, (int, float))
        or not 0.0 <= theta <= 1.0
    ):
        raise MIInputError(refused)
    return {"n_layers": n_layers, "params": params, "classes": classes}


def _as_floats(arrays: dict[str, np.ndarray], keys, name: str) -> list[np.ndarray]:
    """The arrays ``keys`` as finite floats (KeyError if one is missing)."""
    return [check_finite_array(arrays[k], f"{name} array {k}") for k in keys]


def _check_shapes(model: LocalStructureClassifier, name: str) -> None:
    """Weights that chain: features -> hidden layers -> one output per class (or one)."""
    width = model.mean_.size
    ok = model.mean_.ndim == 1 and model.scale_.shape == model.mean_.shape
    for w, b in zip(model.coefs_, model.intercepts_, strict=True):
        ok = ok and w.ndim == 2 and w.shape[0] == width and b.shape == (w.shape[1],)
        width = w.shape[1] if w.ndim == 2 else -1
    n_classes = model.classes_.size
    if not ok or width != (1 if n_classes == 2 else n_classes) or not np.all(model.scale_ > 0):
        raise MIInputError(f"{name} holds weights whose shapes do not fit together; save it again.")


@dataclass(frozen=True)
class AccuracyCoverage:
    """Accuracy on the kept atoms and the fraction kept, per threshold.

    Attributes
    ----------
    thetas, accuracy, coverage : ndarray
        Accuracy is NaN where nothing is kept.
    """

    thetas: np.ndarray
    accuracy: np.ndarray
    coverage: np.ndarray


def accuracy_coverage(proba: np.ndarray, y_true, classes, thetas=None) -> AccuracyCoverage:
    """The reject option's trade-off: accuracy on kept atoms vs the fraction kept.

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    >>> r = accuracy_coverage(p, ["a", "b", "b"], ["a", "b"], thetas=[0.0, 0.7])
    >>> r.accuracy.round(3).tolist(), r.coverage.round(3).tolist()
    ([0.667, 1.0], [1.0, 0.667])
    """
    proba = np.asarray(proba, dtype=float)
    thetas = np.linspace(0.25, 1.0, 31) if thetas is None else np.asarray(thetas, dtype=float)
    correct = np.asarray(classes)[proba.argmax(axis=1)] == np.asarray(y_true)
    confidence = proba.max(axis=1)
    kept = confidence[None, :] >= thetas[:, None]
    n_kept = kept.sum(axis=1)
    with np.errstate(invalid="ignore"):
        accuracy = np.where(n_kept > 0, (kept & correct).sum(axis=1) / n_kept, np.nan)
    return AccuracyCoverage(thetas=thetas, accuracy=accuracy, coverage=n_kept / len(correct))
