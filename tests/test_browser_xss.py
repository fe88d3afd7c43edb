"""No uploaded file name runs as HTML: every app with an upload, in Voila and Chromium.

Each app gets a file named ``<img src=x onerror=window.__xss=1>.<ext>``, once with
content it cannot read (the name lands in an error message) and once with content it
reads (the name may land in a label or a menu). ``window.__xss`` must stay undefined.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

DATA = Path(__file__).resolve().parents[1] / "data"
XSS_NAME = "<img src=x onerror=window.__xss=1>"
#: notebook -> (extension, content) pairs: one unreadable, one readable where data exists.
UPLOADS = {
    "01_materials_data_with_ase.ipynb": [
        (".cif", b"not a structure\n"),
        (".extxyz", DATA / "si_md_crystal_300K.extxyz"),
    ],
    "02_em_peak_fitting.ipynb": [(".csv", b"energy,counts\nx,y\n"), (".csv", DATA / "xps_c1s.csv")],
    "03_spectral_imaging.ipynb": [(".npz", b"not a zip"), (".csv", b"a,b\nx,y\n")],
    "08_tslpp_structure_analysis.ipynb": [
        (".extxyz", b"not a trajectory\n"),
        (".extxyz", DATA / "si_md_quench.extxyz"),
    ],
    "09_phase_diagram_sampling.ipynb": [
        (".csv", b"x\n"),
        (".csv", DATA / "phase_diagram_eutectic.csv"),
    ],
    "10_property_prediction_importance.ipynb": [
        (".csv", b"a;b\n"),
        (".csv", DATA / "alloys.csv"),
    ],
}
#: True once the page shows this name as text (every app names the file it read or could not
#: read), or once the injected handler has run.
JS_NAME_SHOWN = """(name) => window.__xss !== undefined
    || document.body.innerText.includes(name)"""


@pytest.mark.slow
@pytest.mark.parametrize("notebook", sorted(UPLOADS))
def test_uploaded_file_names_never_run_as_html(notebook, open_app):
    page = open_app(notebook)
    buttons = page.locator(".widget-upload")
    assert buttons.count() >= 1, "the app has no upload"
    for n, (extension, content) in enumerate(UPLOADS[notebook]):
        data = content.read_bytes() if isinstance(content, Path) else content
        for k in range(buttons.count()):
            # a new name each time: choosing a file of the same name again fires no change
            # event, and the page must show this upload's name, not an earlier one's
            name = f"{XSS_NAME}{n}-{k}{extension}"
            with page.expect_file_chooser() as chooser:  # as a user picks a file
                buttons.nth(k).click()
            chooser.value.set_files(
                files=[{"name": name, "mimeType": "text/plain", "buffer": data}]
            )
            # the app answers within a second or two; the timeout is hang protection only
            page.wait_for_function(JS_NAME_SHOWN, arg=name, timeout=300_000)
            assert page.evaluate("() => window.__xss") is None, (
                f"{notebook}: the file name ran as HTML after uploading {extension}"
            )
