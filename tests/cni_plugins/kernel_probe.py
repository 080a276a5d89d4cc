"""Run a CNI scenario on the real kernel in a throw-away sandbox; print a normalized report.

Usage (as root): ``unshare --net --mount python kernel_probe.py SPEC.json``.  The
process is then alone in a fresh network namespace (the lab's "node") and a
private mount namespace, so ``ip netns add`` and the plugins cannot touch the
machine.  SPEC::

    {"impl": "ref" | "simlab", "plugin_dir": "...", "extra_path": ["..."], "data_dir": "...",
     "netns": ["c1", "c2"], "env": {...},
     "calls": [{"id": "add1", "cmd": "ADD", "cid": "ctr1", "netns": "c1", "conf": {...},
                "prev": "add1", "env": {...}, "snapshot": true},
               {"id": "chain", "runtime": "add" | "check" | "del", "cid": "...", "netns": "c1",
                "conf": {... conflist ...}},
               {"id": "nsdel", "netns_del": "c1"}]}

Configs name the reference types ``bridge`` and ``host-local``; for ``simlab``
they become ``simlab-bridge`` and ``simlab-host-local``.  The report has, per
call, the exit status and the normalized stdout, and after calls marked
``snapshot`` the normalized state (MACs, veth names and ifindexes hidden;
txqueuelen left out: the reference's 1.1.1 veths have 0, a bug fixed upstream).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

MAC = re.compile(r"^(?:[0-9a-f]{2}:){5}[0-9a-f]{2}$")


def sh(*argv: str, check: bool = True) -> str:
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: {p.stderr}")
    return p.stdout


def setup(names: list[str]) -> None:
    sh("mount", "--make-rprivate", "/")
    os.makedirs("/run/netns", exist_ok=True)
    sh("mount", "-t", "tmpfs", "simlab-probe", "/run/netns")
    sh("mount", "-t", "sysfs", "sysfs", "/sys")  # /sys/class/net of this namespace
    sh("ip", "link", "set", "lo", "up")
    for n in names:
        sh("ip", "netns", "add", n)


def retype(obj, impl: str):
    if impl != "simlab":
        return obj
    if isinstance(obj, dict):
        out = {k: retype(v, impl) for k, v in obj.items()}
        if out.get("type") in ("bridge", "host-local"):
            out["type"] = "simlab-" + out["type"]
        return out
    if isinstance(obj, list):
        return [retype(x, impl) for x in obj]
    return obj


def mac_class(mac: str) -> str:
    if mac == "00:00:00:00:00:00":
        return mac
    first = int(mac[:2], 16)
    return (
        "<mac:"
        + ("multicast" if first & 1 else "local-unicast" if first & 2 else "global-unicast")
        + ">"
    )


DATA_DIR = ""


def normalize_text(text: str, impl: str) -> str:
    if DATA_DIR:
        text = text.replace(DATA_DIR, "DATA_DIR")
    text = re.sub(r"\bveth[0-9a-f]{8}\b", "veth<8hex>", text)
    text = re.sub(r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}", lambda m: mac_class(m.group(0)), text)
    if impl == "simlab":
        text = text.replace("simlab-bridge", "bridge").replace("simlab-host-local", "host-local")
    return text


def ip_json(*argv: str, netns: str | None = None):
    pre = ["ip", "-n", netns] if netns else ["ip"]
    out = sh(*pre, "-j", *argv, check=False)
    return json.loads(out) if out.strip() else []


def read_file(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def link_view(j: dict) -> dict:
    info = j.get("linkinfo", {})
    slave = info.get("info_slave_data", {})
    view = {
        "kind": info.get("info_kind") or j.get("link_type"),
        "flags": sorted(j.get("flags", [])),
        "mtu": j.get("mtu"),
        "operstate": j.get("operstate"),
        "master": j.get("master"),
        "mac": mac_class(j.get("address", "")),
        "promiscuity": j.get("promiscuity"),
    }
    if slave:
        view["port"] = {
            k: slave.get(k) for k in ("state", "hairpin", "learning", "flood", "isolated")
        }
    if info.get("info_kind") == "bridge":
        view["bridge"] = {k: info["info_data"].get(k) for k in ("stp_state", "vlan_filtering")}
    return view


def addrs_of(netns: str | None, dev: str) -> list[str]:
    out = []
    for j in ip_json("addr", "show", "dev", dev, netns=netns):
        for a in j.get("addr_info", []):
            if a.get("scope") == "link":
                continue  # IPv6 link-local: derived from random MACs
            out.append(
                f"{a['local']}/{a['prefixlen']}"
                + (f" brd {a['broadcast']}" if a.get("broadcast") else "")
            )
    return sorted(out)


def routes_of(netns: str | None) -> list[str]:
    rows = []
    for fam in ("-4", "-6"):
        pre = ["ip", "-n", netns] if netns else ["ip"]
        out = sh(*pre, fam, "-j", "route", "show", check=False)
        for r in json.loads(out) if out.strip() else []:
            if r["dst"].startswith("fe80::") or r["dst"] == "multicast":
                continue
            rows.append(
                " ".join(
                    str(x)
                    for x in [
                        r["dst"],
                        "via " + r["gateway"] if r.get("gateway") else "",
                        "dev",
                        normalize_text(r.get("dev", ""), ""),
                        r.get("protocol", ""),
                        " ".join(sorted(r.get("flags", []))),
                    ]
                    if x
                )
            )
    return sorted(rows)


def state(names: list[str], data_dir: str) -> dict:
    host_links = ip_json("-d", "link", "show")
    peers = {}
    for n in names:
        for j in ip_json("-d", "link", "show", netns=n):
            if "link_index" in j:
                peers[j["link_index"]] = f"{n}:{j['ifname']}"
    host = {}
    by_mac = {}
    for j in host_links:
        if j["ifname"] == "lo":
            continue
        view = link_view(j)
        view["addrs"] = addrs_of(None, j["ifname"])
        name = j["ifname"]
        if re.fullmatch(r"veth[0-9a-f]{8}", name):
            view["peer"] = peers.get(j["ifindex"], "?")
            name = f"veth<8hex>@{view['peer']}"
            by_mac[j.get("address")] = name
        if view["kind"] == "bridge":
            view["addr_assign_type"] = read_file(f"/sys/class/net/{j['ifname']}/addr_assign_type")
        host[name] = view
    for j in host_links:
        if (j.get("linkinfo") or {}).get("info_kind") == "bridge":
            mac = j.get("address")
            # which port's (random) MAC is the lowest is chance: only say that it is a port's
            host[j["ifname"]]["mac_source"] = (
                "zero" if mac == "00:00:00:00:00:00" else "lowest port" if mac in by_mac else "own"
            )
    netns = {}
    for n in names:
        if n not in sh("ip", "netns", "list"):
            netns[n] = "deleted"
            continue
        links = {}
        for j in ip_json("-d", "link", "show", netns=n):
            view = link_view(j)
            view["addrs"] = addrs_of(n, j["ifname"])
            links[j["ifname"]] = view
        netns[n] = {"links": links, "routes": routes_of(n)}
    nat = sorted(
        line
        for line in sh("iptables", "-t", "nat", "-S", check=False).splitlines()
        if line and not line.startswith("-P ")
    )
    store = {}
    if os.path.isdir(data_dir):
        for net in sorted(os.listdir(data_dir)):
            for f in sorted(os.listdir(os.path.join(data_dir, net))):
                p = os.path.join(data_dir, net, f)
                store[f"{net}/{f}"] = [
                    read_file(p) if f != "lock" else "",
                    oct(os.stat(p).st_mode & 0o777),
                ]
    return {
        "host": host,
        "host_routes": routes_of(None),
        "ip_forward": read_file("/proc/sys/net/ipv4/ip_forward"),
        "nat": nat,
        "netns": netns,
        "store": store,
    }


def settled_state(names, data_dir) -> dict:
    """Operstate settles asynchronously (linkwatch): read until two reads agree."""
    last = state(names, data_dir)
    for _ in range(10):
        time.sleep(0.3)
        now = state(names, data_dir)
        if now == last:
            return now
        last = now
    return last


def main() -> None:
    spec = json.load(open(sys.argv[1]))
    global DATA_DIR
    impl, data_dir = spec["impl"], spec["data_dir"]
    DATA_DIR = data_dir
    setup(spec["netns"])
    path = os.pathsep.join([spec["plugin_dir"], *spec.get("extra_path", [])])
    base_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **spec.get("env", {})}
    outputs: dict[str, str] = {}
    report = {"impl": impl, "calls": []}
    for call in spec["calls"]:
        entry = {"id": call["id"]}
        netns = call.get("netns", "")
        nspath = netns if netns.startswith("/") or netns == "" else f"/run/netns/{netns}"
        if "netns_del" in call:
            sh("ip", "netns", "del", call["netns_del"])
        elif "runtime" in call:
            sys.path.insert(0, spec["repo"])
            from simlab.cni import CNIError, Runtime

            rt = report.setdefault("_rt", None) or Runtime(
                [spec["plugin_dir"], *spec.get("extra_path", [])], env=base_env
            )
            report["_rt"] = rt
            conf = retype(call["conf"], impl)
            try:
                if call["runtime"] == "add":
                    entry["result"] = normalize_text(
                        rt.add(conf, call["cid"], nspath).to_json(), impl
                    )
                elif call["runtime"] == "check":
                    rt.check(conf, call["cid"], nspath)
                else:
                    rt.delete(conf, call["cid"], nspath)
                entry["exit"] = 0
                entry["stdins"] = [
                    normalize_text(i.stdin, impl) for i in rt.invocations[-len(conf["plugins"]) :]
                ]
            except CNIError as err:
                entry["exit"], entry["error"] = 1, (err.code, normalize_text(err.msg, impl))
        else:
            conf = retype(call["conf"], impl)
            if call.get("prev"):
                conf["prevResult"] = json.loads(outputs[call["prev"]])
            env = {
                **base_env,
                "CNI_COMMAND": call["cmd"],
                "CNI_CONTAINERID": call.get("cid", "ctr1"),
                "CNI_NETNS": nspath,
                "CNI_IFNAME": call.get("ifname", "eth0"),
                "CNI_PATH": path,
                **call.get("env", {}),
            }
            env = {k: v for k, v in env.items() if v is not None}
            exe = os.path.join(
                spec["plugin_dir"],
                ("simlab-" if impl == "simlab" else "") + call.get("plugin", "bridge"),
            )
            p = subprocess.run(
                [exe], input=json.dumps(conf).encode(), env=env, capture_output=True, timeout=120
            )
            out = p.stdout.decode()
            outputs[call["id"]] = out
            entry["exit"] = p.returncode
            entry["stdout"] = normalize_text(out, impl)
            entry["ends_with_newline"] = out.endswith("\n")
            if p.stderr and b"Traceback" in p.stderr:
                entry["traceback"] = p.stderr.decode()
        if call.get("snapshot"):
            entry["state"] = settled_state(spec["netns"], data_dir)
        report["calls"].append(entry)
    report.pop("_rt", None)
    json.dump(report, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
