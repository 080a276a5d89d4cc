"""simlab.exercises: every checker with right answers and with the usual wrong ones.

Each wrong answer must give ``ok=False``, the expected ``problem`` key, and a hint that points
to the idea without the command that solves it; each right answer (also ones that differ
from the notebooks' solutions) must pass.  On the model backend only: the checkers read
snapshots, which are the same data on both backends.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import textwrap

import pytest

import simlab
import simlab.exercises as ex
from simlab.cni import skel
from simlab.cni.lab_adapter import runtime_for_lab


def new_lab():
    return simlab.Lab(backend="model")


def _ja(text: str) -> bool:
    return any("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in text)


# ------------------------------------------------------------------ Check
def test_check_prints_verdict_and_hint():
    c = ex.Check(False, "not yet", "look at `ip link`", facts={"problem": "x"})
    assert not c and c.problem == "x"
    assert str(c) == "✘ not yet\n  hint: look at `ip link`"
    assert repr(c) == str(c)
    assert str(ex.Check(True, "done")) == "✔ done"
    assert "ヒント" in str(ex.Check(False, "まだ", "`ip link` を見る"))


# ------------------------------------------------------------------ 01: check_connected
def _pair(lab, a="red", b="blue", cidr_a="10.0.0.1/24", cidr_b="10.0.0.2/24", up=True):
    lab.ip(f"netns add {a}")
    lab.ip(f"netns add {b}")
    lab.ip(f"-n {a} link add va type veth peer name vb netns {b}")
    if cidr_a:
        lab.ip(f"-n {a} addr add {cidr_a} dev va")
    if cidr_b:
        lab.ip(f"-n {b} addr add {cidr_b} dev vb")
    if up:
        lab.ip(f"-n {a} link set va up")
        lab.ip(f"-n {b} link set vb up")


def test_connected_right_answer():
    lab = new_lab()
    _pair(lab)
    c = ex.check_connected(lab, "red", "blue", lang="en")
    assert c.ok, str(c)
    assert c.facts["dst"] == "10.0.0.2"
    assert "reply comes back" in c.verdict


def test_connected_right_answer_the_notebook_way():
    """Create in the node, move each end, as notebook 01 does; other names and subnet."""
    lab = new_lab()
    for cmd in ("netns add pink", "netns add cyan", "link add p0 type veth peer name c0",
                "link set p0 netns pink", "link set c0 netns cyan",
                "-n pink addr add 172.31.7.9/28 dev p0", "-n cyan addr add 172.31.7.10/28 dev c0",
                "-n pink link set p0 up", "-n cyan link set c0 up"):
        lab.ip(cmd)
    assert ex.check_connected(lab, "pink", "cyan")


def test_connected_through_a_bridge_counts():
    lab = new_lab()
    lab.ip("link add br0 type bridge")
    lab.ip("link set br0 up")
    for ns, ip in (("red", "10.1.0.1/24"), ("blue", "10.1.0.2/24")):
        lab.ip(f"netns add {ns}")
        lab.ip(f"link add h-{ns} type veth peer name eth0 netns {ns}")
        lab.ip(f"link set h-{ns} master br0")
        lab.ip(f"link set h-{ns} up")
        lab.ip(f"-n {ns} addr add {ip} dev eth0")
        lab.ip(f"-n {ns} link set eth0 up")
    assert ex.check_connected(lab, "red", "blue")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_connected_no_namespace(lang):
    lab = new_lab()
    c = ex.check_connected(lab, "red", "blue", lang=lang)
    assert not c and c.problem == "no-netns" and c.facts["netns"] == "red"
    assert _ja(c.hint) == (lang == "ja")
    lab.ip("netns add red")
    assert ex.check_connected(lab, "red", "blue").facts["netns"] == "blue"


def test_connected_no_veth_at_all():
    lab = new_lab()
    lab.ip("netns add red")
    lab.ip("netns add blue")
    c = ex.check_connected(lab, "red", "blue", lang="en")
    assert c.problem == "no-veth" and "veth" in c.hint


def test_connected_pair_not_moved():
    lab = new_lab()
    lab.ip("netns add red")
    lab.ip("netns add blue")
    lab.ip("link add veth1 type veth peer name veth2")
    c = ex.check_connected(lab, "red", "blue", lang="en")
    assert c.problem == "no-veth"
    assert "veth1 (node)" in c.hint and "move" in c.hint
    assert "ip link set veth1 netns red" not in c.hint  # the idea, not the answer


def test_connected_no_address():
    lab = new_lab()
    _pair(lab, cidr_b=None)
    c = ex.check_connected(lab, "red", "blue", lang="en")
    assert c.problem == "no-address" and c.facts["netns"] == "blue" and c.facts["ifname"] == "vb"


def test_connected_different_subnets():
    lab = new_lab()
    _pair(lab, cidr_b="10.0.1.2/24")
    c = ex.check_connected(lab, "red", "blue", lang="en")
    assert c.problem == "subnet" and "different subnets" in c.hint


def test_connected_one_end_down():
    lab = new_lab()
    _pair(lab, up=False)
    lab.ip("-n red link set va up")
    c = ex.check_connected(lab, "red", "blue", lang="en")
    assert c.problem == "down" and c.facts["down"] == ["vb"]
    assert "LOWER_UP" in c.hint


def test_connected_does_not_change_the_lab():
    lab = new_lab()
    _pair(lab, up=False)
    before, n = lab.snapshot(), len(lab.timeline)
    ex.check_connected(lab, "red", "blue")
    assert lab.snapshot() == before and len(lab.timeline) == n


# ------------------------------------------------------------------ 01: check_reach
def test_reach_lo_down_then_up():
    lab = new_lab()
    lab.ip("netns add green")
    c = ex.check_reach(lab, "green", "127.0.0.1", lang="en")
    assert c.problem == "no-reach" and "Network is unreachable" in c.verdict
    assert "`lo`" in c.hint and c.notes
    lab.ip("-n green link set lo up")
    assert ex.check_reach(lab, "green", "127.0.0.1")


def test_reach_unknown_namespace_and_japanese():
    lab = new_lab()
    c = ex.check_reach(lab, "nope", "127.0.0.1", lang="ja")
    assert c.problem == "no-netns" and _ja(c.verdict)


def test_reach_no_route_hint():
    lab = new_lab()
    _pair(lab)
    c = ex.check_reach(lab, "red", "192.0.2.1", lang="en")
    assert not c and "ip route" in c.hint


# ------------------------------------------------------------------ 02: docker
def _docker_lab():
    lab = new_lab()
    lab.docker.run("web")
    lab.docker.run("nonet", net="none")
    return lab


def _wire_nonet(lab, *, steps: int = 99, address: str = "172.17.0.100/16", host="vnonet"):
    """What notebook 02's solution does, stopping after ``steps`` commands."""
    ns = lab.docker.get("nonet").netns
    cmds = [f"link add {host} type veth peer name {host}-c", f"link set {host} master docker0",
            f"link set {host} up", f"link set {host}-c netns {ns}",
            f"-n {ns} link set {host}-c name eth0", f"-n {ns} addr add {address} dev eth0",
            f"-n {ns} link set eth0 up", f"-n {ns} route add default via 172.17.0.1"]
    for cmd in cmds[:steps]:
        lab.ip(cmd)
    return ns


