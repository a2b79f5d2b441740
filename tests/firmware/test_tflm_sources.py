"""The TFLM build's sources: git tree ids computed as git computes them, a pinned archive fetched over real
HTTP and verified (a tampered one refused, nothing kept), the offline error naming every folder flag,
TFLM's make lists read and just the model's kernels chosen, and the linker's overflow turned into numbers.
CI has no TFLM tree; these use small real git repositories and the real cross linker instead."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import socket
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.firmware.test_firmware import _need
from tinyperf.device.boards import get_board
from tinyperf.device.protocol.extended import Capabilities
from tinyperf.errors import ConfigError
from tinyperf.firmware.gittree import git_tree_id
from tinyperf.firmware.memory import does_not_fit
from tinyperf.firmware.sources import PINS, Pin, fetch_tree, resolve_trees
from tinyperf.firmware.tflm_files import kernel_files, make_variable
from tinyperf.resources import data_dir

pytestmark = pytest.mark.no_models  # runs without the official models


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(cwd)}).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small repository: nested folders, an executable script, a file outside the pinned subtree."""
    _need("git")
    root = tmp_path / "upstream"
    (root / "lib" / "deep").mkdir(parents=True)
    (root / "lib" / "a.h").write_text("int a;\n")
    (root / "lib" / "deep" / "b.c").write_bytes(b"int b = 2;\r\n\x00binary")
    (root / "lib" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "lib" / "run.sh").chmod(0o755)
    (root / "lib-extra").mkdir()
    (root / "lib-extra" / "x.h").write_text("x\n")
    (root / "README").write_text("not compiled\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "one")
    return root


def test_tree_id_is_the_one_git_records(repo: Path) -> None:
    (repo / "lib" / "empty").mkdir()  # git records no empty folder, so neither do we
    assert git_tree_id(repo / "lib") == _git(repo, "rev-parse", "HEAD:lib")
    (repo / "lib" / "run.sh").chmod(0o644)  # the mode is part of the tree
    assert git_tree_id(repo / "lib") != _git(repo, "rev-parse", "HEAD:lib")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server laid out like github.com/<owner>/<name>/archive/<commit>.tar.gz."""
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def _publish(repo: Path, www: Path, commit: str) -> Path:
    archive = www / "example" / "lib" / "archive" / f"{commit}.tar.gz"
    archive.parent.mkdir(parents=True, exist_ok=True)
    _git(repo, "archive", "--format=tar.gz", f"--prefix=lib-{commit}/", "-o", str(archive), commit)
    return archive


def _pin(repo: Path) -> Pin:
    commit = _git(repo, "rev-parse", "HEAD")
    return Pin("example", "example/lib", commit, {"lib": _git(repo, "rev-parse", "HEAD:lib")}, "lib/a.h", None, None)


@pytest.fixture
def published(repo: Path, mirror: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> tuple[Pin, Path]:
    """The repository's HEAD pinned, its archive on the mirror, and the product pointed at the mirror."""
    base, www = mirror
    monkeypatch.setenv("TINYPERF_SOURCES_URL", base)
    pin = _pin(repo)
    return pin, _publish(repo, www, pin.commit)


def test_a_pinned_archive_is_fetched_verified_and_recorded(published: tuple[Pin, Path], tmp_path: Path) -> None:
    pin, archive = published
    tree = fetch_tree(pin, tmp_path / "cache", None)
    assert tree.path == tmp_path / "cache" / pin.folder_name and "verified" in tree.origin
    assert (tree.path / "lib" / "deep" / "b.c").read_bytes() == b"int b = 2;\r\n\x00binary"
    assert not (tree.path / "README").exists() and not (tree.path / "lib-extra").exists()  # only the subtree
    assert git_tree_id(tree.path / "lib") == pin.subtrees["lib"]
    record = json.loads((tree.path / ".tinyperf-source.json").read_text())
    assert record["archive_sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert record["commit"] == pin.commit


def test_a_tampered_archive_is_refused_and_nothing_is_kept(published: tuple[Pin, Path], tmp_path: Path) -> None:
    pin, archive = published
    buffer = io.BytesIO()
    with tarfile.open(archive) as original, tarfile.open(fileobj=buffer, mode="w:gz") as changed:
        for member in original:
            data = original.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if member.name.endswith("a.h"):
                data = b"int a = 666;\n"
                member.size = len(data)
            changed.addfile(member, io.BytesIO(data) if data is not None else None)
    archive.write_bytes(buffer.getvalue())
    with pytest.raises(ConfigError, match=r"lib/ has git tree [0-9a-f]{12}, the pin says .*nothing was kept"):
        fetch_tree(pin, tmp_path / "cache", None)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []


def test_offline_names_every_folder_to_give_instead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nobody listens on: a refused connection, like an offline machine
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("TINYPERF_SOURCES_URL", f"http://127.0.0.1:{closed}")
    monkeypatch.setenv("TINYPERF_CACHE", str(tmp_path / "models"))
    for env in ("TFLM_DIR", "CMSIS_NN_DIR", "CMSIS_DIR"):
        monkeypatch.delenv(env, raising=False)
    with pytest.raises(ConfigError) as raised:
        resolve_trees(["tflm", "flatbuffers", "cmsis_nn", "cmsis"], {}, download=True)
    message = str(raised.value)
    assert "--tflm-dir DIR (or $TFLM_DIR)" in message and "--cmsis-nn-dir DIR" in message
    assert "--cmsis-dir DIR" in message and "tinyperf sources fetch" in message


def test_a_given_folder_that_is_not_the_tree_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--cmsis-nn-dir .*not a ARM-software/CMSIS-NN tree \(no Include/arm_nn"):
        resolve_trees(["cmsis_nn"], {"cmsis_nn": tmp_path}, download=False)


SOURCES_INC = """\
MICROLITE_TEST_SRCS := \\
$(TENSORFLOW_ROOT)tensorflow/lite/micro/a_test.cc

MICROLITE_CC_KERNEL_SRCS := \\
$(TENSORFLOW_ROOT)tensorflow/lite/micro/kernels/conv.cc \\
$(TENSORFLOW_ROOT)tensorflow/lite/micro/kernels/conv_common.cc \\
$(TENSORFLOW_ROOT)tensorflow/lite/micro/kernels/kernel_util.cc \\
$(TENSORFLOW_ROOT)tensorflow/lite/micro/kernels/micro_tensor_utils.cc \\
$(TENSORFLOW_ROOT)tensorflow/lite/micro/kernels/reduce.cc \\
$(TENSORFLOW_ROOT)tensorflow/lite/micro/kernels/softmax.cc

MICROLITE_CC_SIGNAL_KERNEL_SRCS := \\
$(TENSORFLOW_ROOT)signal/micro/kernels/fft.cc
"""


def _mini_tflm(root: Path) -> Path:
    kernels = root / "tensorflow/lite/micro/kernels"
    (kernels / "cmsis_nn").mkdir(parents=True)
    (root / "tensorflow/lite/micro/tools/make").mkdir(parents=True)
    (root / "tensorflow/lite/micro/tools/make/sources.inc").write_text(SOURCES_INC)
    files = {"conv.cc": "TFLMRegistration Register_CONV_2D() {}\nTFLMRegistration Register_CONV_2D_INT8();",
             "conv_common.cc": "", "kernel_util.cc": "", "micro_tensor_utils.cc": "",
             "reduce.cc": "TFLMRegistration Register_MEAN() {}\nTFLMRegistration Register_SUM() {}",
             "softmax.cc": "TFLMRegistration Register_SOFTMAX() {}", "cmsis_nn/conv.cc": "Register_CONV_2D"}
    for name, text in files.items():
        (kernels / name).write_text(text)
    return root


def test_make_lists_are_read_as_tflm_writes_them() -> None:
    assert make_variable(SOURCES_INC, "MICROLITE_TEST_SRCS") == ["tensorflow/lite/micro/a_test.cc"]
    assert make_variable(SOURCES_INC, "MICROLITE_CC_SIGNAL_KERNEL_SRCS") == ["signal/micro/kernels/fft.cc"]
    with pytest.raises(ConfigError, match="has no NOPE"):
        make_variable(SOURCES_INC, "NOPE")


def test_just_the_models_kernels_are_chosen_and_cmsis_nn_replaces_its_own(tmp_path: Path) -> None:
    tflm = _mini_tflm(tmp_path)
    reference = kernel_files(tflm, ["CONV_2D", "MEAN"], "reference")
    base = "tensorflow/lite/micro/kernels/"
    assert reference == [base + f for f in ("conv.cc", "conv_common.cc", "kernel_util.cc", "micro_tensor_utils.cc",
                                            "reduce.cc")]
    optimised = kernel_files(tflm, ["CONV_2D", "MEAN"], "cmsis-nn")
    assert optimised[0] == base + "cmsis_nn/conv.cc" and optimised[1:] == reference[1:]
    with pytest.raises(ConfigError, match="no kernel registering FANCY_OP"):
        kernel_files(tflm, ["SOFTMAX", "FANCY_OP"], "reference")


def test_a_linker_overflow_is_said_in_kib_of_the_boards_memory(tmp_path: Path) -> None:
    """A real arm-none-eabi link of an image too big for the STM32L4R5's 2 MiB flash and 640 KiB RAM."""
    _need("arm-none-eabi-gcc")
    source = tmp_path / "big.c"
    source.write_text("const char flash_hog[2200 * 1024] = {1};\nchar ram_hog[700 * 1024];\n"
                      "int main(void) { return flash_hog[ram_hog[3]]; }\nvoid tp_reset_handler(void) { main(); }\n")
    ports = data_dir("firmware") / "ports"
    done = subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostartfiles", "--specs=nosys.specs",
                           f"-L{ports / 'cortex-m'}", "-T", str(ports / "nucleo-l4r5zi" / "memory.ld"),
                           str(source), "-o", str(tmp_path / "big.elf")], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    error = does_not_fit(done.stderr, get_board("nucleo-l4r5zi"), "kws01 firmware")
    assert error is not None
    assert "kws01 firmware does not fit nucleo-l4r5zi: " in str(error)
    assert "FLASH needs" in str(error) and "of 2048 KiB (over by" in str(error)
    assert does_not_fit("undefined reference to `foo'", get_board("nucleo-l4r5zi"), "x") is None


def test_capabilities_carry_engine_and_arena_and_older_lines_still_parse() -> None:
    new = Capabilities.parse("m-tp-caps-[v=1 frame=1024 buffers=2 buffer-bytes=490 features=crc,exact "
                             "bauds=115200 engine=tflm/cmsis-nn arena=22820/27648]")
    assert (new.engine, new.arena_used, new.arena_bytes) == ("tflm/cmsis-nn", 22820, 27648)
    old = Capabilities.parse("m-tp-caps-[v=1 frame=1024 buffers=2 buffer-bytes=490 features=crc bauds=115200]")
    assert (old.engine, old.arena_used, old.arena_bytes) == ("", 0, 0)


def test_pins_name_full_commits_and_tree_ids() -> None:
    for pin in PINS.values():
        assert len(pin.commit) == 40 and all(len(tree) == 40 for tree in pin.subtrees.values())
        assert pin.url("https://github.com") == f"https://github.com/{pin.repository}/archive/{pin.commit}.tar.gz"
