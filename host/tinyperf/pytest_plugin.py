"""pytest plugin (entry point `pytest11`): hardware-in-the-loop tests against a board.

    pytest --tinyperf-board nucleo-l4r5zi --tinyperf-port /dev/ttyACM0 --tinyperf-monitor lpm01a:/dev/ttyACM1

Fixtures:
- `tinyperf_run(benchmark, mode="performance", **request)`: a whole tinyperf run (the same runner
  as the CLI) on the configured board; its figures become JUnit XML properties of the test.
- `tinyperf_device`: a connected, negotiated device for raw protocol checks; the benchmark comes
  from `@pytest.mark.tinyperf(benchmark="vww01")` (default kws01).
- `tinyperf_config`: the board, port and monitor in effect.
Budgets: `tinyperf.testing.assert_latency_budget`, `assert_energy_budget`, `assert_accuracy_floor`.
Without options the board is the built-in simulated one (its figures are labelled simulated).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DEFAULT_BOARD = "sim-nucleo-l4r5zi"
DEFAULT_BENCHMARK = "kws01"


@dataclass(frozen=True)
class TinyperfConfig:
    board: str
    port: str | None
    monitor: str | None

    def monitor_for(self, simulated: bool) -> str | None:
        return self.monitor or ("sim" if simulated else None)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinyperf", "tinyperf hardware-in-the-loop")
    group.addoption("--tinyperf-board", default=os.environ.get("TINYPERF_BOARD", DEFAULT_BOARD),
                    help=f"board id (`tinyperf boards`); default $TINYPERF_BOARD or {DEFAULT_BOARD}")
    group.addoption("--tinyperf-port", default=os.environ.get("TINYPERF_PORT"),
                    help="the board's serial port or URL (default: found by USB id; simulated boards start their own)")
    group.addoption("--tinyperf-monitor", default=os.environ.get("TINYPERF_MONITOR"),
                    help="energy monitor for energy runs, e.g. lpm01a:/dev/ttyACM1 (default: sim on simulated boards)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "tinyperf(benchmark): the benchmark a tinyperf_device test runs")


def pytest_report_header(config: pytest.Config) -> str:
    board = config.getoption("--tinyperf-board")
    port = config.getoption("--tinyperf-port") or "auto"
    return f"tinyperf: board {board}, port {port}, monitor {config.getoption('--tinyperf-monitor') or 'default'}"


@pytest.fixture(scope="session")
def tinyperf_config(pytestconfig: pytest.Config) -> TinyperfConfig:
    from tinyperf.device.boards import get_board

    board = pytestconfig.getoption("--tinyperf-board")
    get_board(board)  # an unknown id fails here, naming the known boards
    options = pytestconfig.getoption
    return TinyperfConfig(board, options("--tinyperf-port"), options("--tinyperf-monitor"))


RunFixture = Callable[..., object]


@pytest.fixture
def tinyperf_run(tinyperf_config: TinyperfConfig, tmp_path_factory: pytest.TempPathFactory,
                 record_property: Callable[[str, object], None]) -> RunFixture:
    """`tinyperf_run("kws01", mode="accuracy", dataset=Path(...))` -> RunOutcome; figures recorded."""
    from tinyperf.device.boards import get_board
    from tinyperf.run.runner import RunRequest, execute
    from tinyperf.testing import junit_properties

    def run(benchmark: str = DEFAULT_BENCHMARK, mode: str = "performance", **fields: object):  # type: ignore[no-untyped-def]
        board = get_board(tinyperf_config.board)
        monitor = tinyperf_config.monitor_for(board.simulated) if mode == "energy" else None
        request = RunRequest(board=board.id, benchmark=benchmark, mode=mode, port=tinyperf_config.port,  # type: ignore[arg-type]
                             monitor=monitor, sessions_dir=tmp_path_factory.mktemp("tinyperf-sessions"),
                             **fields)  # type: ignore[arg-type]
        outcome = execute(request)
        for name, value in junit_properties(outcome, mode):
            record_property(name, value)
        return outcome

    return run


@pytest.fixture
def tinyperf_device(tinyperf_config: TinyperfConfig, request: pytest.FixtureRequest) -> Iterator[object]:
    """A Device on the configured board, negotiated (extension if offered), for the marked benchmark."""
    from tinyperf.device.boards import get_board
    from tinyperf.device.op_profile import connected_device

    marker = request.node.get_closest_marker("tinyperf")
    benchmark = marker.kwargs.get("benchmark", DEFAULT_BENCHMARK) if marker else DEFAULT_BENCHMARK
    with connected_device(get_board(tinyperf_config.board), benchmark, tinyperf_config.port) as device:
        yield device


def session_root(outcome: object) -> Path:
    """Where a run's files are (results.txt, journal, transcript), for a failure message or an artifact."""
    return Path(outcome.session.root)  # type: ignore[attr-defined]
