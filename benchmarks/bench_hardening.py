"""Bad inputs against every loader and the structure core: clear, unclear, hangs, wrong.

Runs a seeded corpus (valid files with random edits, random bytes) through every loader
and upload path, plus the hand-made inputs of the hardening issue, and counts the
outcomes. With ``--before PATH`` it runs the same loader corpus against another checkout
(e.g. the main branch) in a subprocess and prints both side by side.

usage: nice -n 10 python benchmarks/bench_hardening.py [--before /work/main] [--n 100]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTCOMES = ("loaded", "clear", "unclear", "crash", "wrong", "hang")
TIMEOUT_S = 5


class _Hang(BaseException):  # not caught by the code under test
    pass


def _alarm(_signum, _frame):
    raise _Hang


def _run(call, timeout: int = TIMEOUT_S) -> tuple[str, str]:
    """Run ``call()`` (returns an outcome) with a wall-clock alarm: past it, a hang."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        return call()
    except _Hang:
        return "hang", f"no answer in {timeout} s"
    finally:
        signal.alarm(0)


def loader_corpus(n_mutations: int, n_random: int, seed: int = 0) -> dict[str, Counter]:
    """Outcome counts per loader over the seeded corpus (runs in this process)."""
    import numpy as np
    from fuzz_corpus import LOADERS, NASTY, SEEDS, mutate, verdict

    rng = np.random.default_rng(seed)
    counts: dict[str, Counter] = {}
    for name, loader in LOADERS.items():
        tally = Counter()
        inputs = []
        for _ in range(n_mutations):
            edits = [
                tuple(int(v) for v in rng.integers([0, 0, 0, 0], [4, 10_000, 200, len(NASTY)]))
                for _ in range(int(rng.integers(1, 5)))
            ]
            inputs.append(mutate(SEEDS[loader.seed], edits))
        for _ in range(n_random):
            inputs.append(rng.bytes(int(rng.integers(0, 512))))
        for content in inputs:
            outcome, _detail = _run(lambda c=content, ld=loader: verdict(ld, c))
            tally[outcome] += 1
        counts[name] = tally
    return counts


def issue_inputs() -> list[tuple[str, object]]:
    """The hardening issue's inputs for the structure code: (description, thunk)."""
    import numpy as np
    from ase.build import bulk

    from mi_widgets.structure.descriptors import laaf_descriptor, steinhardt
    from mi_widgets.structure.io import read_frames, read_structure
    from mi_widgets.structure.rdf import coordination_numbers, nearest_neighbor_distance, rdf
    from mi_widgets.structure.stillinger_weber import StillingerWeber

    dump = (
        b"ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n{n}\nITEM: BOX BOUNDS pp pp pp\n"
        b"0 10\n0 10\n0 10\nITEM: ATOMS id type x y z\n1 1 0 0 0\n"
    )

    def tiny(length):
        atoms = bulk("Si", "diamond", a=5.431, cubic=True)
        atoms.set_cell(atoms.cell * (length / 5.431), scale_atoms=True)
        return atoms

    si = bulk("Si", "diamond", a=5.431, cubic=True)
    twin = si + si[:1]
    nan_cell = si.copy()
    nan_cell.cell[0, 0] = np.nan
    cases = [
        (
            "xyz claiming 1e9 atoms",
            lambda: read_frames(b"1000000000\n\nH 0 0 0\n", filename="a.xyz"),
        ),
        (
            "dump claiming 1e9 atoms",
            lambda: read_frames(dump.replace(b"{n}", b"1000000000"), filename="a.dump"),
        ),
        (
            "dump claiming 1e7 atoms, 1 line",
            lambda: read_frames(dump.replace(b"{n}", b"10000000"), filename="a.dump"),
        ),
        (
            "POSCAR claiming 1e9 atoms",
            lambda: read_frames(
                b"Si\n1\n5 0 0\n0 5 0\n0 0 5\nSi\n1000000000\nDirect\n0 0 0\n", filename="POSCAR"
            ),
        ),
        ("rdf r_max=1000", lambda: rdf(si, r_max=1000)),
        ("NaN cell, rdf", lambda: rdf(nan_cell)),
        ("duplicated atom, coordination", lambda: coordination_numbers(twin)),
        ("duplicated atom, nearest distance", lambda: nearest_neighbor_distance(twin)),
        ("duplicated atom, SW energy", lambda: StillingerWeber().get_potential_energy(twin)),
        ("duplicated atom, Steinhardt", lambda: steinhardt(twin, n_neighbors=4)),
    ]
    for length in (0.01, 0.05):
        atoms = tiny(length)
        cases += [
            (f"{length} A cell, rdf", lambda a=atoms: rdf(a)),
            (f"{length} A cell, coordination", lambda a=atoms: coordination_numbers(a)),
            (f"{length} A cell, Steinhardt", lambda a=atoms: steinhardt(a, n_neighbors=4)),
            (
                f"{length} A cell, LAAF",
                lambda a=atoms: laaf_descriptor(a, [1.0], r_cut=3.0, r_avg=3.0),
            ),
            (
                f"{length} A cell, SW energy",
                lambda a=atoms: StillingerWeber().get_potential_energy(a),
            ),
        ]
    import io

    from ase.io import write

    buffer = io.StringIO()
    write(buffer, tiny(0.05), format="vasp")
    cases.append(
        (
            "0.05 A POSCAR upload",
            lambda: read_structure(buffer.getvalue().encode(), filename="POSCAR"),
        )
    )
    return cases