def test_online_bridge_and_host_containers_pass():
    lab = _docker_lab()
    assert ex.check_container_online(lab, "web", "lan")
    lab.docker.run("hosty", net="host")
    assert ex.check_container_online(lab, "hosty")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_online_none_container_has_only_lo(lang):
    lab = _docker_lab()
    c = ex.check_container_online(lab, "nonet", "lan", lang=lang)
    assert c.problem == "no-veth" and _ja(c.hint) == (lang == "ja")


@pytest.mark.parametrize("steps, problem", [
    (5, "no-address"),   # veth in place, named eth0, no address yet
    (6, "down"),         # address, but eth0 still down
    (7, "no-route"),     # up: the bridge works, but the LAN is outside 172.17/16
    (8, ""),             # the default route: done
])
def test_online_step_by_step(steps, problem):
    lab = _docker_lab()
    _wire_nonet(lab, steps=steps)
    c = ex.check_container_online(lab, "nonet", "lan", lang="en")
    assert c.problem == problem, str(c)
    assert c.ok == (problem == "")


def test_online_not_on_the_bridge():
    lab = _docker_lab()
    ns = lab.docker.get("nonet").netns
    lab.ip("link add vx type veth peer name vx-c")
    lab.ip(f"link set vx-c netns {ns}")
    c = ex.check_container_online(lab, "nonet", "lan", lang="en")
    assert c.problem == "not-on-bridge" and "master docker0" in c.hint


