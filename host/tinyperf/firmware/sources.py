"""The source trees a TFLM build compiles: TFLM, CMSIS-NN, CMSIS core and TFLM's three header-only
dependencies. Each is pinned to a commit we have built, found in a folder the user names, or fetched
from its public home into the user cache and verified.

Why verify by git tree id and not by archive checksum: GitHub makes its archives on the fly, so their
bytes (and sha256) are not promised to stay the same; the git tree id of the folders we compile from
is fixed by the commit. The archive's sha256 is still recorded beside the tree, for the record.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tinyperf.errors import ConfigError
from tinyperf.firmware.gittree import git_tree_id
from tinyperf.tools import run_tool

DOWNLOAD_TIMEOUT_S = 60.0
MAX_ARCHIVE_BYTES = 400 << 20
SOURCES_URL_ENV = "TINYPERF_SOURCES_URL"  # a mirror laid out like github.com/<repo>/archive/<commit>.tar.gz
VERIFIED_MARK = ".tinyperf-source.json"


@dataclass(frozen=True)
class Pin:
    """One source tree at one commit; `subtrees` are the folders compiled from, with their git tree ids."""

    name: str
    repository: str
    commit: str
    subtrees: dict[str, str]
    marker: str  # a file every usable tree has, relative to its root
    flag: str | None  # the `tinyperf build` option naming a folder instead
    env: str | None
    patch: str | None = None  # a patch file in the TFLM tree, applied after verification (as TFLM's make does)

    @property
    def folder_name(self) -> str:
        return f"{self.name}-{self.commit[:12]}"

    def url(self, base: str | None = None) -> str:
        root = (base or os.environ.get(SOURCES_URL_ENV) or "https://github.com").rstrip("/")
        return f"{root}/{self.repository}/archive/{self.commit}.tar.gz"


# TFLM at the commit built and measured here; the others at the commits that TFLM commit's own download
# scripts pin (tensorflow/lite/micro/tools/make/*download*), so TFLM is built as its own make builds it.
PINS: dict[str, Pin] = {pin.name: pin for pin in (
    Pin("tflm", "tensorflow/tflite-micro", "90b983c2b3f1480642e040bbd2ddb37b998f3424",
        {"tensorflow": "02e6661f9e5e701954a82b8a0107fcf54d971dcd",
         "signal": "6c37d7914914ee79fecbe40857bd5d9e1666506a"},
        "tensorflow/lite/micro/micro_interpreter.h", "--tflm-dir", "TFLM_DIR"),
    Pin("cmsis_nn", "ARM-software/CMSIS-NN", "4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae",
        {"Source": "90e3dc35dfea5a2a33d72b563b480e6bb3b42d12", "Include": "a1f2fe1d83250eb1827333418c4a4a4b15e4055f"},
        "Include/arm_nnfunctions.h", "--cmsis-nn-dir", "CMSIS_NN_DIR"),
    Pin("cmsis", "ARM-software/CMSIS_6", "5782d6f8057906d360f4b95ec08a2354afe5c9b9",
        {"CMSIS/Core/Include": "a42fdf01ab30ae060e2e6ec7bcb674ca59679fc0"},
        "CMSIS/Core/Include/cmsis_compiler.h", "--cmsis-dir", "CMSIS_DIR"),
    Pin("flatbuffers", "google/flatbuffers", "187240970746d00bbd26b0f5873ed54d2477f9f3",  # tag v25.9.23
        {"include": "49ee0418c422bcb28af7944e97894b93141ea469"},
        "include/flatbuffers/flatbuffers.h", None, None, patch="tensorflow/lite/micro/tools/make/flatbuffers.patch"),
    Pin("gemmlowp", "google/gemmlowp", "719139ce755a0f31cbf1c37f7f98adcc7fc9f425",
        {"fixedpoint": "fa5ea9177098920bf14d7140a3551774ed375c3c",
         "internal": "f1cea733eac08b30bfd4305cde638c387e73d723"},
        "fixedpoint/fixedpoint.h", None, None),
    Pin("ruy", "google/ruy", "d37128311b445e758136b8602d1bbd2a755e115d",
        {"ruy/profiler": "f859dd23657c05667336c55a88e64d52cc86ca7e"},
        "ruy/profiler/instrumentation.h", None, None),
)}
# where TFLM's own `make third_party_downloads` puts each dependency inside a TFLM checkout
TFLM_DOWNLOADS = "tensorflow/lite/micro/tools/make/downloads"


@dataclass(frozen=True)
class SourceTree:
    name: str
    path: Path
    origin: str  # "pinned <commit>, verified" | "user folder" | "TFLM checkout downloads/"

    @property
    def describe(self) -> str:
        return f"{self.name}: {self.path} ({self.origin})"


def sources_cache() -> Path:
    """$TINYPERF_SOURCES, else the models cache's sibling (so TINYPERF_CACHE moves both)."""
    override = os.environ.get("TINYPERF_SOURCES")
    if override:
        return Path(override)
    from tinyperf.suite.models import cache_dir
    return cache_dir().parent / "sources"