def run_issue_inputs(verbose: bool = True) -> Counter:
    from fuzz_corpus import unclear_reason

    from mi_widgets._errors import MIInputError

    tally = Counter()
    for description, thunk in issue_inputs():

        def call(thunk=thunk):
            try:
                result = thunk()
            except MIInputError as error:
                reason = unclear_reason(str(error))
                return ("unclear", reason) if reason else ("clear", str(error))
            except Exception as error:  # any other exception is a finding
                return "crash", repr(error)
            return "wrong", f"returned {result!r:.60}"  # each of these inputs must be refused

        outcome, detail = _run(call)
        tally[outcome] += 1
        if verbose:
            print(f"  {description:38s} {outcome:8s} {detail[:110]}")
    return tally


def _table(title: str, rows: dict[str, Counter]) -> None:
    print(f"\n{title}")
    print(f"{'loader':30s} " + " ".join(f"{o:>7s}" for o in ("tried", *OUTCOMES)))
    total = Counter()
    for name, tally in rows.items():
        total.update(tally)
        print(
            f"{name:30s} {sum(tally.values()):7d} " + " ".join(f"{tally[o]:7d}" for o in OUTCOMES)
        )
    print(f"{'all':30s} {sum(total.values()):7d} " + " ".join(f"{total[o]:7d}" for o in OUTCOMES))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100, help="mutated inputs per loader")
    parser.add_argument("--random", type=int, default=40, help="random-byte inputs per loader")
    parser.add_argument("--before", type=Path, default=None, help="another checkout to compare")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # a bad input must not take the machine down with it
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
    sys.path.insert(0, str(ROOT / "tests"))
    if args.json:
        counts = loader_corpus(args.n, args.random)
        issue = run_issue_inputs(verbose=False)
        print(json.dumps({"issue": dict(issue), **{k: dict(v) for k, v in counts.items()}}))
        return
    started = time.perf_counter()
    print("The hardening issue's inputs (structure code), this checkout:")
    issue = run_issue_inputs()
    print("  " + ", ".join(f"{o} {issue[o]}" for o in OUTCOMES) + f" (of {sum(issue.values())})")
    counts = loader_corpus(args.n, args.random)
    _table(
        f"Loader corpus ({args.n} mutated + {args.random} random inputs each), this checkout",
        counts,
    )
    if args.before is not None:
        env = dict(os.environ, PYTHONPATH=f"{args.before}{os.pathsep}{ROOT / 'tests'}")
        out = subprocess.run(
            [sys.executable, __file__, "--json", f"--n={args.n}", f"--random={args.random}"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=args.before,
        ).stdout
        before = {name: Counter(tally) for name, tally in json.loads(out.splitlines()[-1]).items()}
        issue_before = before.pop("issue")
        _table(f"Same corpus, {args.before}", before)
        print(
            f"\nThe issue's inputs on {args.before}: "
            + ", ".join(f"{o} {issue_before[o]}" for o in OUTCOMES)
            + f" (of {sum(issue_before.values())})"
        )
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
