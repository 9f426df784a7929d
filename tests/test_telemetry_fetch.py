"""Live Prometheus `query_range` by URL: the answer saved as a file; an unreachable server is a clear exit 2."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from tests.cli_support import aift
from twin.telemetry.read import read_telemetry

ANSWER = {"status": "success", "data": {"resultType": "matrix", "result": [
    {"metric": {"__name__": "DCGM_FI_DEV_GPU_UTIL", "gpu": "0", "modelName": "NVIDIA H100 80GB HBM3"},
     "values": [[1780000000, "40"], [1780000060, "60"]]}]}}


@pytest.fixture
def prometheus():
    """A stand-in Prometheus on a loopback port, answering /api/v1/query_range and remembering what it was asked."""
    asked = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            url = urlparse(self.path)
            asked.append((url.path, parse_qs(url.query)))
            body = json.dumps(ANSWER if url.path == "/api/v1/query_range" else {"status": "error"}).encode()
            self.send_response(200 if url.path == "/api/v1/query_range" else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", asked
    server.shutdown()


def test_fetch_saves_the_answer_the_readers_take(tmp_path, monkeypatch, prometheus):
    url, asked = prometheus
    out = tmp_path / "range.json"
    assert aift(monkeypatch, "telemetry", "fetch", url, "--query", "DCGM_FI_DEV_GPU_UTIL", "--start", "1780000000",
                "--end", "2026-05-28T20:30:00Z", "--step-s", "60", "--out", out) == 0
    path, query = asked[0]
    assert path == "/api/v1/query_range"
    assert query["query"] == ["DCGM_FI_DEV_GPU_UTIL"]
    assert query["step"] == ["60.0"]
    tm = read_telemetry([out])
    assert list(tm.samples["value"]) == [40.0, 60.0]


def test_an_unreachable_server_is_exit_2_with_the_reason(tmp_path, monkeypatch, capsys):
    out = tmp_path / "range.json"
    assert aift(monkeypatch, "telemetry", "fetch", "http://127.0.0.1:9", "--query", "up", "--start", "0", "--end", "60",
                "--timeout-s", "2", "--out", out) == 2
    err = capsys.readouterr().err
    assert "cannot reach the Prometheus server" in err
    assert "Traceback" not in err
    assert not out.exists()
    assert aift(monkeypatch, "telemetry", "fetch", "file:///etc/passwd", "--query", "up", "--start", "0", "--end", "60", "--out", out) == 2
    assert "only http:// and https://" in capsys.readouterr().err