def _usable(path: Path, pin: Pin) -> bool:
    return (path / pin.marker).is_file()


def _cached(pin: Pin, cache: Path) -> Path | None:
    folder = cache / pin.folder_name
    return folder if (folder / VERIFIED_MARK).is_file() and _usable(folder, pin) else None


def find_tree(pin: Pin, given: Path | None, tflm: Path | None, cache: Path) -> SourceTree | None:
    """A folder the user gave (flag or environment) wins; then TFLM's own downloads folder beside a
    TFLM checkout; then the verified cache. None: not on this machine."""
    env_value = os.environ.get(pin.env) if pin.env else None
    chosen = given or (Path(env_value) if env_value else None)
    if chosen is not None:
        if not _usable(chosen, pin):
            source = f"{pin.flag}" if given else f"${pin.env}"
            raise ConfigError(f"{source} {chosen}: not a {pin.repository} tree (no {pin.marker})")
        return SourceTree(pin.name, chosen.resolve(), "user folder, commit not checked")
    if tflm is not None and pin.name != "tflm":
        beside = tflm / TFLM_DOWNLOADS / pin.name
        if _usable(beside, pin):
            return SourceTree(pin.name, beside.resolve(), "the TFLM checkout's downloads/")
    cached = _cached(pin, cache)
    if cached is not None:
        return SourceTree(pin.name, cached, f"pinned {pin.commit[:12]}, verified")
    return None


def find_trees() -> dict[str, SourceTree | None]:
    """Where this machine has each pinned tree without a flag ($TFLM_DIR and friends, TFLM's downloads/,
    the verified cache); None where a build would download it."""
    cache = sources_cache()
    tflm = find_tree(PINS["tflm"], None, None, cache)
    return {name: tflm if name == "tflm" else find_tree(pin, None, tflm.path if tflm else None, cache)
            for name, pin in PINS.items()}


def missing_sources_error(missing: list[Pin], downloaded: bool) -> ConfigError:
    parts = []
    for pin in missing:
        how = f"{pin.flag} DIR (or ${pin.env})" if pin.flag else f"a {TFLM_DOWNLOADS}/{pin.name} folder"
        parts.append(f"{pin.repository} ({how})")
    why = "cannot download the TFLM build's sources (offline?)" if downloaded else \
        "the TFLM build's sources are not on this machine (downloads are off)"
    return ConfigError(f"{why}; give them instead: "
                       + "; ".join(parts) + ", or fetch them once with `tinyperf sources fetch` when online")


class SourcesUnreachable(ConfigError):
    """The archive could not be had (offline, no such URL): the user can give a folder instead."""