def test_online_peer_not_in_node():
    lab = _docker_lab()
    ns = lab.docker.get("nonet").netns
    lab.ip("netns add elsewhere")
    lab.ip(f"-n elsewhere link add vy type veth peer name vy-c netns {ns}")
    assert ex.check_container_online(lab, "nonet").problem == "peer-not-in-node"


def test_online_duplicate_address_and_wrong_subnet():
    lab = _docker_lab()
    _wire_nonet(lab, address="172.17.0.2/16")  # web's address
    c = ex.check_container_online(lab, "nonet", lang="en")
    assert c.problem == "duplicate" and c.facts["owner"] == "web"
    lab2 = _docker_lab()
    _wire_nonet(lab2, address="10.9.9.9/24", steps=7)
    assert ex.check_container_online(lab2, "nonet").problem == "subnet"


def test_online_another_correct_answer():
    """A different host-side name and address; the pair made with its end already inside."""
    lab = _docker_lab()
    ns = lab.docker.get("nonet").netns
    for cmd in ("link add mine type veth peer name eth0 netns " + ns,
                f"-n {ns} addr add 172.17.3.3/16 dev eth0", f"-n {ns} link set eth0 up",
                f"-n {ns} route add default via 172.17.0.1", "link set mine master docker0",
                "link set mine up"):
        lab.ip(cmd)
    assert ex.check_container_online(lab, "nonet", "lan")
    assert ex.check_container_online(lab, "nonet", "web")


def test_published_by_docker_and_by_hand():
    lab = _docker_lab()
    lab.docker.run("nginx", image="nginx", publish=["8080:80"])
    assert ex.check_published(lab, 8080, "nginx", 80)
    c = ex.check_published(lab, 8081, "web", 80, lang="en")
    assert c.problem == "no-dnat" and "DNAT" in c.hint
    web = lab.docker.get("web")
    lab.iptables(f"-t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8081 -j DNAT "
                 f"--to-destination {web.ip}:8000")
    assert ex.check_published(lab, 8081, "web", 80).problem == "wrong-port"
    lab.iptables(f"-t nat -I DOCKER ! -i docker0 -p tcp -m tcp --dport 8081 -j DNAT "
                 f"--to-destination {web.ip}:80")
    # The DNAT alone is not enough: docker's FORWARD policy is DROP (docker 17.06's filter table).
    c = ex.check_published(lab, 8081, "web", 80, lang="en")
    assert c.problem == "no-accept" and "DOCKER" in c.hint
    lab.iptables(f"-A DOCKER -d {web.ip}/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT")
    assert ex.check_published(lab, 8081, "web", 80)


def test_published_to_the_wrong_container():
    lab = _docker_lab()
    other = lab.docker.run("other")
    lab.iptables(f"-t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8081 -j DNAT "
                 f"--to-destination {other.ip}:80")
    c = ex.check_published(lab, 8081, "web", 80, lang="ja")
    assert not c and c.problem == "no-dnat" and _ja(c.hint)


