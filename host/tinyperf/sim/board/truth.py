"""Ground truth of the simulated bench: what one inference costs by the declared models.

Time from the board's cycle model (boards/<board>.yaml), energy from its power model
(power/boards/<board>.yaml). Tests and benchmarks compare measured figures with these.
"""

from __future__ import annotations

from pathlib import Path

from tinyperf.device.boards import get_board
from tinyperf.power.profiles import board_power_model
from tinyperf.suite.tflite_info import read_model_info_file


def inference_seconds(board_id: str, model: Path) -> float:
    board = get_board(board_id)
    assert board.timing is not None, f"{board_id} has no timing model"
    return board.timing.inference_cycles(read_model_info_file(model)) / board.clock_hz


def energy_per_inference_uj(board_id: str, model: Path) -> float:
    return 1e6 * board_power_model(board_id).energy_per_inference_j(inference_seconds(board_id, model))


def simulated_truth(board_id: str, model: Path, mode: str) -> dict:
    """What a simulated board's declared models say one inference costs (printed beside the measured)."""
    truth = {"latency_ms": 1e3 * inference_seconds(board_id, model)}
    if mode == "energy":
        truth["energy_uj"] = energy_per_inference_uj(board_id, model)
    return truth


def truth_line(truth: dict, figures: dict) -> str:
    """`Simulated truth (declared models): ...` with the measured/truth ratio of each figure."""
    parts = [f"{truth['latency_ms']:.3f} ms/inf."]
    if figures.get("latency_ms"):
        parts[-1] += f" (measured/truth {figures['latency_ms'] / truth['latency_ms']:.4f})"
    if "energy_uj" in truth:
        parts.append(f"{truth['energy_uj']:.3f} uJ/inf.")
        if figures.get("median_energy_uj"):
            parts[-1] += f" (measured/truth {figures['median_energy_uj'] / truth['energy_uj']:.4f})"
    return "Simulated truth (declared models, slowdown not included): " + ", ".join(parts) + "."
