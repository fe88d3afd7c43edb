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
#: A refusal or load slower than this (s) is counted as slow (still in its outcome column).
SLOW_S = 1.0


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


def _corpus_inputs(seed: bytes, seed_key: str, n_mutations: int, n_random: int, rng):
    """Mutated seed files, random bytes and the hand-made lies, in a fixed order."""
    from fuzz_corpus import NASTY, hostile_inputs, mutate

    inputs = []
    for _ in range(n_mutations):
        edits = [
            tuple(int(v) for v in rng.integers([0, 0, 0, 0], [4, 10_000, 200, len(NASTY)]))
            for _ in range(int(rng.integers(1, 5)))
        ]
        inputs.append(mutate(seed, edits))
    inputs += [rng.bytes(int(rng.integers(0, 512))) for _ in range(n_random)]
    return inputs + hostile_inputs(seed_key)


def _timed(call, timeout: int = TIMEOUT_S) -> tuple[str, str, float]:
    started = time.perf_counter()
    outcome, detail = _run(call, timeout)
    return outcome, detail, time.perf_counter() - started


def loader_corpus(
    n_mutations: int, n_random: int, seed: int = 0, examples: dict | None = None
) -> dict[str, Counter]:
    """Outcome counts per loader over the seeded corpus (runs in this process).

    Each tally also holds ``max_ms``, the slowest call in milliseconds. ``examples``
    (if given) collects one detail per loader and bad outcome.
    """
    import numpy as np
    from fuzz_corpus import LOADERS, SEEDS, verdict

    rng = np.random.default_rng(seed)
    counts: dict[str, Counter] = {}
    for name, loader in LOADERS.items():
        inputs = _corpus_inputs(SEEDS[loader.seed], loader.seed, n_mutations, n_random, rng)
        counts[name] = _tally(name, inputs, lambda c, ld=loader: verdict(ld, c), examples)
    return counts


def _tally(name: str, inputs, judge, examples: dict | None) -> Counter:
    """Outcome counts of ``judge(content)`` over ``inputs``, with ``slow`` and ``max_ms``."""
    tally, slowest = Counter(), 0.0
    for content in inputs:
        outcome, detail, took = _timed(lambda c=content: judge(c))
        tally[outcome] += 1
        tally["slow"] += took > SLOW_S
        slowest = max(slowest, took)
        _note(examples, name, outcome, detail, content)
        if took > SLOW_S:
            _note(examples, name, f"slow ({outcome})", f"{took:.2f} s: {detail}", content)
    tally["max_ms"] = round(1000 * slowest)
    return tally


def _note(examples: dict | None, name: str, outcome: str, detail: str, content: bytes) -> None:
    if examples is not None and outcome not in ("loaded", "clear"):  # slow ones come labelled
        examples.setdefault(f"{name} / {outcome}", []).append(f"{detail[:300]} <- {content[:80]!r}")


def app_corpus(
    n_mutations: int, n_random: int, seed: int = 0, examples: dict | None = None
) -> dict[str, Counter]:
    """Outcome counts per in-app upload path (banner, kept state, escaped names).

    After the corpus, the path's valid seed file is uploaded again: if the app refuses
    it, the tally counts one ``unusable``.
    """
    import numpy as np
    from fuzz_apps import UPLOAD_PATHS, ready_app, still_usable, upload_verdict
    from fuzz_corpus import SEEDS

    rng = np.random.default_rng(seed)
    counts: dict[str, Counter] = {}
    for name, path in UPLOAD_PATHS.items():
        app = ready_app(path)
        inputs = _corpus_inputs(SEEDS[path.seed], path.seed, n_mutations, n_random, rng)
        tally = _tally(name, inputs, lambda c, p=path, a=app: upload_verdict(p, a, c), examples)
        refused = still_usable(path, app)
        if refused:
            tally["unusable"] += 1
            _note(examples, name, "unusable", refused, SEEDS[path.seed])
        counts[name] = tally
    return counts


