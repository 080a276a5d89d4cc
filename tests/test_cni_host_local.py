"""simlab-host-local: the on-disk store, round-robin, and 32 concurrent ADDs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from simlab.cni.plugins import host_local

EXE = os.path.join(os.path.dirname(sys.executable), "simlab-host-local")


def conf(data_dir, subnet="10.88.0.0/24", version="1.0.0", **ipam) -> str:
    return json.dumps(
        {
            "cniVersion": version,
            "name": "pool",
            "ipam": {
                "type": "simlab-host-local",
                "subnet": subnet,
                "dataDir": str(data_dir),
                **ipam,
            },
        }
    )


def env(cid, command="ADD", ifname="eth0", **extra):
    return {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": cid,
        "CNI_NETNS": "/nonexistent",
        "CNI_IFNAME": ifname,
        "CNI_PATH": "/nonexistent",
        **extra,
    }


def add(data_dir, cid, **kw):
    code, out, err = host_local.run(env(cid), conf(data_dir, **kw))
    assert code == 0, out
    return json.loads(out)["ips"][0]["address"]


def test_store_files_exactly_as_the_reference(tmp_path):
    assert add(tmp_path, "rsA-ctr1") == "10.88.0.2/24"
    d = tmp_path / "pool"
    assert (d / "10.88.0.2").read_bytes() == b"rsA-ctr1\r\neth0"  # 14 bytes, CRLF, no newline
    assert (d / "last_reserved_ip.0").read_bytes() == b"10.88.0.2"
    assert (d / "lock").read_bytes() == b""
    assert oct(os.stat(d / "10.88.0.2").st_mode & 0o777) == "0o644"
    assert oct(os.stat(d).st_mode & 0o777) == "0o755"


def test_round_robin_does_not_reuse_at_once(tmp_path):
    assert [add(tmp_path, f"c{i}") for i in range(2)] == ["10.88.0.2/24", "10.88.0.3/24"]
    for i in range(2):
        assert host_local.run(env(f"c{i}", "DEL"), conf(tmp_path))[0] == 0
    assert [add(tmp_path, f"d{i}") for i in range(3)] == [
        "10.88.0.4/24",
        "10.88.0.5/24",
        "10.88.0.6/24",
    ]


def test_wraps_around_and_skips_the_gateway(tmp_path):
    kw = {"subnet": "10.88.0.0/29", "gateway": "10.88.0.3"}
    got = [add(tmp_path, f"c{i}", **kw) for i in range(5)]
    assert got == ["10.88.0.1/29", "10.88.0.2/29", "10.88.0.4/29", "10.88.0.5/29", "10.88.0.6/29"]
    host_local.run(env("c1", "DEL"), conf(tmp_path, **kw))
    assert add(tmp_path, "again", **kw) == "10.88.0.2/29"  # wrapped from .6 (the end) to the start


def test_requested_ip_and_gateway_refusal(tmp_path):
    code, out, _ = host_local.run(env("a", CNI_ARGS="IP=10.88.0.1"), conf(tmp_path))
    assert (
        json.loads(out)["msg"]
        == "failed to allocate for range 0: requested ip 10.88.0.1 is subnet's gateway"
    )
    code, out, _ = host_local.run(env("a", CNI_ARGS="IP=10.88.0.77"), conf(tmp_path))
    assert code == 0 and json.loads(out)["ips"][0]["address"] == "10.88.0.77/24"
    code, out, _ = host_local.run(env("b", CNI_ARGS="IP=10.88.0.77"), conf(tmp_path))
    assert json.loads(out)["msg"] == (
        "failed to allocate for range 0: requested IP address 10.88.0.77 is not "
        "available in range set 10.88.0.1-10.88.0.254"
    )


def test_resolv_conf_and_routes(tmp_path):
    rc = tmp_path / "resolv.conf"
    rc.write_text(
        "# comment\nnameserver 10.0.0.53\nnameserver 10.0.0.54\nsearch a.example b.example\n"
        "domain a.example\noptions ndots:2\n"
    )
    code, out, _ = host_local.run(
        env("a"), conf(tmp_path, resolvConf=str(rc), routes=[{"dst": "0.0.0.0/0"}])
    )
    r = json.loads(out)
    assert r["dns"] == {
        "nameservers": ["10.0.0.53", "10.0.0.54"],
        "domain": "a.example",
        "search": ["a.example", "b.example"],
        "options": ["ndots:2"],
    }
    assert r["routes"] == [{"dst": "0.0.0.0/0"}]


def test_two_ranges_in_one_set(tmp_path):
    c = json.dumps(
        {
            "cniVersion": "1.0.0",
            "name": "pool",
            "ipam": {
                "type": "x",
                "dataDir": str(tmp_path),
                "ranges": [[{"subnet": "10.1.0.0/30"}, {"subnet": "10.2.0.0/30"}]],
            },
        }
    )
    got = [json.loads(host_local.run(env(f"c{i}"), c)[1])["ips"][0]["address"] for i in range(2)]
    assert got == ["10.1.0.2/30", "10.2.0.2/30"]
    code, out, _ = host_local.run(env("c9"), c)
    assert json.loads(out)["msg"].endswith(
        "no IP addresses available in range set: 10.1.0.1-10.1.0.2,10.2.0.1-10.2.0.2"
    )


def test_32_parallel_adds_in_threads_get_distinct_addresses(tmp_path):
    with ThreadPoolExecutor(32) as pool:
        got = list(pool.map(lambda i: add(tmp_path, f"ctr{i}"), range(32)))
    assert len(set(got)) == 32
    with ThreadPoolExecutor(32) as pool:
        codes = list(
            pool.map(lambda i: host_local.run(env(f"ctr{i}", "DEL"), conf(tmp_path))[0], range(32))
        )
    assert codes == [0] * 32
    assert sorted(os.listdir(tmp_path / "pool")) == ["last_reserved_ip.0", "lock"]


@pytest.mark.slow
def test_32_parallel_adds_as_processes_get_distinct_addresses(tmp_path):
    """The executable, 32 at once: the flock on `lock` serializes them."""
    c = conf(tmp_path).encode()
    procs = [
        subprocess.Popen(
            [EXE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**env(f"ctr{i}"), "PATH": "/usr/bin:/bin"},
        )
        for i in range(32)
    ]
    outs = [p.communicate(c, timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 32, outs
    got = [json.loads(o)["ips"][0]["address"] for o, _ in outs]
    assert len(set(got)) == 32
    files = sorted(n for n in os.listdir(tmp_path / "pool") if n[0].isdigit())
    assert len(files) == 32
    procs = [
        subprocess.Popen(
            [EXE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**env(f"ctr{i}", "DEL"), "PATH": "/usr/bin:/bin"},
        )
        for i in range(32)
    ]
    assert [p.communicate(c, timeout=120)[0] for p in procs] == [b""] * 32
    assert sorted(os.listdir(tmp_path / "pool")) == ["last_reserved_ip.0", "lock"]


def test_legacy_result_formats(tmp_path):
    code, out, _ = host_local.run(
        env("a"), conf(tmp_path, version="0.2.0", routes=[{"dst": "0.0.0.0/0"}])
    )
    assert json.loads(out) == {
        "cniVersion": "0.2.0",
        "ip4": {"ip": "10.88.0.2/24", "gateway": "10.88.0.1", "routes": [{"dst": "0.0.0.0/0"}]},
        "dns": {},
    }
    c = json.loads(conf(tmp_path))
    del c["cniVersion"]
    code, out, _ = host_local.run(env("b"), json.dumps(c))
    assert json.loads(out) == {
        "cniVersion": "0.1.0",
        "ip4": {"ip": "10.88.0.3/24", "gateway": "10.88.0.1"},
        "dns": {},
    }
    # two v4 range sets are not expressible before 0.3.0
    c = {
        "cniVersion": "0.2.0",
        "name": "pool",
        "ipam": {
            "dataDir": str(tmp_path),
            "ranges": [[{"subnet": "10.1.0.0/24"}], [{"subnet": "10.2.0.0/24"}]],
        },
    }
    assert json.loads(host_local.run(env("c"), json.dumps(c))[1])["msg"] == (
        "CNI version 0.2.0 does not support more than 1 address per family"
    )


# ------------------------------------------------------------- attacks (issue 18)
@pytest.mark.parametrize("how", ["CNI_ARGS", "runtimeConfig", "args"])
@pytest.mark.parametrize("ip", ["fd00:5::7%z3", "10.88.0.7%z3"])
def test_an_address_with_a_zone_is_refused_so_it_is_never_leased_twice(tmp_path, how, ip):
    subnet = "fd00:5::/64" if ":" in ip else "10.88.0.0/24"
    extra_env = {}
    if how == "CNI_ARGS":
        extra_env = {"CNI_ARGS": f"IP={ip}"}
    text = conf(tmp_path, subnet=subnet)
    if how != "CNI_ARGS":
        data = json.loads(text)
        if how == "runtimeConfig":
            data["runtimeConfig"] = {"ips": [ip]}
        else:
            data["args"] = {"cni": {"ips": [ip]}}
        text = json.dumps(data)
    code, out, _ = host_local.run(env("rsA-zone", **extra_env), text)
    assert code != 0
    assert "invalid IP address" in json.loads(out)["msg"]
    assert not list((tmp_path / "pool").glob("*%*"))  # no lease file was written


def _run_limited(tmp_path, resolv: str) -> subprocess.CompletedProcess:
    """The plugin as a process, under 512 MiB of address space and a 20 s timeout."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))

    return subprocess.run([EXE], input=conf(tmp_path, resolvConf=resolv).encode(),
                          env={**env("rsA-dns"), "PATH": "/usr/bin:/bin"}, capture_output=True,
                          timeout=20, preexec_fn=limit)


def test_resolv_conf_from_dev_zero_or_a_fifo_stops_at_once(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo), str(tmp_path)):
        p = _run_limited(tmp_path, path)
        assert p.returncode == 1, p.stderr
        answer = json.loads(p.stdout)
        assert answer["code"] == 999 and "not a regular file" in answer["msg"], answer


def test_resolv_conf_reads_within_go_limits(tmp_path):
    long_line = tmp_path / "long"
    long_line.write_bytes(b"nameserver 10.0.0.1\n" + b"x" * (64 * 1024 + 1) + b"\n")
    answer = json.loads(_run_limited(tmp_path, str(long_line)).stdout)
    assert (answer["code"], answer["msg"]) == (999, "bufio.Scanner: token too long")
    big = tmp_path / "big"
    big.write_bytes(b"# comment\n" * 200_000)
    answer = json.loads(_run_limited(tmp_path, str(big)).stdout)
    assert answer["code"] == 999 and "larger than" in answer["msg"]
