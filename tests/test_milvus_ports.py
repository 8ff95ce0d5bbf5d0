"""The Milvus server the tests start takes free ports only, its embedded etcd's and its
coordinators' included, so two test runs on one machine never collide."""

import subprocess

import pytest

pytestmark = [pytest.mark.milvus, pytest.mark.milvus_server]


def listening_ports(pid: int | None = None) -> set[int]:
    """TCP ports listened on, on this machine or by the process `pid`."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=False).stdout
    lines = [line for line in out.splitlines() if line.split() and (pid is None or f"pid={pid}," in line)]
    return {int(line.split()[3].rsplit(":", 1)[1]) for line in lines}


# The package's defaults: etcd's client and peer ports, the coordinators' and nodes' gRPC ports,
# the proxy's, and the health/metrics port.
FIXED_DEFAULTS = {2379, 2380, 53100, 19529, 19530, 19531, 21121, 21123, 21124, 22930, 13333, 9091}


def test_the_milvus_server_takes_none_of_the_fixed_default_ports(milvus_server_process):
    ports = listening_ports(milvus_server_process.server_proc.pid)
    assert milvus_server_process.listen_port in ports  # the reading works: its own ports are seen
    assert len(ports) >= 5  # the coordinators' and nodes' ports with it
    assert not FIXED_DEFAULTS & ports, sorted(FIXED_DEFAULTS & ports)
