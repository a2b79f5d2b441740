"""`tinyperf rerun SESSION`: the same run again, from the session's provenance.json, refused when an
input it names has changed (model sha256, dataset hash, firmware build)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from tinyperf.errors import ConfigError
from tinyperf.firmware.build import builds_folder, load_manifest
from tinyperf.results.jsonfiles import read_json_object
from tinyperf.results.store import dataset_hash, file_sha256
from tinyperf.run.modes.performance import PerformanceSettings
from tinyperf.run.runner import RunRequest

PATH_FIELDS = ("dataset", "model", "sessions_dir", "firmware", "builds_dir")


def rerun_request(session: Path, sessions_dir: Path | None = None) -> tuple[RunRequest, dict]:
    """The request the session ran with (a new session folder beside it, or in `sessions_dir`)."""
    manifest = session / "provenance.json"
    if not manifest.is_file():
        raise ConfigError(f"{session}: no provenance.json (made by tinyperf before 0.1 provenance, or not a "
                          "session folder); run it again by hand")
    provenance = read_json_object(manifest, "provenance.json")
    if not isinstance(provenance.get("request"), dict):
        raise ConfigError(f"{manifest}: has no 'request' object; run it again by hand")
    data = dict(provenance["request"])
    unknown = sorted(set(data) - {f.name for f in fields(RunRequest)})
    if unknown:
        raise ConfigError(f"{manifest}: request fields {unknown} are not known to this tinyperf")
    data["performance"] = PerformanceSettings(**data.get("performance", {}))
    for name in PATH_FIELDS:
        if data.get(name) is not None:
            data[name] = Path(data[name])
    for name in ("sim_options", "shard_ports", "labgrid_places"):
        data[name] = tuple(data.get(name) or ())
    if sessions_dir is not None:
        data["sessions_dir"] = sessions_dir
    request = RunRequest(**data)
    _check_inputs(provenance, request, manifest)
    return request, provenance


def _check_inputs(provenance: dict, request: RunRequest, manifest: Path) -> None:
    if provenance.get("dataset"):
        folder = Path(provenance["dataset"])
        if not (folder / "y_labels.csv").is_file():
            raise ConfigError(f"{manifest}: the dataset {folder} is gone")
        if dataset_hash(folder) != provenance["dataset_hash"]:
            raise ConfigError(f"{manifest}: the dataset {folder} has changed since this run (hash differs)")
    model = request.model
    if model is not None and model.is_file() and file_sha256(model) != provenance["model_sha256"]:
        raise ConfigError(f"{manifest}: the model {model} has changed since this run (sha256 differs)")
    if provenance.get("firmware_sha256"):
        elf = request.firmware or _last_build(request)
        if elf is None or not elf.is_file() or file_sha256(elf) != provenance["firmware_sha256"]:
            raise ConfigError(f"{manifest}: the firmware this run used is gone or rebuilt since (sha256 differs); "
                              "build it again from the same sources or run anew")


def _last_build(request: RunRequest) -> Path | None:
    built = load_manifest(request.builds_dir, request.board)
    return builds_folder(request.builds_dir, request.board) / built.elf if built else None
