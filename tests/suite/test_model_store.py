"""Model lookup order and the download path, over real HTTP on loopback (never the internet)."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from tests.conftest import model_path
from tinyperf.errors import ModelError
from tinyperf.suite.models import _download, get_entry, resolve_model


@pytest.fixture
def http_root(tmp_path: Path):
    root = tmp_path / "www"
    root.mkdir()
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_verifies_and_caches(http_root, tmp_path: Path) -> None:
    root, base = http_root
    (root / "kws.tflite").write_bytes(model_path("kws01").read_bytes())
    dest = tmp_path / "cache" / "kws_ref_model.tflite"
    resolved = _download(f"{base}/kws.tflite", dest, get_entry("kws01"), "kws01")
    assert resolved.official and dest.read_bytes() == model_path("kws01").read_bytes()


def test_download_with_wrong_hash_is_refused_and_not_cached(http_root, tmp_path: Path) -> None:
    root, base = http_root
    (root / "kws.tflite").write_bytes(model_path("kws01").read_bytes()[:-1])
    dest = tmp_path / "cache" / "kws_ref_model.tflite"
    with pytest.raises(ModelError, match="has sha256"):
        _download(f"{base}/kws.tflite", dest, get_entry("kws01"), "kws01")
    assert not dest.exists()


def test_unreachable_url_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="pass --model FILE or set TINYPERF_MODELS"):
        _download("http://127.0.0.1:9/none.tflite", tmp_path / "x.tflite", get_entry("kws01"), "kws01")


def test_corrupt_cache_entry_is_discarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TINYPERF_MODELS")
    monkeypatch.setenv("TINYPERF_CACHE", str(tmp_path))
    (tmp_path / "kws_ref_model.tflite").write_bytes(b"TFL3 truncated")
    with pytest.raises(ModelError, match="no kws01 model found locally"):
        resolve_model("kws01", allow_download=False)
    assert not (tmp_path / "kws_ref_model.tflite").exists()


def test_lookup_order_explicit_then_env(tmp_path: Path) -> None:
    explicit = resolve_model("kws01", model_path("kws01"))
    assert explicit.source.startswith("--model") and explicit.official
    assert resolve_model("kws01").source.startswith("TINYPERF_MODELS")
