"""The Milvus server the tests start takes free ports only, its embedded etcd's included, so two
test runs on one machine never collide."""

import subprocess

import pytest

pytestmark = [pytest.mark.milvus, pytest.mark.milvus_server]


def listening_ports() -> set[int]:
    out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=False).stdout
    return {int(line.split()[3].rsplit(":", 1)[1]) for line in out.splitlines() if line.split()}


def test_the_milvus_server_leaves_the_fixed_etcd_ports_free(milvus_server):
    ports = listening_ports()
    assert int(milvus_server.rsplit(":", 1)[1]) in ports  # the reading works
    assert not {2379, 2380} & ports
