"""Phase-diagram construction by uncertainty sampling (PDC): the sampler.

Follows Terayama, Tamura et al., Phys. Rev. Materials 3, 033802 (2019): estimate every
candidate's phase-membership probabilities from the points measured so far by label
propagation or spreading, score each candidate's uncertainty, and measure the most
uncertain one next. Extensions: coexisting phases (after Terayama et al., Scripta Mater.
208, 114335 (2022), who prepare the training data so that a multiphase point informs each
of its phases; the scheme below is this lab's own form of that idea) and batches of
proposals (Tamura et al., "Machine-learning-based phase diagram construction for
high-throughput batch experiments", Sci. Technol. Adv. Mater.: Methods 2, 153 (2022)).

Exploration: on the sparse kNN graph a label travels one hop per sweep, so every candidate
starts from a prior, its nearest measured label weighted by ``exp(-prior_gamma d^2)`` and
"unknown" (uniform) for the rest; a candidate far from every measurement is then as
uncertain as a boundary, as in the original dense RBF label propagation, and equally
uncertain candidates are taken farthest-first.

Coexistence: a label such as ``"A+B"`` is a phase assemblage. With ``coexistence=True``
(the default when any label contains ``"+"``) every single phase ``j`` gets its own
presence probability ``p_j`` by propagating "present" / "absent" channels (so a point
labelled ``A+B`` teaches both the ``A`` and the ``B`` regions), and each observed
assemblage ``a`` gets the probability ``prod_{j in a} p_j prod_{j not in a} (1 - p_j)``,
renormalised over the observed assemblages. Uncertainty is scored on that assemblage
distribution, so points inside a two-phase region are not uncertain.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from sklearn.preprocessing import StandardScaler

from mi_widgets._errors import (
    MIInputError,
    check_choice,
    check_finite_array,
    check_positive_int,
)
from mi_widgets.active.propagation import (
    knn_affinity,
    propagate,
    propagation_operator,
    rbf_affinity,
)

__all__ = [
    "BATCHES",
    "ESTIMATORS",
    "GRAPHS",
    "SCORES",
    "PhaseDiagramSampler",
    "split_assemblage",
    "uncertainty_scores",
]

ESTIMATORS = ("label_propagation", "label_spreading")
GRAPHS = ("knn", "rbf")
SCORES = ("least_confident", "margin", "entropy", "random")
BATCHES = ("ranked", "neighbour_exclusion")


def split_assemblage(label: Any) -> frozenset[str]:
    """The single phases of a phase-assemblage label (``"A+B"`` -> ``{"A", "B"}``).

    Examples
    --------
    >>> sorted(split_assemblage("FCC_A1+LAVES_C15"))
    ['FCC_A1', 'LAVES_C15']
    """
    return frozenset(part.strip() for part in str(label).split("+") if part.strip())


def uncertainty_scores(proba: np.ndarray, score: str) -> np.ndarray:
    """Uncertainty of each row of class probabilities, in [0, 1] (larger = less certain).

    ``least_confident``: ``1 - max p``; ``margin``: ``1 - (p_1 - p_2)`` with the two
    largest probabilities; ``entropy``: ``-sum p log p / log c``. A row of zeros (no
    information reached the candidate) scores 1.

    Parameters
    ----------
    proba : ndarray, shape (n, c)
        Rows summing to 1 (or all zero).
    score : {"least_confident", "margin", "entropy"}

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> uncertainty_scores(np.array([[0.5, 0.5], [1.0, 0.0]]), "margin")
    array([1., 0.])
    """
    n, c = proba.shape
    if c == 0:
        return np.ones(n)
    empty = _row_sum(proba) == 0
    if score == "least_confident":
        values = 1.0 - _row_max(proba)
    elif score == "margin":
        top = -np.sort(-proba, axis=1)
        second = top[:, 1] if c > 1 else 0.0
        values = 1.0 - (top[:, 0] - second)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(proba > 0, proba * np.log(proba), 0.0)
        values = -terms.sum(axis=1) / np.log(c) if c > 1 else np.zeros(n)
    return np.where(empty, 1.0, values)


class PhaseDiagramSampler:
    """Uncertainty sampling of phase labels over a fixed set of candidate conditions.

    Parameters
    ----------
    candidates : array_like, shape (n, d)
        Candidate conditions (composition, temperature, ...), one row each, all distinct.
        Standardised internally (zero mean, unit variance per column, as PDC does).
    estimator : {"label_propagation", "label_spreading"}
    graph : {"knn", "rbf"}, default "knn"
        ``"knn"``: sparse k-nearest-neighbour graph (scales to 10^5 candidates), started
        from the distance-weighted prior (see ``prior_gamma``); ``"rbf"``: the dense RBF
        graph of scikit-learn's defaults (the original PDC, O(N^2)).
    n_neighbors : int, default 10
        Neighbours per candidate for ``graph="knn"``.
    gamma : float, optional
        RBF inverse squared length scale in standardised units; default 20 for
        ``"rbf"`` (scikit-learn's) and adaptive for ``"knn"``.
    alpha : float, default 0.2
        Label spreading's clamping factor (scikit-learn's default).
    max_iter : int, optional
        Iteration cap; default 1000 (propagation) / 30 (spreading) for ``"rbf"`` as in
        scikit-learn, 15 for ``"knn"`` (which starts from the prior, so a few smoothing
        steps near the boundaries suffice).
    tol : float, default 1e-3
        Convergence tolerance (summed change for ``"rbf"``, largest change for ``"knn"``).
    score : {"least_confident", "margin", "entropy", "random"}
    coexistence : {"auto", True, False}, default "auto"
        Treat ``"A+B"`` labels as coexisting phases (see the module docstring); "auto"
        turns it on when a measured label contains ``"+"``.
    one_parameter_at_a_time : bool, default False
        Propose only candidates that share at least one coordinate with the previous
        measured point (PDC's parameter constraint); falls back to all when none does.
    prior_gamma : float, default 10
        ``graph="knn"``: how far a measurement informs the starting estimate. A candidate
        at standardised distance ``d`` from the nearest measured one starts from
        ``w = exp(-prior_gamma d^2)`` times that label plus ``1 - w`` times "unknown"
        (uniform over the classes), so candidates that no measurement reaches stay
        uncertain and get measured: the sampler explores as well as refining boundaries.
        10 is half the original's RBF ``gamma`` (``w = 1/2`` at ``d = 0.26``); ``0``
        gives the plain nearest-label start, which never explores.
    batch : {"ranked", "neighbour_exclusion"}, default "ranked"
        How :meth:`suggest` picks several proposals at once (its default).
    k : int, default 1
        Exclusion radius order for ``batch="neighbour_exclusion"`` (its default).
    until_two_phases : {"raise", "random"}, default "raise"
        What :meth:`suggest` does while fewer than two phases are measured (uncertainty
        is undefined then): raise :class:`MIInputError`, or propose at random (what a
        :class:`~mi_widgets.active.campaign.Campaign` needs to start from any design).
    random_state : int or numpy.random.Generator, optional
        For ``score="random"``.

    Attributes
    ----------
    classes_ : ndarray
        The labels measured so far, sorted.
    proba_ : ndarray, shape (n, n_classes)
        Estimated class probabilities of every candidate.
    uncertainty_ : ndarray, shape (n,)
        Uncertainty score of every candidate (0 for measured ones).

    Examples
    --------
    >>> x = np.linspace(0.0, 1.0, 11)[:, None]
    >>> sampler = PhaseDiagramSampler(x)
    >>> sampler.tell([0, 10], ["alpha", "beta"])
    >>> int(sampler.suggest()[0])
    5
    >>> sampler.predict()[:3]
    array(['alpha', 'alpha', 'alpha'], dtype='<U5')
    """

    def __init__(
        self,
        candidates: Any,
        *,
        estimator: str = "label_propagation",
        graph: str = "knn",
        n_neighbors: int = 10,
        gamma: float | None = None,
        alpha: float = 0.2,
        max_iter: int | None = None,
        tol: float = 1e-3,
        score: str = "least_confident",
        coexistence: str | bool = "auto",
        one_parameter_at_a_time: bool = False,
        prior_gamma: float = 10.0,
        batch: str = "ranked",
        k: int = 1,
        until_two_phases: str = "raise",
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.candidates = _check_candidates(candidates)
        self.estimator = check_choice(estimator, "estimator", ESTIMATORS)
        self.graph = check_choice(graph, "graph", GRAPHS)
        self.n_neighbors = check_positive_int(n_neighbors, "n_neighbors")
        self.gamma = gamma
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.score = check_choice(score, "score", SCORES)
        self.coexistence = check_choice(coexistence, "coexistence", ["auto", True, False])
        self.one_parameter_at_a_time = bool(one_parameter_at_a_time)
        self.prior_gamma = _check_nonnegative(prior_gamma, "prior_gamma")
        self.batch = check_choice(batch, "batch", BATCHES)
        self.k = check_positive_int(k, "k")
        self.until_two_phases = check_choice(
            until_two_phases, "until_two_phases", ["raise", "random"]
        )
        self.random_state = random_state
        self.features_ = StandardScaler().fit_transform(self.candidates)
        self._operator = None
        self._tree = None
        self.reset()

    # ----------------------------------------------------------------- state
    def reset(self) -> None:
        """Forget every measurement and restart the random stream (the graph is kept)."""
        n = len(self.candidates)
        self._labels = np.full(n, None, dtype=object)
        self._measured = np.zeros(n, dtype=bool)
        self.order_: list[int] = []
        self._fitted = False
        self._rng = np.random.default_rng(self.random_state)
        self._suggestion: tuple | None = None

    @property
    def n_candidates(self) -> int:
        """Number of candidates."""
        return len(self.candidates)

    @property
    def labelled_mask(self) -> np.ndarray:
        """Boolean mask of measured candidates."""
        return self._measured.copy()

    @property
    def measured_mask(self) -> np.ndarray:
        """Boolean mask of measured candidates (the :class:`CandidateSampler` name)."""
        return self._measured.copy()

    @property
    def n_phases_measured(self) -> int:
        """How many distinct labels are measured so far."""
        return len({str(v) for v in self._labels[self._measured].tolist()})

    @property
    def labels(self) -> np.ndarray:
        """Measured label per candidate (``None`` when unmeasured), an object array."""
        return self._labels.copy()

    def tell(self, indices: Any, labels: Any) -> None:
        """Record measured phase labels (an ``"A+B"`` string for coexisting phases).

        Measuring a candidate again overwrites its label.

        Parameters
        ----------
        indices : int or sequence of int
            Candidate indices, ``0 <= i < n``.
        labels : label or sequence of labels
            Integers or non-empty strings, one per index.

        Examples
        --------
        >>> s = PhaseDiagramSampler(np.arange(4.0)[:, None])
        >>> s.tell([0, 3], ["L", "L+S"])
        >>> s.labels.tolist()
        ['L', None, None, 'L+S']
        """
        idx = _check_indices(indices, self.n_candidates)
        values = _check_labels(labels, len(idx))
        self._labels[idx] = values
        self._measured[idx] = True
        for i in idx:
            if i in self.order_:
                self.order_.remove(int(i))
            self.order_.append(int(i))
        self._fitted = False
        self._suggestion = None

    # ------------------------------------------------------------------- fit
    def fit(self) -> PhaseDiagramSampler:
        """Estimate the phase probabilities of every candidate from the measurements.

        Called automatically by :meth:`predict`, :meth:`suggest`, ``proba_``.

        Returns
        -------
        PhaseDiagramSampler
        """
        labelled = self.labelled_mask
        if not labelled.any():
            raise MIInputError("No candidate is measured yet; tell() at least two phases first.")
        measured = self._labels[labelled]
        self.classes_ = _sorted_classes(measured)
        class_index = {c: i for i, c in enumerate(self.classes_.tolist())}
        codes = np.full(self.n_candidates, -1)
        text = self.classes_.dtype.kind not in "iu"  # mixed ints and names compare as text
        codes[labelled] = [class_index[str(v) if text else v] for v in measured]
        self.coexistence_ = self._use_coexistence(measured)
        if self.coexistence_:
            self._proba, self.phases_, self.phase_proba_ = self._fit_coexistence(codes, labelled)
        else:
            targets = np.zeros((self.n_candidates, len(self.classes_)))
            targets[labelled, codes[labelled]] = 1.0
            fill = 1.0 / len(self.classes_)
            dist = self._propagate(targets, labelled, normalise=self.graph == "rbf", fill=fill)
            self._proba = _normalise_rows(dist)
            self.phases_, self.phase_proba_ = self.classes_, self._proba
        self._fitted = True
        return self

    def _use_coexistence(self, measured: np.ndarray) -> bool:
        if self.coexistence == "auto":
            return any(isinstance(v, str) and "+" in v for v in measured)
        return bool(self.coexistence)

    def _fit_coexistence(self, codes: np.ndarray, labelled: np.ndarray):
        phase_sets = [split_assemblage(c) for c in self.classes_.tolist()]
        phases = np.array(sorted(set().union(*phase_sets)))
        phase_index = {p: i for i, p in enumerate(phases.tolist())}
        membership = np.zeros((len(self.classes_), len(phases)))
        for a, members in enumerate(phase_sets):
            membership[a, [phase_index[p] for p in members]] = 1.0
        n_phases = len(phases)
        present = membership[codes[labelled]]
        if self.estimator == "label_propagation" and self.graph == "knn":
            # D^-1 W keeps present + absent = 1 exactly: propagate presence alone
            targets = np.zeros((self.n_candidates, n_phases))
            targets[labelled] = present
            phase_proba = self._propagate(targets, labelled, normalise=False, fill=0.5)
        else:
            targets = np.zeros((self.n_candidates, 2 * n_phases))
            targets[labelled, :n_phases] = present
            targets[labelled, n_phases:] = 1.0 - present
            dist = self._propagate(targets, labelled, normalise=True, fill=0.5)
            total = dist[:, :n_phases] + dist[:, n_phases:]
            phase_proba = np.divide(
                dist[:, :n_phases], total, out=np.full_like(total, 0.5), where=total > 0
            )
        p = np.clip(phase_proba, 1e-9, 1 - 1e-9)
        log_absent = np.log1p(-p)
        logit = np.log(p) - log_absent
        base = _row_sum(log_absent)
        log_like = np.empty((self.n_candidates, len(self.classes_)))
        for a in range(len(self.classes_)):  # few assemblages: no BLAS call for a thin product
            log_like[:, a] = base + _row_sum(logit[:, membership[a] > 0])
        log_like -= _row_max(log_like)[:, np.newaxis]
        proba = np.exp(log_like)
        proba /= _row_sum(proba)[:, np.newaxis]
        return proba, phases, phase_proba

    def _propagate(
        self, targets: np.ndarray, labelled: np.ndarray, *, normalise: bool, fill: float
    ) -> np.ndarray:
        operator = self._graph_operator()
        if self.graph == "rbf":
            default_iter = 1000 if self.estimator == "label_propagation" else 30
            result = propagate(
                operator,
                targets,
                labelled,
                estimator=self.estimator,
                alpha=self.alpha,
                max_iter=self.max_iter or default_iter,
                tol=self.tol,
            )
        else:
            prior = self._prior(targets, labelled, fill)
            result = propagate(
                operator,
                # spreading: the prior is the soft label of every unmeasured candidate
                targets if self.estimator == "label_propagation" else prior,
                labelled,
                estimator=self.estimator,
                alpha=self.alpha,
                max_iter=self.max_iter or 15,
                tol=self.tol,
                start=prior,
                stopping="max",
                normalise=normalise,
            )
        self.n_iter_ = result.n_iter
        return result.distributions

    def _prior(self, targets: np.ndarray, labelled: np.ndarray, fill: float) -> np.ndarray:
        """Each candidate's starting estimate: its nearest measurement, fading to ``fill``.

        ``w = exp(-prior_gamma d^2)`` with ``d`` the standardised distance to the nearest
        measured candidate; the row is ``w`` times that candidate's label plus ``1 - w``
        times the uninformed value (``1/c`` per class, 0.5 per phase presence), so a
        candidate no measurement reaches starts (and stays) uncertain.
        """
        nearest = self._nearest_labelled(labelled)
        weight = np.exp(-self.prior_gamma * self._voronoi[2])[:, np.newaxis]
        prior = weight * targets[nearest] + (1.0 - weight) * fill
        prior[labelled] = targets[labelled]
        return prior

    def _graph_operator(self):
        if self._operator is None:
            if self.graph == "rbf":
                affinity = rbf_affinity(self.features_, 20.0 if self.gamma is None else self.gamma)
            else:
                affinity = knn_affinity(self.features_, self.n_neighbors, self.gamma)
            self._operator = propagation_operator(affinity, self.estimator)
        return self._operator

    def _nearest_labelled(self, labelled: np.ndarray) -> np.ndarray:
        """Index of each candidate's nearest measured candidate (updated incrementally)."""
        measured = np.flatnonzero(labelled)
        cache = getattr(self, "_voronoi", None)
        if (
            cache is not None
            and np.isin(cache[0], measured).all()
            and len(measured) - len(cache[0]) <= 8
        ):
            known, nearest, dist2 = cache
            for i in np.setdiff1d(measured, known):  # a few new points: O(N) each
                d2 = ((self.features_ - self.features_[i]) ** 2).sum(axis=1)
                closer = d2 < dist2
                nearest, dist2 = np.where(closer, i, nearest), np.where(closer, d2, dist2)
        else:
            distance, position = cKDTree(self.features_[measured]).query(self.features_)
            nearest, dist2 = measured[position], distance**2
        self._voronoi = (measured, nearest, dist2)
        return nearest

    def _ensure_fitted(self) -> None:
        if not self._fitted:
            self.fit()

    @property
    def proba_(self) -> np.ndarray:
        """Estimated probability of each measured class, shape (n, n_classes)."""
        self._ensure_fitted()
        return self._proba

    @property
    def uncertainty_(self) -> np.ndarray:
        """Uncertainty score of every candidate in [0, 1]; 0 for measured candidates."""
        self._ensure_fitted()
        score = "least_confident" if self.score == "random" else self.score
        values = uncertainty_scores(self.proba_, score)
        values[self.labelled_mask] = 0.0
        return values

    @property
    def scores_(self) -> np.ndarray:
        """The ranking score of every candidate: its uncertainty (see ``uncertainty_``).

        Before any measurement every candidate scores 1 (nothing is known).
        """
        if not self._measured.any():
            return np.ones(self.n_candidates)
        return self.uncertainty_

    @property
    def confidence_(self) -> np.ndarray:
        """Largest class probability of every candidate."""
        self._ensure_fitted()
        return self.proba_.max(axis=1)

    def predict(self) -> np.ndarray:
        """The most probable label of every candidate (measured ones keep their label).

        Returns
        -------
        ndarray, shape (n,)
        """
        self._ensure_fitted()
        predicted = self.classes_[np.argmax(self.proba_, axis=1)]
        return predicted

    # --------------------------------------------------------------- suggest
    def suggest(
        self,
        n: int = 1,
        *,
        batch: str | None = None,
        k: int | None = None,
        score: str | None = None,
        previous: int | None = None,
    ) -> np.ndarray:
        """Propose the next candidate(s) to measure.

        Parameters
        ----------
        n : int, default 1
            How many proposals (for parallel experiments).
        batch : {"ranked", "neighbour_exclusion"}, optional
            Default: the sampler's ``batch``. ``"ranked"``: the ``n`` most uncertain;
            ``"neighbour_exclusion"``: walk down the ranking and skip candidates within
            ``delta`` of an accepted one, where ``delta`` is the ``k``-th smallest distinct
            distance from the first
            candidate in standardised units (as in PDC).
        k : int, optional
            Exclusion radius order for ``"neighbour_exclusion"`` (default: the sampler's).
        score : str, optional
            Overrides the sampler's score for this call.
        previous : int, optional
            The previous point for ``one_parameter_at_a_time`` (default: the last
            measured one).

        Returns
        -------
        ndarray of int, shape (n,)
            Asked again before anything new is told, the same proposals (also for
            ``score="random"``), so highlighted proposals are the ones measured.

        Raises
        ------
        MIInputError
            When ``n`` exceeds the unmeasured candidates, or when uncertainty sampling is
            asked for with fewer than two phases measured (``until_two_phases="raise"``).
        """
        score = check_choice(self.score if score is None else score, "score", SCORES)
        batch = check_choice(self.batch if batch is None else batch, "batch", BATCHES)
        unlabelled = np.flatnonzero(~self._measured)
        n = check_positive_int(n, "n", maximum=max(len(unlabelled), 1))
        if len(unlabelled) == 0:
            raise MIInputError("Every candidate is measured already; there is nothing to propose.")
        k = check_positive_int(self.k if k is None else k, "k")
        if self.until_two_phases == "random" and self.n_phases_measured < 2:
            score = "random"
        key = (n, batch, k, score, previous)
        if self._suggestion is not None and self._suggestion[0] == key:
            return self._suggestion[1].copy()
        ranking = self._ranking(unlabelled, score, previous, n if batch == "ranked" else 0)
        if batch == "ranked":
            chosen = ranking[:n]
        else:
            chosen = self._exclude_neighbours(ranking, n, k)
        self.last_suggestion_ = np.asarray(chosen, dtype=int)
        self._suggestion = (key, self.last_suggestion_.copy())
        return self.last_suggestion_.copy()

    def _ranking(
        self, unlabelled: np.ndarray, score: str, previous: int | None, n: int = 0
    ) -> np.ndarray:
        if score == "random":
            ranking = self._rng.permutation(unlabelled)
        else:
            self._ensure_fitted()
            if len(self.classes_) < 2:
                only = self.classes_[0]
                raise MIInputError(
                    f"Only one phase ({only}) is measured so far; uncertainty sampling needs "
                    "two - measure a few more points (e.g. with score='random') first."
                )
            values = uncertainty_scores(self.proba_[unlabelled], score)
            if self.graph == "rbf":  # the original's rule: the first of the largest
                if n == 1 and not self.one_parameter_at_a_time:
                    return unlabelled[[int(np.argmax(values))]]
                ranking = unlabelled[np.argsort(-values, kind="stable")]
            else:  # equal uncertainty: the candidate farthest from any measurement first
                values = np.round(values, 12)
                far = self._voronoi[2][unlabelled]
                if n == 1 and not self.one_parameter_at_a_time:
                    tied = np.flatnonzero(values == values.max())
                    return unlabelled[[int(tied[np.argmax(far[tied])])]]
                ranking = unlabelled[np.lexsort((-far, -values))]
        if self.one_parameter_at_a_time:
            ranking = self._constrain(ranking, previous)
        return ranking

    def _constrain(self, ranking: np.ndarray, previous: int | None) -> np.ndarray:
        if previous is None:
            if not self.order_:
                return ranking
            previous = self.order_[-1]
        previous = _check_indices(previous, self.n_candidates)[0]
        shares = (self.candidates[ranking] == self.candidates[previous]).any(axis=1)
        if not shares.any():
            return ranking
        return np.concatenate([ranking[shares], ranking[~shares]])

    def _exclude_neighbours(self, ranking: np.ndarray, n: int, k: int) -> np.ndarray:
        z = self.features_
        from_first = np.unique(np.round(np.linalg.norm(z - z[0], axis=1), 5))
        delta = from_first[min(k, len(from_first) - 1)]
        excluded = np.zeros(len(ranking), dtype=bool)
        chosen: list[int] = []
        while len(chosen) < n and not excluded.all():
            pos = int(np.argmax(~excluded))
            chosen.append(int(ranking[pos]))
            near = np.round(np.linalg.norm(z[ranking] - z[ranking[pos]], axis=1), 5) <= delta
            excluded |= near
        if len(chosen) < n:  # everything left is near an accepted point: fill by rank
            rest = ranking[~np.isin(ranking, chosen)]
            chosen.extend(int(i) for i in rest[: n - len(chosen)])
        return np.array(chosen, dtype=int)


# --------------------------------------------------------------------- checks
def _check_candidates(candidates: Any) -> np.ndarray:
    array = check_finite_array(candidates, "candidates", ndim=(1, 2), min_size=2)
    if array.ndim == 1:
        array = array[:, None]
    if len(array) < 2:
        raise MIInputError(f"candidates needs at least 2 rows; got {len(array)}.")
    _, first, counts = np.unique(array, axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
        row = array[first[np.argmax(counts > 1)]]
        dupes = np.flatnonzero((array == row).all(axis=1))
        raise MIInputError(
            f"candidates {dupes[0]} and {dupes[1]} are the same point {row.tolist()}; "
            "remove duplicated rows."
        )
    return array


def _check_nonnegative(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise MIInputError(f"{name} must be a number >= 0; got {value!r}.")
    if not np.isfinite(value) or value < 0:
        raise MIInputError(f"{name} must be a finite number >= 0; got {value!r}.")
    return float(value)


def _check_indices(indices: Any, n: int) -> np.ndarray:
    idx = np.atleast_1d(np.asarray(indices))
    if idx.dtype.kind not in "iu":
        if idx.dtype.kind == "f" and np.all(np.isfinite(idx)) and np.all(idx == np.round(idx)):
            idx = idx.astype(int)
        else:
            raise MIInputError(f"indices must be whole numbers; got {indices!r}.")
    bad = (idx < 0) | (idx >= n)
    if bad.any():
        raise MIInputError(
            f"index {int(idx[bad][0])} is not a candidate; indices run from 0 to {n - 1}."
        )
    return idx.astype(int)


def _check_labels(labels: Any, n: int) -> list:
    values = [labels] if isinstance(labels, (str, int, np.integer)) else list(labels)
    if len(values) != n:
        raise MIInputError(f"Got {n} indices but {len(values)} labels; give one label per index.")
    checked = []
    for value in values:
        if isinstance(value, (bool, np.bool_)):
            raise MIInputError(f"labels must be phase names or integers; got {value!r}.")
        if isinstance(value, (int, np.integer)):
            checked.append(int(value))
        elif isinstance(value, str) and value.strip():
            checked.append(value.strip())
        else:
            raise MIInputError(f"labels must be phase names or integers; got {value!r}.")
    return checked


def _sorted_classes(measured: np.ndarray) -> np.ndarray:
    values = list(measured)
    if all(isinstance(v, int) for v in values):
        return np.unique(np.array(values, dtype=int))
    return np.unique(np.array([str(v) for v in values]))


def _row_sum(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=1)`` column by column (faster for the few columns of class tables)."""
    if x.shape[1] == 0 or x.shape[1] > 32:
        return x.sum(axis=1)
    out = x[:, 0].copy()
    for j in range(1, x.shape[1]):
        out += x[:, j]
    return out


def _row_max(x: np.ndarray) -> np.ndarray:
    """``x.max(axis=1)`` column by column (faster for the few columns of class tables)."""
    if x.shape[1] == 0 or x.shape[1] > 32:
        return x.max(axis=1)
    out = x[:, 0].copy()
    for j in range(1, x.shape[1]):
        np.maximum(out, x[:, j], out=out)
    return out


def _normalise_rows(dist: np.ndarray) -> np.ndarray:
    normalizer = dist.sum(axis=1, keepdims=True)
    normalizer[normalizer == 0] = 1
    return dist / normalizer