# ------------------------------------------------------------------ 03: pods
POD_CONF = {
    "cniVersion": "0.3.1", "name": "k8s-pod-network",
    "plugins": [{"type": "simlab-bridge", "bridge": "cni0", "isGateway": True,
                 "ipam": {"type": "simlab-host-local", "subnet": "10.244.1.0/24",
                          "routes": [{"dst": "0.0.0.0/0"}]}}],
}


def _pod(lab, name="pod1"):
    lab.ip(f"netns add {name}")
    lab.ip(f"-n {name} link set lo up")
    return name


def test_pod_network_by_the_bridge_plugin(tmp_path):
    lab = new_lab()
    _pod(lab)
    conf = json.loads(json.dumps(POD_CONF))
    conf["plugins"][0]["ipam"]["dataDir"] = str(tmp_path)
    rt = runtime_for_lab(lab)
    rt.add(conf, "pod1-id", "/run/netns/pod1")
    c = ex.check_pod_network(lab, "pod1")
    assert c.ok, str(c)


def test_pod_network_without_default_route(tmp_path):
    lab = new_lab()
    _pod(lab)
    conf = json.loads(json.dumps(POD_CONF))
    conf["plugins"][0]["ipam"].pop("routes")
    conf["plugins"][0]["ipam"]["dataDir"] = str(tmp_path)
    runtime_for_lab(lab).add(conf, "pod1-id", "/run/netns/pod1")
    assert ex.check_pod_network(lab, "pod1").problem == "no-route"


@pytest.mark.parametrize("upto, problem", [
    (0, "no-bridge"), (1, "no-ifname"), (2, "not-on-bridge"), (5, "no-gateway"),
    (6, "no-address"), (7, "down"), (8, "no-route"), (9, ""),
])
def test_pod_network_by_hand(upto, problem):
    lab = new_lab()
    _pod(lab)
    cmds = [
        "link add cni0 type bridge",
        "link add vethpod1 type veth peer name eth0 netns pod1",
        "link set vethpod1 master cni0",
        "link set cni0 up",
        "link set vethpod1 up",
        "addr add 10.244.1.1/24 dev cni0",
        "-n pod1 addr add 10.244.1.7/24 dev eth0",
        "-n pod1 link set eth0 up",
        "-n pod1 route add default via 10.244.1.1",
    ]
    for cmd in cmds[:upto]:
        lab.ip(cmd)
    c = ex.check_pod_network(lab, "pod1", lang="en")
    assert c.problem == problem, str(c)
    assert c.ok == (problem == "")


def test_pod_network_missing_namespace_and_pod_with_gateway_address():
    lab = new_lab()
    assert ex.check_pod_network(lab, "ghost").problem == "no-netns"
    _pod(lab)
    lab.ip("link add cni0 type bridge")
    lab.ip("link set cni0 up")
    lab.ip("addr add 10.244.1.1/24 dev cni0")
    lab.ip("link add vethpod1 type veth peer name eth0 netns pod1")
    lab.ip("link set vethpod1 master cni0")
    lab.ip("link set vethpod1 up")
    lab.ip("-n pod1 addr add 10.244.1.1/24 dev eth0")
    lab.ip("-n pod1 link set eth0 up")
    c = ex.check_pod_network(lab, "pod1", lang="ja")
    assert c.problem == "duplicate" and _ja(c.hint)


# ------------------------------------------------------------------ 04: plugins
GOOD_SH = r"""#!/bin/sh
conf=$(cat)
version=$(printf '%s' "$conf" | sed -n 's/.*"cniVersion": *"\([^"]*\)".*/\1/p')
case "$CNI_COMMAND" in
ADD) printf '{"cniVersion": "%s", "ips": [{"address": "10.244.9.9/24"}]}' "$version" ;;
DEL) ;;
VERSION) echo '{"cniVersion": "1.0.0", "supportedVersions": ["0.4.0", "1.0.0"]}' ;;
*) printf '{"code": 4, "msg": "unknown CNI_COMMAND: %s"}' "$CNI_COMMAND"; exit 1 ;;
esac
"""


