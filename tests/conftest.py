"""Shared fixtures: the official models (never fetched here), an isolated home, a sim board on a pty.

The official models come from $TINYPERF_MODELS, else from the project's own .cache/models (where
`make test` pulls them when the network allows). Without them, every test that needs them is skipped
with one reason saying how to provide them; CI sets TINYPERF_REQUIRE_MODELS=1 so they cannot go missing
silently. Tests marked `no_models` (pure protocol, codecs, drivers) run either way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TRANSCRIPT = REPO / "tests" / "fixtures" / "kws01-tflm-reference-api.json"  # copied from ../shared/transcripts
MODEL_FILES = {
    "kws01": "kws_ref_model.tflite",
    "vww01": "vww_96_int8.tflite",
    "ad01": "ad01_int8.tflite",
    "ic01": "pretrainedResnet_quant.tflite",
    "ic02": "pretrainedResnet_large_int8.tflite",
    "sww01": "str_ww_ref_model.tflite",
}


def _models_dir() -> Path | None:
    folder = Path(os.environ.get("TINYPERF_MODELS") or REPO / ".cache" / "models").resolve()
    return folder if all((folder / name).is_file() for name in MODEL_FILES.values()) else None


MODELS_DIR = _models_dir()
MODELS_MISSING = ("official MLPerf Tiny models not found (set TINYPERF_MODELS to a folder holding them, or run "
                  "`make test` online: it pulls them into .cache/models)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "no_models: runs without the official models")
    # a home of the suite's own: no test reads or writes the user's cache, results store, settings or
    # matplotlib cache (subprocesses inherit it)
    home = Path(os.environ.get("TINYPERF_TEST_HOME") or REPO / ".cache" / "test-home")
    for name, sub in (("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"),
                      ("XDG_STATE_HOME", "state"), ("MPLCONFIGDIR", "matplotlib")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(home / sub)
    os.environ["TINYPERF_OFFLINE"] = "1"  # code must not download models or datasets at test time


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before any fixture (a module-scoped one may already run the CLI): a test that needs the official
    models skips when they are missing, all under one summary line (the skip's own location)."""
    if MODELS_DIR is not None or item.get_closest_marker("no_models") is not None:
        return
    if os.environ.get("TINYPERF_REQUIRE_MODELS"):
        pytest.fail(MODELS_MISSING + "; TINYPERF_REQUIRE_MODELS is set (as in CI)", pytrace=False)
    raise pytest.skip.Exception(MODELS_MISSING, _use_item_location=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):  # type: ignore[no-untyped-def]
    """TINYPERF_TEST_CPU_LOG=FILE: each test's CPU seconds (its own and its finished children's), to find
    where the suite's time goes (benchmarks/test_cpu.py sums them)."""
    log = os.environ.get("TINYPERF_TEST_CPU_LOG")
    if not log:
        return (yield)
    import resource
    import time

    def cpu() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    started, wall = cpu(), time.monotonic()
    try:
        return (yield)
    finally:
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{cpu() - started:.2f} {time.monotonic() - wall:.2f} {item.nodeid}\n")


@pytest.fixture(autouse=True)
def _offline_model_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The cache and the results store are temporary, so tests never share state (or write into the
    user's own store)."""
    if MODELS_DIR is not None:
        monkeypatch.setenv("TINYPERF_MODELS", str(MODELS_DIR))
    else:
        monkeypatch.delenv("TINYPERF_MODELS", raising=False)
    monkeypatch.setenv("TINYPERF_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("TINYPERF_STORE", str(tmp_path_factory.mktemp("store") / "results.sqlite"))


def model_path(benchmark: str) -> Path:
    if MODELS_DIR is None:
        pytest.skip(MODELS_MISSING)
    return MODELS_DIR / MODEL_FILES[benchmark]


def transcript() -> list[tuple[str, str]]:
    return [(d, text) for d, text in json.loads(TRANSCRIPT.read_text())]


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """The real console entry point in a subprocess, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "tinyperf.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=os.environ.copy())


@pytest.fixture
def sim_kws():
    from tinyperf.sim.launcher import start_sim_board

    # the transcript's firmware prints '%0.3f' (not the KWS reference submission's truncation)
    with start_sim_board("sim-nucleo-l4r5zi", "kws01", model_path("kws01"), results_format="printf3") as sim:
        yield sim
