"""Accuracy-run wall time on a real-time paced simulated board: legacy protocol vs the tinyperf
extension vs the physical bound max(sum of inference times, input bytes x 10 / baud).

The legacy runs use the reference runner's method (one `db` command per 31-byte hex chunk, each
awaited to its m-ready), so "legacy" is also the reference figure. Wall time is read from the session
journal: from the device's identity record to the last sample record (board start-up excluded).

Run: PYTHONPATH=host TINYPERF_MODELS=../shared/models python benchmarks/transfer_speed.py [--baud 115200]
SIMULATED board: inference times are the board's declared cycle model; the wire is paced at the baud.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from tinyperf.device.boards import get_board
from tinyperf.run.runner import RunRequest, execute
from tinyperf.run.session import read_journal
from tinyperf.sim.board.server import build_device
from tinyperf.suite.datasets import load_dataset
from tinyperf.suite.models import get_entry, resolve_model
from tinyperf.suite.smoke.store import smoke_dataset, smoke_subset

BOARD = "sim-nucleo-l4r5zi"
SUBSETS = {"kws01": 50, "vww01": 50, "ad01": 2}


def subset(benchmark: str, count: int, folder: Path) -> Path:
    """The first `count` rows of the packaged smoke set, as a dataset folder of its own."""
    if benchmark != "ad01":
        return smoke_subset(benchmark, count, folder)
    # one normal and one anomalous file, so the AUC is defined
    rows = (smoke_dataset(benchmark) / "y_labels.csv").read_text().splitlines()
    names = [next(r for r in rows if r.split(",")[2] == label).split(",")[0] for label in ("0", "1")]
    return smoke_subset(benchmark, names[:count], folder)


def bound_s(benchmark: str, dataset: Path, baud: int) -> tuple[float, float, float]:
    """(bound, sum of inference seconds, wire seconds of the input bytes)."""
    entry = get_entry(benchmark)
    samples = load_dataset(dataset, entry)
    device = build_device(get_board(BOARD), benchmark, resolve_model(benchmark).path, "virtual")
    inferences = sum(len(s.windows(s.path.read_bytes())) for s in samples)
    infer_s = inferences * device.inference_seconds
    wire_s = sum(s.path.stat().st_size for s in samples) * 10.0 / baud
    return max(infer_s, wire_s), infer_s, wire_s


def timed_run(benchmark: str, dataset: Path, baud: int, protocol: str, sessions: Path,
              faults: str | None = None) -> tuple[float, dict]:
    request = RunRequest(board=BOARD, benchmark=benchmark, mode="accuracy", dataset=dataset, pacing="realtime",
                         baud=baud, protocol=protocol, sessions_dir=sessions, faults=faults)  # type: ignore[arg-type]
    outcome = execute(request)
    records = read_journal(outcome.session.root)
    start = next(r["t"] for r in records if r["event"] == "identity")
    end = max(r["t"] for r in records if r["event"] == "sample")
    data = json.loads((outcome.session.root / "results.json").read_text())
    return end - start, data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baud", type=int, action="append", help="default: 115200 and 2000000")
    parser.add_argument("--benchmark", action="append", choices=list(SUBSETS), help="default: all three")
    parser.add_argument("--protocol", action="append", choices=["legacy", "extended"], help="default: both")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tinyperf-transfer-"))
    print(f"{'benchmark':9} {'baud':>8} {'protocol':9} {'wall s':>8} {'bound s':>8} {'/bound':>7}  "
          f"(sum inference s, input wire s)  SIMULATED board, real-time paced", flush=True)
    for benchmark in args.benchmark or list(SUBSETS):
        dataset = subset(benchmark, SUBSETS[benchmark], work / f"ds-{benchmark}")
        for baud in args.baud or [115200, 2000000]:
            bound, infer_s, wire_s = bound_s(benchmark, dataset, baud)
            predictions = {}
            for protocol in args.protocol or ["legacy", "extended"]:
                wall, data = timed_run(benchmark, dataset, baud, protocol, work / "sessions")
                predictions[protocol] = [r.get("prediction", r.get("score")) for r in data["samples"]]
                print(f"{benchmark:9} {baud:>8} {protocol:9} {wall:8.2f} {bound:8.2f} {wall / bound:7.3f}  "
                      f"({infer_s:.2f}, {wire_s:.2f})  link={data['link']['protocol']}", flush=True)
            if len(predictions) == 2:
                same = predictions["legacy"] == predictions["extended"]
                print(f"{benchmark:9} {baud:>8} legacy and extended predictions identical: {same}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