def _script(tmp_path, text: str, name="plugin") -> str:
    path = tmp_path / name
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


def test_plugin_good_script(tmp_path):
    c = ex.check_plugin(_script(tmp_path, GOOD_SH), lang="en")
    assert c.ok, str(c)
    assert c.facts["result"]["ips"][0]["address"] == "10.244.9.9/24"


@pytest.mark.parametrize("change, problem", [
    # a log line on stdout before the JSON
    (("ADD) printf", "ADD) echo starting; printf"), "add-json"),
    # a fixed version instead of the request's
    (('"cniVersion": "%s", "ips"', '"cniVersion": "0.3.1", "ips"'), "add-version"),
    # no ips
    ((', "ips": [{"address": "10.244.9.9/24"}]', ""), "add-ips"),
    # an address without its prefix
    (("10.244.9.9/24", "10.244.9.9"), "add-ips"),
    # ADD fails
    (("ADD) printf", "ADD) exit 3; printf"), "add-exit"),
    # DEL fails
    (("DEL) ;;", "DEL) exit 1 ;;"), "del-exit"),
    # VERSION without the requested version
    (('["0.4.0", "1.0.0"]', '["0.4.0"]'), "version"),
    # an unknown command "succeeds"
    (("exit 1 ;;\nesac", "exit 0 ;;\nesac"), "unknown-command"),
    # an unknown command fails, but the error is not JSON
    (("""printf '{"code": 4, "msg": "unknown CNI_COMMAND: %s"}' "$CNI_COMMAND"; exit 1""",
      """echo "what is $CNI_COMMAND?"; exit 1"""), "unknown-command"),
])
def test_plugin_bad_scripts(tmp_path, change, problem):
    old, new = change
    assert old in GOOD_SH
    c = ex.check_plugin(_script(tmp_path, GOOD_SH.replace(old, new)), lang="en")
    assert not c and c.problem == problem, str(c)
    assert "ip link" not in c.hint  # a spec hint, not a command


def test_plugin_del_not_idempotent(tmp_path):
    marker = tmp_path / "added"
    text = GOOD_SH.replace("ADD) printf", f"ADD) touch {marker}; printf").replace(
        "DEL) ;;", f"DEL) rm {marker} || exit 1 ;;")
    c = ex.check_plugin(_script(tmp_path, text), lang="en")
    assert c.problem == "del-idempotent" and "DEL" in c.hint


def test_plugin_not_executable_and_japanese(tmp_path):
    path = tmp_path / "plugin"
    path.write_text(GOOD_SH)
    c = ex.check_plugin(str(path), lang="ja")
    assert c.problem == "add-exit" and _ja(c.hint) and "chmod" in c.hint


def test_plugin_checker_sends_what_a_runtime_sends(tmp_path):
    log = tmp_path / "log"
    text = GOOD_SH.replace(
        "conf=$(cat)", f'conf=$(cat); env | grep ^CNI_ | sort >> {log}; echo "$conf" >> {log}')
    assert ex.check_plugin(_script(tmp_path, text))
    seen = log.read_text()
    for var in ("CNI_COMMAND=ADD", "CNI_COMMAND=DEL", "CNI_CONTAINERID=", "CNI_IFNAME=eth0",
                "CNI_NETNS=", "CNI_PATH="):
        assert var in seen
    assert '"cniVersion": "1.0.0"' in seen


