"""Fuzzing every loader and upload path: each input loads correctly or gets one clear sentence.

Inputs are valid files with random edits (deleted runs, inserted or overwritten
edge-case tokens, cut-offs), raw bytes, and hand-made files that lie (NaN and huge
numbers, archives claiming 10^12 values or packing 200 MB of zeros). Every loader of
``tests/fuzz_corpus.py`` and every in-app upload button of ``tests/fuzz_apps.py`` is
covered; the apps get a representative subset here and the full corpus in
``benchmarks/bench_hardening.py``. Each example has a deadline and each test a
timeout, so a hang fails instead of blocking the suite.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from fuzz_apps import UPLOAD_PATHS, ready_app, still_usable, upload_verdict
from fuzz_corpus import LOADERS, NASTY, SEEDS, hostile_inputs, mutate, unclear_reason, verdict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mi_widgets._errors import MIInputError
from mi_widgets.viz.upload import read_upload, upload_button

EDITS = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.integers(0, 10_000),
        st.integers(0, 200),
        st.integers(0, len(NASTY) - 1),
    ),
    min_size=1,
    max_size=4,
)
FUZZ = settings(
    max_examples=25,
    deadline=timedelta(seconds=10),  # generous for a loaded 2-core machine; a hang is hours
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


def _check(name: str, content: bytes) -> None:
    outcome, detail = verdict(LOADERS[name], content)
    assert outcome in {"loaded", "clear"}, f"{name}: {outcome}: {detail} for {content[:200]!r}"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", sorted(LOADERS))
@FUZZ
@given(edits=EDITS)
def test_mutated_files_load_or_get_one_clear_sentence(name, edits):
    _check(name, mutate(SEEDS[LOADERS[name].seed], edits))


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", sorted(LOADERS))
@FUZZ
@given(content=st.binary(max_size=512))
def test_random_bytes_load_or_get_one_clear_sentence(name, content):
    _check(name, content)


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_seed_files_load(name):
    outcome, detail = verdict(LOADERS[name], SEEDS[LOADERS[name].seed])
    assert outcome == "loaded", detail


@pytest.mark.timeout(300)
@FUZZ
@given(
    name=st.one_of(st.text(max_size=300), st.integers(), st.none()),
    content=st.binary(max_size=256),
    declared=st.one_of(st.none(), st.integers(-(2**70), 2**70), st.text(max_size=8), st.floats()),
)
def test_any_upload_value_a_client_sends_is_read_or_refused(name, content, declared):
    """A scripted client can put anything in a FileUpload's value (names, sizes)."""
    upload = upload_button()
    entry = {"name": name, "type": "", "size": declared, "content": memoryview(content)}
    entry["last_modified"] = 0
    upload.set_state({"value": [entry]})
    try:
        uploaded = read_upload(upload)
    except MIInputError as error:
        assert unclear_reason(str(error)) is None, str(error)
        return
    assert uploaded.content == content and len(uploaded.name) <= 255


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(LOADERS))
def test_files_that_lie_get_one_clear_sentence(name):
    """NaN, infinite and huge numbers everywhere; archives that lie about their sizes."""
    for content in hostile_inputs(LOADERS[name].seed, long=False):
        _check(name, content)


def _app_inputs(seed_key: str, n: int = 4) -> list[bytes]:
    """A representative subset for an app: mutated seeds, random bytes, the lies."""
    rng = np.random.default_rng(12)
    mutated = [
        mutate(SEEDS[seed_key], [tuple(int(v) for v in rng.integers(0, [4, 10_000, 200, 99]))])
        for _ in range(n)
    ]
    return [*mutated, rng.bytes(100), *hostile_inputs(seed_key, long=False)]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(UPLOAD_PATHS))
def test_bad_uploads_get_one_sentence_keep_the_state_and_escape_the_name(name):
    path = UPLOAD_PATHS[name]
    app = ready_app(path)
    for content in _app_inputs(path.seed):
        outcome, detail = upload_verdict(path, app, content)
        assert outcome in {"loaded", "clear"}, f"{name}: {outcome}: {detail} for {content[:200]!r}"
    assert still_usable(path, app) is None
