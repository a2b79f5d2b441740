"""`tinyperf report` on real simulated-board sessions (kws01 performance, accuracy and energy, ad01
accuracy), opened in headless Chromium: it renders, logs no console error, every plot is a PNG that
decodes, and a screenshot is kept as a test artefact."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, run_cli
from tinyperf.results.report import roc_points
from tinyperf.run.runner import RunRequest, execute
from tinyperf.suite.scoring import roc_auc

REQUIRED = os.environ.get("TINYPERF_REQUIRE_CHROMIUM") == "1"
ARTIFACTS = Path(os.environ.get("TINYPERF_ARTIFACTS", REPO / "test-artifacts"))


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if REQUIRED:
            pytest.fail("CI must install chromium (.ci/run)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("sessions")
    runs = [("kws01", "performance", None), ("kws01", "accuracy", None), ("kws01", "energy", "sim"),
            ("ad01", "accuracy", None)]
    return [execute(RunRequest(board="sim-nucleo-l4r5zi", benchmark=b, mode=m, monitor=mon,  # type: ignore[arg-type]
                               sessions_dir=folder)).session.root for b, m, mon in runs]


def test_report_renders_in_headless_chromium_without_console_errors(sessions: list[Path], tmp_path: Path) -> None:
    browser = _chromium()
    page = tmp_path / "report.html"
    markdown = tmp_path / "report.md"
    made = run_cli("report", *map(str, sessions), "--html", str(page), "--markdown", str(markdown))
    assert made.returncode == 0, made.stderr
    text = page.read_text()
    assert "http://" not in text and "https://" not in text and "<script" not in text  # self-contained
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 4  # performance windows, energy windows, the energy trace, the ad01 ROC curve
    for image in images:
        assert base64.b64decode(image)[:8] == b"\x89PNG\r\n\x1a\n"
    for heading in ("Confusion matrix", "ROC curve", "Energy trace", "Per window", "SIMULATED board"):
        assert heading in text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report-kws01-ad01-sim.png"
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}",
              "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    # the browser's own DOM (it adds the <tbody> elements HTML implies): every table and image is there
    assert "<tbody>" in dom.stdout and dom.stdout.count("<img") == 4
    assert dom.stdout.count("<table") == 2  # the summary and the confusion matrix
    rendered = subprocess.run([*common, "--window-size=1200,3200", f"--screenshot={shot}", page.as_uri()],
                              capture_output=True, text=True, timeout=120)
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    console_errors = [line for line in (dom.stderr + rendered.stderr).splitlines()
                      if "CONSOLE" in line or "Uncaught" in line]
    assert console_errors == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    summary = markdown.read_text()
    assert summary.startswith("# tinyperf report") and summary.count("sim-nucleo-l4r5zi (SIMULATED)") == 4


def test_roc_points_give_the_same_area_as_the_scorer() -> None:
    rng = np.random.default_rng(3)
    labels = [int(x) for x in rng.integers(0, 2, 200)]
    scores = [float(s + label) for s, label in zip(rng.normal(size=200), labels, strict=True)]
    fpr, tpr = roc_points(scores, labels)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert float(np.trapezoid(tpr, fpr)) == pytest.approx(roc_auc(scores, labels), abs=1e-9)