# Python plugins run in-process on a throw-away model.
PY_PLUGIN = textwrap.dedent('''
    import json
    from simlab.cni import ip, netlink as nl, ns, skel
    from simlab.cni.spec import Interface, IPConfig, Result

    def cmd_add(args):
        conf = json.loads(args.stdin_data)
        netns = ns.get_ns(args.netns)
        with netns.do() as host_ns:
            host, cont = ip.setup_veth(args.ifname, 1500, "", host_ns)
            nl.addr_add(cont, "10.244.9.9/24")
            nl.link_set_up(cont)
        result = Result(conf["cniVersion"],
                        interfaces=[Interface(host.ifname, host.mac),
                                    Interface(args.ifname, cont.mac, args.netns)],
                        ips=[IPConfig("10.244.9.9/24", interface=1)])
        skel.print_result(result, conf["cniVersion"])

    def cmd_del(args):
        if not args.netns:
            return
        try:
            netns = ns.get_ns(args.netns)
        except Exception:
            return
        with netns.do():
            try:
                nl.link_del(nl.link_by_name(args.ifname))
            except nl.NetlinkError:
                pass

    def cmd_check(args):
        pass

    FUNCS = skel.Funcs(add=cmd_add, check=cmd_check, delete=cmd_del)
''')


def test_python_plugin_good(tmp_path):
    path = tmp_path / "my_plugin.py"
    path.write_text(PY_PLUGIN)
    funcs = ex.load_plugin(path)
    assert isinstance(funcs, skel.Funcs)
    c = ex.check_plugin(funcs, lang="en")
    assert c.ok, str(c)


def test_python_plugin_del_leaves_the_link(tmp_path):
    path = tmp_path / "my_plugin.py"
    path.write_text(PY_PLUGIN.replace("nl.link_del(nl.link_by_name(args.ifname))", "pass"))
    c = ex.check_plugin(ex.load_plugin(path), lang="en")
    assert c.problem == "del-left" and "eth0" in c.hint


def test_python_plugin_result_lies(tmp_path):
    path = tmp_path / "my_plugin.py"
    path.write_text(PY_PLUGIN.replace(
        "Interface(args.ifname, cont.mac, args.netns)", "Interface('net1', cont.mac, args.netns)"))
    c = ex.check_plugin(ex.load_plugin(path), lang="en")
    assert c.problem == "add-interfaces" and "net1" in c.hint


def test_python_plugin_raises_becomes_spec_error(tmp_path):
    path = tmp_path / "my_plugin.py"
    path.write_text(PY_PLUGIN.replace("conf = json.loads(args.stdin_data)",
                                      "raise RuntimeError('failed to frobnicate')"))
    c = ex.check_plugin(ex.load_plugin(path), lang="en")
    assert c.problem == "add-exit"
    code, out, _err = c.facts["add"]
    assert code == 1 and json.loads(out) == {"code": 999, "msg": "failed to frobnicate"}


def test_load_plugin_without_funcs(tmp_path):
    path = tmp_path / "nothing.py"
    path.write_text("x = 1\n")
    with pytest.raises(AttributeError, match="FUNCS = Funcs"):
        ex.load_plugin(path)


def test_run_plugin_with_a_callable_and_a_mapping():
    seen = {}

    def plugin(env, stdin):
        seen.update(env=dict(env), stdin=stdin)
        return 0, "{}", ""

    answer = ex.run_plugin(plugin, {"CNI_COMMAND": "VERSION"}, {"cniVersion": "1.0.0"})
    assert answer == (0, "{}", "")
    assert json.loads(seen["stdin"]) == {"cniVersion": "1.0.0"}


def test_run_plugin_missing_file():
    code, out, err = ex.run_plugin(os.path.join(tempfile.gettempdir(), "no-such-plugin-xyz"),
                                   {"CNI_COMMAND": "VERSION"}, "")
    assert code == 126 and out == "" and "no-such-plugin-xyz" in err


def test_checkers_take_pod_and_container_names():
    lab = new_lab()
    lab.k8s.run("web")
    assert ex.check_pod_network(lab, "web")  # the pod's name, not its namespace key
    assert ex.check_reach(lab, "web", "10.244.1.1")
    nonet = lab.docker.run("nonet", net="none")
    c = ex.check_reach(lab, "nonet", "10.244.1.1", lang="en")
    assert c.problem == "no-reach" and nonet.netns in c.verdict
    assert ex.check_reach(lab, "nobody", "10.244.1.1").problem == "no-netns"
