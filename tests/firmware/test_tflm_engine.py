"""Real TensorFlow Lite Micro firmware: built from the pinned, verified sources, run as a posix process and in
QEMU, answering bit for bit as the `tflite-micro` wheel's interpreter on real smoke-set inputs.

CI has no TFLM tree (and no GitHub), so these skip there with one line; with TINYPERF_SOURCES naming the
folder `tinyperf sources fetch` filled, they run the whole path (cold: a few minutes per build)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import model_path, run_cli
from tests.firmware.test_firmware import _need
from tinyperf.device.boards import get_board
from tinyperf.firmware.engine_check import check_firmware, smoke_inputs
from tinyperf.firmware.sources import PINS, find_trees

INPUTS = 24


def _need_tflm() -> None:
    if not os.environ.get("TINYPERF_SOURCES"):
        pytest.skip("TFLM builds: set TINYPERF_SOURCES to the folder `tinyperf sources fetch` filled")
    missing = [name for name, tree in find_trees().items() if tree is None]
    if missing:
        pytest.skip(f"no TFLM sources on this machine ({', '.join(missing)}); `tinyperf sources fetch` gets them")


def _build(tmp_path: Path, board: str, benchmark: str, kernels: str) -> dict:
    built = run_cli("build", "--board", board, "--benchmark", benchmark, "--model", str(model_path(benchmark)),
                    "--engine", "tflm", "--kernels", kernels, "--builder", "cmake", "--offline", cwd=tmp_path,
                    timeout=1800)
    assert built.returncode == 0, built.stdout + built.stderr
    assert f"{kernels} kernels" in built.stdout
    return json.loads((tmp_path / "builds" / board / "build.json").read_text())


@pytest.mark.parametrize(("board", "kernels"), [("posix-host", "reference"), ("qemu-mps2-an386", "cmsis-nn")])
def test_tflm_firmware_answers_bit_exactly_as_tflms_interpreter(tmp_path: Path, board: str, kernels: str) -> None:
    _need_tflm()
    _need("cmake", "gcc", "arm-none-eabi-gcc", "qemu-system-arm")
    manifest = _build(tmp_path, board, "kws01", kernels)
    assert manifest["engine"] == "tflm" and manifest["kernels"] == kernels
    assert manifest["tflm"].startswith(PINS["tflm"].commit[:12])
    elf = tmp_path / "builds" / board / manifest["elf"]
    check = check_firmware(get_board(board), elf, "kws01", model_path("kws01"), smoke_inputs("kws01", INPUTS))
    assert check.engine == f"tflm/{kernels}"
    assert 0 < check.arena_used <= check.arena_bytes
    assert check.exact == check.checked == INPUTS, check.first_mismatch


def test_nucleo_build_reports_its_memory_against_the_board(tmp_path: Path) -> None:
    _need_tflm()
    _need("cmake", "arm-none-eabi-gcc")
    manifest = _build(tmp_path, "nucleo-l4r5zi", "ad01", "cmsis-nn")
    memory = manifest["memory"]
    assert memory["flash_limit"] == 2048 * 1024 and memory["ram_limit"] == 640 * 1024
    assert 0 < memory["flash_bytes"] < memory["flash_limit"] and 0 < memory["ram_bytes"] < memory["ram_limit"]
