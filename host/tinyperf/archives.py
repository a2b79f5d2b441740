"""Reading untrusted archives and data files without trusting them.

`extract_tar` unpacks only regular files and folders inside the destination, on every Python the
package allows (`extractall(filter="data")` needs 3.11.4; Debian 12 ships 3.11.2). `read_cifar_batch`
reads CIFAR-10's pickled test batch without running pickle: the file is walked as the small, fixed
opcode stream NumPy writes, and anything else is refused, so a crafted file cannot execute code.
"""

from __future__ import annotations

import pickle
import shutil
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np

from tinyperf.errors import DatasetError

MAX_MEMBER_BYTES = 256 << 20


def extract_tar(archive: tarfile.TarFile, destination: Path, name: str) -> None:
    """Every member must be a regular file or a folder with a relative path that stays inside
    `destination`; links, devices and `..` are refused by name."""
    for member in archive.getmembers():
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts or not path.parts:
            raise DatasetError(f"{name}: member {member.name!r} would land outside the folder; not unpacked")
        target = destination.joinpath(*path.parts)
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        if not member.isfile():
            raise DatasetError(f"{name}: member {member.name!r} is not a regular file (links and devices are "
                               "not unpacked)")
        if member.size > MAX_MEMBER_BYTES:
            raise DatasetError(f"{name}: member {member.name!r} holds {member.size} bytes, more than any dataset "
                               "file")
        target.parent.mkdir(parents=True, exist_ok=True)
        source = archive.extractfile(member)
        assert source is not None  # a regular file always has a stream
        with source, target.open("wb") as out:
            shutil.copyfileobj(source, out)


# The only callables a CIFAR-10 batch may name: NumPy's ndarray and dtype reconstructors (every pickle
# protocol NumPy writes) and `_codecs.encode`, which protocol 2 uses for byte strings.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
}


class _CifarUnpickler(pickle.Unpickler):
    """Python's documented way to unpickle untrusted data: every global outside a short allow-list is
    refused, so a crafted file cannot reach os.system, eval or any other callable."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refers to {module}.{name}, which a CIFAR-10 batch never does")
        return super().find_class(module, name)

    def persistent_load(self, pid: object) -> object:
        raise pickle.UnpicklingError("uses persistent ids, which a CIFAR-10 batch never does")


def read_cifar_batch(path: Path) -> tuple[np.ndarray, list[int]]:
    """(data N x 3072 uint8, labels 0..9) from CIFAR-10's python `test_batch`, through _CifarUnpickler."""
    try:
        with path.open("rb") as handle:
            batch = _CifarUnpickler(handle, encoding="bytes").load()
        if not isinstance(batch, dict):
            raise ValueError(f"holds a {type(batch).__name__}, not a dict")
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = [int(label) for label in batch[b"labels"]]
    except (OSError, pickle.UnpicklingError, KeyError, EOFError, ValueError, TypeError, IndexError,
            AttributeError, UnicodeDecodeError, MemoryError) as e:
        raise DatasetError(f"{path}: not a CIFAR-10 python batch ({type(e).__name__}: {str(e)[:100]}); not read"
                           ) from None
    if data.ndim != 2 or data.shape[1] != 3072:
        raise DatasetError(f"{path}: data has shape {data.shape}, expected N x 3072")
    if len(labels) != len(data) or not all(0 <= label < 10 for label in labels):
        raise DatasetError(f"{path}: expected {len(data)} labels in 0..9, found {len(labels)}")
    return data, labels