def limit_uploads(timeout: int = 60) -> dict[str, list]:
    """Each text upload button given its seed file repeated to just under the 20 MB limit.

    Returns ``{path: [outcome, seconds, megabytes]}`` (past ``timeout`` s: a hang).
    """
    from fuzz_apps import UPLOAD_PATHS, ready_app, upload_verdict
    from fuzz_corpus import SEEDS

    from mi_widgets._limits import UPLOAD_LIMIT_BYTES

    found = {}
    for name, path in UPLOAD_PATHS.items():
        seed = SEEDS[path.seed]
        if seed.startswith(b"PK"):
            continue  # archives: the hand-made lies cover them
        body = seed.partition(b"\n")[2]
        content = seed + body * ((UPLOAD_LIMIT_BYTES - 2**20 - len(seed)) // len(body))
        app = ready_app(path)
        outcome, _detail, took = _timed(
            lambda a=app, p=path, c=content: upload_verdict(p, a, c), timeout
        )
        if outcome == "hang":
            took = timeout
        found[name] = [outcome, round(took, 2), round(len(content) / 2**20, 1)]
    return found


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


def _table(title: str, rows: dict[str, Counter], before: dict[str, Counter] | None = None) -> None:
    """Print outcome counts per row, the slowest call, and (if given) the counts before."""
    print(f"\n{title}")
    head = ("tried", *OUTCOMES, "unusable", "> 1 s", "max ms")
    print(f"{'path':32s} " + " ".join(f"{o:>8s}" for o in head) + ("  before" if before else ""))
    total = Counter()
    for name, tally in rows.items():
        total.update({k: v for k, v in tally.items() if k != "max_ms"})
        total["max_ms"] = max(total["max_ms"], tally["max_ms"])
        print(_row(name, tally) + (f"  {_bad(before.get(name, Counter()))}" if before else ""))
    print(_row("all", total) + (f"  {_bad(_sum(before))}" if before else ""))


def _tried(tally: Counter) -> int:
    return sum(tally[o] for o in OUTCOMES)


def _row(name: str, tally: Counter) -> str:
    cells = [_tried(tally), *(tally[o] for o in OUTCOMES), tally["unusable"], tally["slow"]]
    cells.append(tally["max_ms"])
    return f"{name:32s} " + " ".join(f"{c:8d}" for c in cells)


def _bad(tally: Counter) -> str:
    """The bad outcomes of a tally, compactly (``-`` when none)."""
    parts = [f"{o} {tally[o]}" for o in ("unclear", "crash", "wrong", "hang", "unusable", "slow")
             if tally[o]]  # fmt: skip
    return (
        ", ".join(parts) + f" (max {tally['max_ms']} ms)"
        if parts
        else f"- (max {tally['max_ms']} ms)"
    )


def _sum(rows: dict[str, Counter]) -> Counter:
    total = Counter()
    for tally in rows.values():
        total.update({k: v for k, v in tally.items() if k != "max_ms"})
        total["max_ms"] = max(total["max_ms"], tally["max_ms"])
    return total


def _measure(args) -> dict:
    examples: dict[str, list[str]] = {}
    loaders = loader_corpus(args.n, args.random, examples=examples)
    apps = {} if args.no_apps else app_corpus(args.app_n, args.app_random, examples=examples)
    return {
        "issue": dict(run_issue_inputs(verbose=False)),
        "loaders": {k: dict(v) for k, v in loaders.items()},
        "apps": {k: dict(v) for k, v in apps.items()},
        "limit": {} if args.no_apps else limit_uploads(),
        "examples": examples,
    }


def _before(args) -> dict:
    env = dict(os.environ, PYTHONPATH=f"{args.before}{os.pathsep}{ROOT / 'tests'}")
    command = [sys.executable, __file__, "--json", f"--n={args.n}", f"--random={args.random}",
               f"--app-n={args.app_n}", f"--app-random={args.app_random}"]  # fmt: skip
    if args.no_apps:
        command.append("--no-apps")
    out = subprocess.run(
        command, env=env, capture_output=True, text=True, check=True, cwd=args.before
    ).stdout
    return json.loads(out.splitlines()[-1])


def _counters(rows: dict) -> dict[str, Counter]:
    return {name: Counter(tally) for name, tally in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100, help="mutated inputs per loader")
    parser.add_argument("--random", type=int, default=40, help="random-byte inputs per loader")
    parser.add_argument("--app-n", type=int, default=40, help="mutated uploads per app path")
    parser.add_argument("--app-random", type=int, default=10, help="random-byte uploads per path")
    parser.add_argument("--no-apps", action="store_true", help="loaders only")
    parser.add_argument("--before", type=Path, default=None, help="another checkout to compare")
    parser.add_argument("--examples", type=Path, default=None, help="write bad outcomes (JSON)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # a bad input must not take the machine down with it
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
    sys.path.insert(0, str(ROOT / "tests"))
    if args.json:
        print(json.dumps(_measure(args)))
        return
    started = time.perf_counter()
    print("The hardening issue's inputs (structure code), this checkout:")
    run_issue_inputs()
    after = _measure(args)
    before = _before(args) if args.before is not None else None
    if args.examples is not None:
        both = {"after": after["examples"], "before": before["examples"] if before else {}}
        args.examples.write_text(json.dumps(both, indent=1))
    inputs = f"{args.n} mutated + {args.random} random + the hand-made lies"
    _table(f"Loaders ({inputs} each); last column: {args.before}", _counters(after["loaders"]),
           _counters(before["loaders"]) if before else None)  # fmt: skip
    if after["apps"]:
        inputs = f"{args.app_n} mutated + {args.app_random} random + the hand-made lies"
        _table(f"In-app uploads ({inputs} each); last column: {args.before}",
               _counters(after["apps"]), _counters(before["apps"]) if before else None)  # fmt: skip
    if after["limit"]:
        print(f"\nAt the upload limit (the seed repeated); last column: {args.before}")
        for name, (outcome, took, size) in after["limit"].items():
            was = before["limit"].get(name) if before else None
            tail = f"   {was[0]} in {was[1]:.2f} s" if was else ""
            print(f"  {name:26s} {size:5.1f} MB  {outcome:8s} in {took:6.2f} s{tail}")
    print("\nThe issue's inputs: " + _bad(Counter(after["issue"]))
          + (f"; before: {_bad(Counter(before['issue']))}" if before else ""))  # fmt: skip
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
