"""docker/scale.py's own logic that does not need containers (the containers run in make docker-test)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).resolve().parents[2] / "docker"))  # scale.py imports probe, dockerd

import scale  # noqa: E402


class _Session:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock


@pytest.mark.parametrize("payloads", [["x" * 4_000_000], ["{not json", "{}", "{}"]])
def test_a_client_cut_off_while_sending_counts_as_cut_off(payloads: list[str]) -> None:
    """The server may refuse an oversized message before its last byte arrives (a clean-clone run
    failed with BrokenPipeError there): that is the cut-off the check wants, not an error."""
    ours, server = socket.socketpair()
    server.close()
    try:
        assert scale._sent_until_cut_off(_Session(ours), payloads)
    finally:
        ours.close()


def test_a_client_still_connected_is_not_cut_off_by_sending() -> None:
    ours, server = socket.socketpair()
    try:
        server.setblocking(False)
        assert not scale._sent_until_cut_off(_Session(ours), ["{}"])
        assert server.recv(64)  # the frame arrived
    finally:
        ours.close()
        server.close()