def _download(url: str, into: Path) -> str:
    """Stream `url` to `into` with a size bound; returns the sha256 of the bytes."""
    digest = hashlib.sha256()
    total = 0
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, into.open("wb") as out:
        while chunk := response.read(1 << 20):
            total += len(chunk)
            if total > MAX_ARCHIVE_BYTES:
                raise ConfigError(f"{url}: over {MAX_ARCHIVE_BYTES >> 20} MiB; not a source archive we pin")
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _extract_subtrees(archive: Path, pin: Pin, destination: Path) -> None:
    """Only regular files under the pinned subtrees, inside `destination`; anything else is skipped
    (a link or a path leaving the folder is refused)."""
    wanted = [PurePosixPath(p) for p in pin.subtrees]
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            parts = PurePosixPath(member.name).parts[1:]  # drop "<repo>-<commit>/"
            if not parts or ".." in parts or PurePosixPath(member.name).is_absolute():
                continue
            relative = PurePosixPath(*parts)
            if not any(relative == w or w in relative.parents for w in wanted):
                continue
            if member.issym() or member.islnk():
                raise ConfigError(f"{pin.url()}: {relative} is a link; pinned subtrees hold none")
            if not member.isfile():
                continue
            target = destination.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            with source, target.open("wb") as out:
                shutil.copyfileobj(source, out)
            target.chmod(0o755 if member.mode & 0o100 else 0o644)


def verify_subtrees(folder: Path, pin: Pin) -> None:
    for subtree, expected in pin.subtrees.items():
        found = git_tree_id(folder / subtree) if (folder / subtree).is_dir() else "missing"
        if found != expected:
            raise ConfigError(f"{pin.repository} {pin.commit[:12]}: {subtree}/ has git tree {found[:12]}, the pin "
                              f"says {expected[:12]}; the download is not that commit's; nothing was kept")


def fetch_tree(pin: Pin, cache: Path, tflm: Path | None) -> SourceTree:
    """Download the pinned archive, keep the pinned subtrees, verify their git tree ids, apply TFLM's
    patch where TFLM's make applies one, then move the folder into the cache in one step."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot make the sources cache {cache} ({e.strerror}); set TINYPERF_SOURCES to a "
                          "writable folder") from e
    url = pin.url()
    with tempfile.TemporaryDirectory(dir=cache, prefix=f".{pin.name}-") as work:
        archive = Path(work) / "archive.tar.gz"
        try:
            sha256 = _download(url, archive)
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            raise SourcesUnreachable(f"{url}: {e}") from e
        tree = Path(work) / "tree"
        try:
            _extract_subtrees(archive, pin, tree)
        except (tarfile.TarError, EOFError) as e:
            raise ConfigError(f"{url}: not a readable tar.gz archive ({e})") from e
        verify_subtrees(tree, pin)
        if pin.patch is not None:
            if tflm is None:
                raise ConfigError(f"{pin.repository} needs TFLM's {pin.patch}; fetch TFLM first")
            run_tool(["git", "apply", "-p1", str(tflm / pin.patch)], f"applying TFLM's {pin.patch}", 60.0, cwd=tree)
        record = {"repository": pin.repository, "commit": pin.commit, "url": url, "archive_sha256": sha256,
                  "verified_subtrees": pin.subtrees, "patched_with": pin.patch}
        (tree / VERIFIED_MARK).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        final = cache / pin.folder_name
        if final.exists():
            shutil.rmtree(final)
        tree.rename(final)
    return SourceTree(pin.name, final, f"pinned {pin.commit[:12]}, verified, downloaded")


def fetched_record(tree: SourceTree) -> dict | None:
    mark = tree.path / VERIFIED_MARK
    return json.loads(mark.read_text(encoding="utf-8")) if mark.is_file() else None


def resolve_trees(names: list[str], given: dict[str, Path | None], download: bool) -> dict[str, SourceTree]:
    """Every named tree, TFLM first (the others may sit in its downloads/ folder, and flatbuffers needs
    its patch). Offline with something missing: one error naming every folder flag to give."""
    cache = sources_cache()
    found: dict[str, SourceTree] = {}
    missing: list[Pin] = []
    ordered = sorted(names, key=lambda n: n != "tflm")
    for name in ordered:
        pin = PINS[name]
        tflm_path = found["tflm"].path if "tflm" in found else None
        tree = find_tree(pin, given.get(name), tflm_path, cache)
        if tree is None and download and not missing:  # once one download failed, do not wait on the rest
            try:
                tree = fetch_tree(pin, cache, tflm_path)
            except SourcesUnreachable:
                tree = None
        if tree is None:
            missing.append(pin)
        else:
            found[name] = tree
    if missing:
        raise missing_sources_error(missing, download)
    return found
