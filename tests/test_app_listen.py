"""`make run` serves the app on loopback only: it has no login, so the network must not reach it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.browser import free_port, wait_healthy
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")

LISTEN = "0A"  # TCP state of a listening socket in /proc/net/tcp


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as the kernel writes them) of sockets listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, port_hex = local.split(":")
            if state == LISTEN and int(port_hex, 16) == port:
                found.add(address)
    return found


def _loopback(address_hex: str) -> bool:
    if len(address_hex) == 8:  # IPv4, little-endian bytes: 127.x.x.x ends in 7F
        return address_hex.endswith("7F")
    return address_hex == "00000000000000000000000001000000"  # ::1


def test_make_run_listens_on_loopback_only():
    port = free_port()
    # -o: never reinstall here; the venv is what the tests already run in
    proc = subprocess.Popen(["make", "-o", ".venv/.installed", "run", f"PORT={port}"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        try:
            wait_healthy(f"http://127.0.0.1:{port}", proc, 120)
        except RuntimeError as exc:
            pytest.fail(f"make run did not serve the app: {exc}")
        addresses = _listening_addresses(port)
        assert addresses, "the app answers but no listening socket was found"
        assert all(_loopback(a) for a in addresses), addresses
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
