"""Train the classifier that lab 07 ships, ``data/local_structure_classifier.npz``.

Training atoms: ideal fcc, hcp and bcc lattices with Gaussian random
displacements of rms 0 to 0.22 nearest-neighbour distances (12 amplitudes x 4
seeds x 400 atoms each), and the EMT copper liquid at 1800 K from
``data/local_structures_cu.extxyz``; classes balanced by resampling. Features:
``local_structure_features(kind="all")`` (scale-free). Network: hidden layers
of 128 and 64 ReLU units, Adam, early stopping on a 10 % split, seed 2027.
Nothing the tests evaluate on (MD crystals at any temperature, the 1400 K
liquid, gold) is seen in training. Run from the repository root::

    nice python scripts/train_local_structure_classifier.py
"""

from __future__ import annotations

import hashlib
import time

import numpy as np

from mi_widgets.local_structure.study import shipped_model_path, train_classifier, training_frames

SEED = 2027
#: rms displacements (nearest-neighbour distances): sparse below 0.1, dense where classes blur.
AMPLITUDES = (*np.linspace(0.0, 0.1, 4), *np.linspace(0.12, 0.22, 8))


def main() -> None:
    """Train, save and print the sha256 of the model file."""
    start = time.perf_counter()
    rng = np.random.default_rng(SEED)
    frames = []
    for _ in range(4):  # four seeds of every amplitude; the liquid frames come once
        crystals = training_frames("displacement", amplitudes=AMPLITUDES,
                                   random_state=int(rng.integers(2**31)))  # fmt: skip
        frames += [f for f in crystals if f.info.get("phase") != "liquid"]
    frames += [f for f in crystals if f.info.get("phase") == "liquid"]
    model = train_classifier(frames, hidden_layer_sizes=(128, 64), random_state=SEED)
    path = shipped_model_path()
    model.save(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    print(f"{path}: {model.n_iter_} epochs, {time.perf_counter() - start:.0f} s")
    print(f"sha256 {digest}")


if __name__ == "__main__":
    main()
