"""Image front end for vww01 and ic01: RGB uint8 pixels, one byte per channel (the device subtracts 128)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from tinyperf.errors import DatasetError


def load_rgb(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            image.load()
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError) as e:
        raise DatasetError(f"{path}: not a readable image ({e})") from e


def image_bytes(image: Image.Image, size: int, box: tuple[int, int, int, int] | None = None) -> bytes:
    """Crop to `box` (left, top, right, bottom) if given, resize to size x size, HWC RGB bytes."""
    if box is not None:
        image = image.crop(box)
    resized = image.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8).tobytes()


def pixels_to_bytes(pixels: np.ndarray) -> bytes:
    """HWC uint8 pixels (e.g. a CIFAR-10 row reshaped) as the bytes the device takes."""
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected HxWx3 uint8 pixels, got {pixels.shape} {pixels.dtype}")
    return np.ascontiguousarray(pixels).tobytes()
