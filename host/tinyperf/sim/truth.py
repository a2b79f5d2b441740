"""Ground truth of the simulated bench: what one inference costs by the declared models.

Time from the board's cycle model (boards/<board>.yaml), energy from its power model
(power/boards/<board>.yaml). Tests and benchmarks compare measured figures with these.
"""

from __future__ import annotations

from pathlib import Path

from tinyperf.boards import get_board
from tinyperf.power.profiles import board_power_model
from tinyperf.tflite_info import read_model_info_file


def inference_seconds(board_id: str, model: Path) -> float:
    board = get_board(board_id)
    assert board.timing is not None, f"{board_id} has no timing model"
    return board.timing.inference_cycles(read_model_info_file(model)) / board.clock_hz


def energy_per_inference_uj(board_id: str, model: Path) -> float:
    return 1e6 * board_power_model(board_id).energy_per_inference_j(inference_seconds(board_id, model))
