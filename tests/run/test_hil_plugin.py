"""The tinyperf pytest plugin, used by this suite itself against the simulated board (its default
board), and run as a user would run it: a test file of their own, `pytest --tinyperf-board ...
--junitxml`, figures in the XML, budget failures that say what was measured."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tinyperf.testing import BudgetExceeded, assert_accuracy_floor, assert_energy_budget, assert_latency_budget

pytest_plugins = ["pytester"]


def test_performance_run_meets_a_latency_budget_and_records_its_figures(
        tinyperf_run, request: pytest.FixtureRequest) -> None:  # type: ignore[no-untyped-def]
    outcome = tinyperf_run("kws01", mode="performance")
    latency = assert_latency_budget(outcome, max_ms=500.0)
    assert latency == pytest.approx(outcome.figures["latency_ms"])
    with pytest.raises(BudgetExceeded, match=r"median latency \d+\.\d{3} ms exceeds the 0\.001 ms budget by"):
        assert_latency_budget(outcome, max_ms=0.001)
    recorded = dict(request.node.user_properties)
    assert recorded["tinyperf.board"] == "sim-nucleo-l4r5zi" and recorded["tinyperf.simulated"] is True
    assert recorded["tinyperf.latency_ms"] == pytest.approx(latency, rel=1e-6)
    assert recorded["tinyperf.median_throughput"] == pytest.approx(outcome.figures["median_throughput"], rel=1e-6)


def test_accuracy_floor_and_energy_budget_on_the_simulated_board(tinyperf_run) -> None:  # type: ignore[no-untyped-def]
    accuracy = tinyperf_run("kws01", mode="accuracy")
    top1 = assert_accuracy_floor(accuracy, min_top1_percent=50.0)
    with pytest.raises(BudgetExceeded, match=rf"top-1 {top1:.2f} % is below the floor 100\.5 %"):
        assert_accuracy_floor(accuracy, min_top1_percent=100.5)
    with pytest.raises(BudgetExceeded, match=r"no latency"):
        assert_latency_budget(accuracy, max_ms=10.0)
    energy = tinyperf_run("ad01", mode="energy")
    uj = assert_energy_budget(energy, max_uj=10_000.0)
    with pytest.raises(BudgetExceeded, match=r"median energy .* uJ/inf\. exceeds the 1 uJ budget"):
        assert_energy_budget(energy, max_uj=1.0)
    assert uj == pytest.approx(energy.figures["median_energy_uj"])


@pytest.mark.tinyperf(benchmark="vww01")
def test_device_fixture_is_connected_to_the_marked_benchmark(tinyperf_device) -> None:  # type: ignore[no-untyped-def]
    identity = tinyperf_device.identify()
    assert identity.model == "vww01" and tinyperf_device.protocol == "extended"


USER_TESTS = '''
from tinyperf.testing import assert_latency_budget

def test_kws_fast_enough(tinyperf_run):
    assert_latency_budget(tinyperf_run("kws01"), max_ms=1000)

def test_kws_impossibly_fast(tinyperf_run):
    assert_latency_budget(tinyperf_run("kws01"), max_ms=0.01)
'''


def test_a_users_test_file_reports_figures_in_junit_xml_and_fails_a_blown_budget(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_budgets=USER_TESTS)
    xml = pytester.path / "report.xml"
    result = pytester.runpytest_subprocess("--tinyperf-board", "sim-nucleo-l4r5zi", f"--junitxml={xml}", "-p",
                                           "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["tinyperf: board sim-nucleo-l4r5zi, port auto, monitor default",
                                 "*BudgetExceeded: median latency * ms exceeds the 0.01 ms budget by *"])
    cases = {case.get("name"): case for case in ET.parse(xml).getroot().iter("testcase")}
    for name in ("test_kws_fast_enough", "test_kws_impossibly_fast"):
        properties = {p.get("name"): p.get("value") for p in cases[name].iter("property")}
        assert properties["tinyperf.benchmark"] == "kws01" and properties["tinyperf.mode"] == "performance"
        assert float(properties["tinyperf.latency_ms"]) > 0 and Path(properties["tinyperf.run.session"]).is_dir()


def test_an_unknown_board_is_refused_naming_the_known_ones(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_one="def test_it(tinyperf_run):\n    tinyperf_run('kws01')\n")
    result = pytester.runpytest_subprocess("--tinyperf-board", "nucleo-x", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown board 'nucleo-x'; known boards: *sim-nucleo-l4r5zi*"])
