"""`tinyperf datasets smoke`: build the four smoke sets from registry material, with provenance."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tinyperf.errors import TinyperfError
from tinyperf.suite.frontends.kws import kws_input
from tinyperf.suite.models import get_entry
from tinyperf.suite.smoke.store import Row, write_eembc_folder

Progress = Callable[[str], None]
NOTES = {
    "kws01": "tinyperf smoke set kws01: Debian TTS voices (espeak-ng, flite, festival) saying the 10 keywords "
             "and unknown words in white/pink noise at 30-40 dB SNR, noise clips as silence, and 8 words of real human "
             "speech from alsa-utils",
    "vww01": "tinyperf smoke set vww01: hand-labelled photos from PyPI wheels and Debian opencv-doc/tuxpaint",
    "ic01": "tinyperf smoke set ic01: hand-labelled photos and cut-outs from PyPI wheels and Debian packages",
    "ad01": "tinyperf smoke set ad01: SYNTHETIC machine sounds, a pipeline check (its AUC is not a model figure)",
}


def _debian_versions(packages: list[str]) -> dict[str, str]:
    try:
        out = subprocess.run(["dpkg-query", "-W", *packages], capture_output=True, text=True, timeout=30).stdout
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return {}
    return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)


def _kws_rows(progress: Progress) -> tuple[list[Row], dict]:
    from tinyperf.suite.smoke.kws_set import ALSA_SOUNDS, kws_clips
    from tinyperf.suite.smoke.speech import missing_engines

    missing = missing_engines() + ([] if (ALSA_SOUNDS / "Front_Left.wav").is_file() else ["alsa-utils"])
    if missing:
        raise TinyperfError(f"the kws01 smoke set needs {', '.join(missing)}: apt-get install espeak-ng flite "
                            "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts alsa-utils")
    spec = get_entry("kws01").input
    rows = []
    for clip in kws_clips():
        rows.append(Row(clip.name, clip.label, kws_input(clip.audio, spec.scale, spec.zero_point), clip.source))
        progress(clip.name)
    engines = ["espeak-ng", "flite", "festival", "festvox-kallpc16k", "festvox-kdlpc16k", "festvox-us-slt-hts",
               "alsa-utils"]
    return rows, {"debian_packages": _debian_versions(engines)}


def _photo_rows(benchmark: str, wheel_dir: Path, progress: Progress) -> tuple[list[Row], dict]:
    from tinyperf.suite.smoke.photos import photos

    entry = get_entry(benchmark)
    size = entry.input.shape[1]
    rows = []
    for photo in photos(benchmark, size, wheel_dir):
        rows.append(Row(photo.name, entry.labels.index(photo.label), photo.data, photo.source))
        progress(photo.name)
    return rows, {"debian_packages": _debian_versions(["opencv-doc", "tuxpaint-stamps-default"])}


def _ad_rows(progress: Progress) -> tuple[list[Row], dict]:
    from tinyperf.suite.smoke.ad_set import machine_clips

    rows = []
    for clip in machine_clips():
        rows.append(Row(clip.name, clip.label, clip.data, clip.source))
        progress(clip.name)
    return rows, {"pipeline_check_only": True}


def build_smoke(benchmark: str, out: Path, wheel_dir: Path, progress: Progress = lambda name: None) -> Path:
    if benchmark == "kws01":
        rows, extra = _kws_rows(progress)
    elif benchmark in ("vww01", "ic01"):
        rows, extra = _photo_rows(benchmark, wheel_dir, progress)
    elif benchmark == "ad01":
        rows, extra = _ad_rows(progress)
    else:
        raise TinyperfError(f"no smoke set recipe for {benchmark}")
    return write_eembc_folder(out, benchmark, rows, NOTES[benchmark], extra)
