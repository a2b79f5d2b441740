"""The ref engine: our own int8 kernels on a plan generated from each MLPerf Tiny model, built into the
real firmware and checked against TFLM's own interpreter (the bit-exact reference) on real smoke-set
inputs; and the per-operator profile that firmware times with the device's timer, in QEMU."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import model_path, run_cli
from tests.firmware.test_firmware import _build, _need
from tinyperf.device.emulate import run_stdio
from tinyperf.device.protocol.legacy import load_commands
from tinyperf.errors import ModelError
from tinyperf.firmware.engine_check import smoke_inputs
from tinyperf.firmware.ref_plan import build_plan, quantize_multiplier, same_padding
from tinyperf.sim.board.engine import TflmEngine
from tinyperf.suite.device_math import format_results, reconstruction_error
from tinyperf.suite.models import get_entry

_RESULTS = re.compile(r"m-results-\[[^\]]*\]")
INPUTS_PER_MODEL = 8


def _device_results(elf: Path, inputs: list[bytes]) -> list[str]:
    """Each input loaded with legacy `db` commands (32-byte chunks), then `infer 1 0`."""
    commands = [command for data in inputs for command in [*load_commands(data, 32), "infer 1 0"]]
    return _RESULTS.findall(run_stdio(elf, commands))


def _reference_results(benchmark: str, data: bytes) -> str:
    """TFLM's interpreter on the device's input conversion, as the simulated board answers."""
    engine = TflmEngine(model_path(benchmark), get_entry(benchmark).input.bin_format)
    return "m-results-" + format_results(engine.run(data))


@pytest.mark.parametrize("benchmark", ["kws01", "vww01", "ic01", "ad01"])
def test_ref_engine_firmware_answers_exactly_as_tflm(tmp_path: Path, benchmark: str) -> None:
    """Real smoke-set inputs through the posix firmware built with --engine ref, against TFLM."""
    _need("cmake", "gcc")
    elf = _build(tmp_path, "posix-host", benchmark, engine="ref")
    inputs = smoke_inputs(benchmark, INPUTS_PER_MODEL)
    got = _device_results(elf, inputs)
    want = [_reference_results(benchmark, data) for data in inputs]
    assert got == want
    assert len(set(want)) > 1  # real inputs give different answers: the comparison can fail


def test_default_build_picks_the_ref_engine_and_says_so(tmp_path: Path) -> None:
    _need("cmake", "gcc")
    built = run_cli("build", "--board", "posix-host", "--benchmark", "kws01", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "ref engine (tinyperf int8 kernels, no TFLM)" in built.stdout and "REF ENGINE" in built.stdout
    manifest = json.loads((tmp_path / "builds" / "posix-host" / "build.json").read_text())
    assert manifest["engine"] == "ref" and manifest["tflm"] is None
    assert "tp_ref_ops[]" in (tmp_path / "builds" / "posix-host" / "generated" / "model_plan.c").read_text()


def test_qemu_profile_comes_from_the_device_timer(tmp_path: Path) -> None:
    """kws01 in QEMU: every operator timed by SysTick around it; their sum against `infer 10 1`."""
    _need("cmake", "arm-none-eabi-gcc", "qemu-system-arm")
    built = run_cli("build", "--board", "qemu-mps2-an386", "--benchmark", "kws01", "--engine", "ref", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    chart = tmp_path / "ops.png"
    shown = run_cli("profile", "--board", "qemu-mps2-an386", "--benchmark", "kws01", "--json", "ops.json",
                    "--plot", str(chart), cwd=tmp_path, timeout=300)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "ticks/MAC" in shown.stdout and "EMULATED" in shown.stdout
    data = json.loads((tmp_path / "ops.json").read_text())
    assert data["clock_hz"] == 25_000_000 and not data["simulated"] and data["unit"] == "ticks"
    assert [op["op_type"] for op in data["ops"]][:2] == ["CONV_2D", "DEPTHWISE_CONV_2D"] and len(data["ops"]) == 13
    assert abs(data["sum_over_timed"] - 1.0) < 0.01
    # the 1x1 convolutions do the same work: under instruction counting their times agree to 0.1 %
    pointwise = [op["cycles"] for op in data["ops"] if op["op_type"] == "CONV_2D"][1:]
    assert max(pointwise) / min(pointwise) < 1.001
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_reconstruction_error_sums_in_order_in_float32() -> None:
    """Summed pairwise (np.mean) these differ in the last bits from the firmware's loop; in order they
    are the loop's bits exactly."""
    rng = np.random.default_rng(4)
    wire, output = rng.normal(0, 30, 640).astype(np.float32), rng.normal(0, 30, 640).astype(np.float32)
    total = np.float32(0.0)
    for w, o in zip(wire, output, strict=True):
        diff = np.float32(w - o)
        total = np.float32(total + np.float32(diff * diff))
    assert reconstruction_error(wire, output) == float(np.float32(total / np.float32(640)))


def test_tflm_prepare_arithmetic() -> None:
    assert quantize_multiplier(0.5) == (1 << 30, 0)
    assert quantize_multiplier(0.75) == (1610612736, 0)
    assert quantize_multiplier(3.0) == (1610612736, 2)
    assert quantize_multiplier(0.0) == (0, 0)
    assert quantize_multiplier(1e-12) == (0, 0)  # below 2^-31: flushed to zero, as TFLM does
    assert same_padding(49, 10, 2) == (25, 4) and same_padding(10, 4, 2) == (5, 1)


def _edited(benchmark: str, edit) -> bytes:  # type: ignore[no-untyped-def]
    """The model after `edit(model)` on its flatbuffers object tree, re-serialised."""
    import flatbuffers
    from tflite_micro.python.tflite_micro import runtime

    model = runtime.convert_bytearray_to_object(bytearray(model_path(benchmark).read_bytes()))
    edit(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _with_op(benchmark: str, op_index: int, builtin_code: int) -> bytes:
    def edit(model) -> None:  # type: ignore[no-untyped-def]
        code = model.operatorCodes[model.subgraphs[0].operators[op_index].opcodeIndex]
        code.builtinCode, code.deprecatedBuiltinCode = builtin_code, min(builtin_code, 127)

    return _edited(benchmark, edit)


def _with_tensor_type(benchmark: str, tensor: int, tensor_type: int) -> bytes:
    def edit(model) -> None:  # type: ignore[no-untyped-def]
        model.subgraphs[0].tensors[tensor].type = tensor_type

    return _edited(benchmark, edit)


def test_plan_refuses_what_its_kernels_cannot_run_and_names_the_operator() -> None:
    mul, int16 = 18, 7  # tflite BuiltinOperator.MUL, TensorType.INT16
    with pytest.raises(ModelError, match=r"edited\.tflite: operator 12 is MUL; the ref engine runs CONV_2D"):
        build_plan(_with_op("kws01", 12, mul), "edited.tflite")
    # tensor 23: the first depthwise convolution's output in kws01
    with pytest.raises(ModelError, match=r"operator 1 \(DEPTHWISE_CONV_2D\) has an activation that is not int8"):
        build_plan(_with_tensor_type("kws01", 23, int16), "edited.tflite")


def test_auto_engine_falls_back_to_the_test_engine_for_a_model_it_cannot_run(tmp_path: Path) -> None:
    _need("cmake", "gcc")
    edited = tmp_path / "edited.tflite"
    edited.write_bytes(_with_op("kws01", 12, 18))
    built = run_cli("build", "--board", "posix-host", "--benchmark", "kws01", "--model", str(edited), cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "test engine (no TFLM)" in built.stdout
