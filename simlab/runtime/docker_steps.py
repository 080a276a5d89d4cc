"""What dockerd does to the kernel, one recorded step at a time.

Each function applies operations through the lab (model or kernel) as one
timeline step with actor ``docker``, a why in English and Japanese, and the
libnetwork function it mirrors.  :class:`Steps` remembers how to take each
step back: if a later one fails, the done ones are undone in reverse (the
way libnetwork's deferred cleanups do), so an error leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..i18n import say
from ..model import ROOT, NetError, NetState
from ..model.netfilter import policy_of
from ..model import ops as o
from ..timeline import text
from .docker_errors import DockerError
from .docker_filter import DOCKER_VERSION, FORWARD_DROP, daemon_filter_rules, publish_filter_rules
from .docker_nat import daemon_rules, publish_rules

if TYPE_CHECKING:
    from .docker import Container
    from .docker_net import DockerNetwork

__all__ = ["Steps", "start_daemon", "create_sandbox", "wire_bridge", "join_host",
           "join_container", "publish", "note", "release", "veth_name"]

Undo = Callable[[NetState], list[o.Op]]


class Steps:
    """Steps done so far and how to take each back (snapshot-aware, newest first)."""

    def __init__(self, lab):
        self.lab = lab
        self.undo: list[Undo] = []

    def step(self, title, why, ops: list[o.Op], *, mirrors: str = "", actor: str = "docker",
             undo: Undo | None = None, what: str = "", detail=None) -> None:
        """Apply ``ops`` as one step; on failure undo everything done, then raise DockerError."""
        if undo is not None:
            self.undo.append(undo)  # first, so a half-applied step is taken back too
        try:
            self.lab.apply(*ops, title=title, why=why, mirrors=mirrors, actor=actor, detail=detail)
        except NetError as err:
            self.rollback()
            raise DockerError.failed(what or title["en"], err) from err

    def rollback(self) -> None:
        """Take the done steps back as one recorded step; skip what is already gone."""
        if not self.undo:
            return
        lab = self.lab
        with lab.step(text("docker: undo the half-built container",
                           "docker: 作りかけのコンテナを元に戻す"),
                      text("a step failed, so docker takes back the ones it had done, in reverse "
                           "order.",
                           "途中の手順が失敗したので、済ませた手順を逆順に取り消す。"),
                      actor="docker"):
            for undo in reversed(self.undo):
                for op in undo(lab.snapshot()):
                    try:
                        lab.apply(op)
                    except NetError:
                        continue  # gone with an earlier undo
        self.undo.clear()


def note(lab, title, why, *, mirrors: str = "", detail=None) -> None:
    """A step that changes nothing in the kernel (host and container modes), for the story."""
    lab.apply(title=title, why=why, mirrors=mirrors, actor="docker", detail=detail)


# ------------------------------------------------------------------ daemon
def start_daemon(lab, net: DockerNetwork) -> None:
    """The slides' host: uplink em1, docker0, ip_forward=1, the nat rules (each if missing)."""
    state = lab.snapshot()
    node = state.netns[ROOT]
    if node.link(net.uplink) is None and net.lan in state.netns:
        raise DockerError(f"the lab already has a namespace {net.lan!r} but the node has no "
                          f"{net.uplink}",
                          exit=1,
                          hint=say(f"delete it (ip netns del {net.lan}) first",
                                   "先にその名前空間を削除してください "
                                   f"(ip netns del {net.lan})"))
    tx = Steps(lab)
    if node.link(net.uplink) is None:
        _uplink(net, tx)
    bridge, bip, subnet = net.bridge, net.bip, net.subnet
    if node.link(bridge) is None:
        mac = "02:42:" + ":".join(net.hex_id("docker0-mac")[i:i + 2] for i in range(0, 8, 2))
        tx.step(text("dockerd: create the docker0 bridge", "dockerd: ブリッジ docker0 を作る"),
                text(f"docker's default network is a Linux bridge in the node; its address {bip} "
                     "is the containers' gateway. It is up but shows NO-CARRIER until a first "
                     "container's veth joins it.",
                     f"docker のデフォルトネットワークはノード上の Linux ブリッジ。アドレス {bip} "
                     "がコンテナのゲートウェイになる。up にしても、最初のコンテナの veth がつながる"
                     "までは NO-CARRIER のまま。"),
                [o.LinkAdd(bridge, "bridge", mac=mac), o.AddrAdd(bridge, bip),
                 o.LinkSet(bridge, up=True)],
                mirrors="libnetwork bridge driver: setupDevice, setupBridgeIPv4, setupDeviceUp",
                undo=lambda s: [o.LinkDel(bridge)] if s.netns[ROOT].link(bridge) else [],
                what="failed to create the docker0 bridge")
    forward = node.sysctls.get("net.ipv4.ip_forward", "0")
    if forward != "1":
        policy = policy_of(node.iptables.get("filter", ()), "FORWARD")
        tx.step(text("dockerd: turn on IP forwarding, FORWARD policy DROP",
                     "dockerd: IP フォワーディングを有効にし、FORWARD のポリシーを DROP に"),
                text("packets between containers and the LAN pass through the node: it must route "
                     f"between {bridge} and {net.uplink}, which Linux does only with "
                     "net.ipv4.ip_forward=1. Because that makes the node a router for everything, "
                     f"docker (since 1.13; here {DOCKER_VERSION}) also sets the filter FORWARD "
                     "policy to DROP: only what its own rules accept is forwarded.",
                     f"コンテナと LAN の間のパケットはノードを通る。{bridge} と {net.uplink} の"
                     "間でルーティングするには net.ipv4.ip_forward=1 が必要。これでノードは何でも"
                     f"転送するルーターになるので、docker（1.13 以降、ここでは {DOCKER_VERSION}）は"
                     "filter FORWARD のポリシーも DROP にする。転送されるのは docker 自身のルールが"
                     "受け入れるものだけ。"),
                [o.SysctlSet("net.ipv4.ip_forward", "1"), o.Iptables("filter", FORWARD_DROP)],
                mirrors="libnetwork bridge driver: setupIPForwarding (iptables.SetDefaultPolicy)",
                undo=lambda s: [o.SysctlSet("net.ipv4.ip_forward", forward),
                                o.Iptables("filter", ("-P", "FORWARD", policy))],
                what="failed to enable IP forwarding")
    if "-N DOCKER" not in node.iptables.get("nat", ()):
        rules = [o.Iptables("nat", r) for r in daemon_rules(bridge, subnet)]
        tx.step(text("dockerd: NAT rules (MASQUERADE and the DOCKER chain)",
                     "dockerd: NAT ルール（MASQUERADE と DOCKER チェイン）"),
                text(f"containers have private addresses ({subnet}): MASQUERADE rewrites their "
                     "source to the node's address when they leave by another link, and the DOCKER "
                     "chain will hold one DNAT rule per published port.",
                     f"コンテナのアドレス（{subnet}）はプライベート。別のリンクから出ていくとき "
                     "MASQUERADE が送信元をノードのアドレスに書き換える。DOCKER チェインには公開ポ"
                     "ートごとの DNAT ルールが入る。"),
                rules,
                mirrors="libnetwork bridge driver: setupIPTables (iptables.NewChain, ProgramChain)",
                undo=lambda s: _unprogram(s, rules),
                what="failed to program the nat table")
    if "-N DOCKER" not in node.iptables.get("filter", ()):
        accept = [o.Iptables("filter", r) for r in daemon_filter_rules(bridge)]
        tx.step(text("dockerd: filter rules (DOCKER-USER, DOCKER-ISOLATION, DOCKER, ACCEPT for "
                     f"{bridge})",
                     f"dockerd: filter ルール（DOCKER-USER、DOCKER-ISOLATION、DOCKER、{bridge} の "
                     "ACCEPT）"),
                text(f"what the FORWARD chain lets through: answers to connections (conntrack "
                     f"RELATED,ESTABLISHED) going to {bridge}, anything leaving {bridge}, and "
                     "container to container on it; new connections to a container only through "
                     "the DOCKER chain (one ACCEPT per published port). DOCKER-USER comes first, "
                     "for the admin's own rules. Anything else meets the DROP policy.",
                     f"FORWARD チェインが通すもの: {bridge} へ戻る接続の応答（conntrack "
                     f"RELATED,ESTABLISHED）、{bridge} から出ていくもの、その上のコンテナ同士。"
                     "コンテナへの新しい接続は DOCKER チェイン（公開ポートごとの ACCEPT）を通る"
                     "ものだけ。先頭の DOCKER-USER は管理者自身のルール用。それ以外は DROP "
                     "ポリシーに当たる。"),
                accept,
                mirrors="libnetwork bridge driver: setupIPTables (ProgramChain filter, "
                        "DOCKER-ISOLATION), firewall_linux.go: arrangeUserFilterRule",
                undo=lambda s: _unprogram(s, accept),
                what="failed to program the filter table")


def _unprogram(state: NetState, rules: list[o.Iptables]) -> list[o.Op]:
    """The iptables commands that take ``rules`` (``-N`` then ``-A``s) back out, if present."""
    tables = state.netns[ROOT].iptables
    ops: list[o.Op] = [o.Iptables(r.table, ("-D", *r.args[1:])) for r in reversed(rules)
                       if r.args[0] == "-A" and " ".join(r.args) in tables.get(r.table, ())]
    ops += [o.Iptables(r.table, ("-X", r.args[1])) for r in rules
            if r.args[0] == "-N" and " ".join(r.args) in tables.get(r.table, ())]
    return ops


def _uplink(net: DockerNetwork, tx: Steps) -> None:
    up, lan = net.uplink, net.lan
    router = net.lan_cidr.split("/")[0]
    tx.step(text(f"the node's uplink {up} to the LAN", f"ノードの LAN 側インターフェース {up}"),
            text(f"the slides' host has {up} {net.uplink_cidr} on its LAN. simlab models it as "
                 f"a veth whose other end is in the namespace {lan!r}, standing for the LAN "
                 f"({router} is its router).",
                 f"スライドのホストは LAN 側に {up} {net.uplink_cidr} を持つ。simlab では対向が"
                 f"名前空間 {lan!r}（LAN の代わり、{router} がルーター）にある veth で表す。"),
            [o.NetnsAdd(lan), o.LinkAdd(up, "veth", peer="eth0", peer_netns=lan),
             o.AddrAdd(up, net.uplink_cidr), o.LinkSet("lo", up=True), o.LinkSet(up, up=True),
             o.AddrAdd("eth0", net.lan_cidr, netns=lan), o.LinkSet("lo", netns=lan, up=True),
             o.LinkSet("eth0", netns=lan, up=True), o.RouteAdd("default", via=router, dev=up)],
            actor="host",
            undo=lambda s: [o.NetnsDel(lan)] if lan in s.netns else [],
            what=f"failed to set up the uplink {up}")


# --------------------------------------------------------------- containers
def create_sandbox(tx: Steps, c: Container) -> None:
    """A new network namespace with lo up (bridge and none modes)."""
    key = c.netns
    extra_en = " With --net none that is all the container gets." if c.mode == "none" else ""
    extra_ja = "--net none ならコンテナが得るのはこれだけ。" if c.mode == "none" else ""
    tx.step(text(f"docker run {c.name}: create its network namespace",
                 f"docker run {c.name}: ネットワーク名前空間を作る"),
            text("libnetwork makes a new netns for the sandbox and mounts it at "
                 f"/var/run/docker/netns/{key}. The kernel gives it only a DOWN lo (setup_net()); "
                 "docker brings lo up." + extra_en,
                 f"libnetwork がサンドボックス用の netns を作り /var/run/docker/netns/{key} にマウ"
                 "ントする。カーネルが作るのは DOWN の lo だけ（setup_net()）で、docker が lo を "
                 "up にする。" + extra_ja),
            [o.NetnsAdd(key), o.LinkSet("lo", netns=key, up=True)],
            mirrors="libnetwork osl: NewSandbox (createNetworkNamespace, loopbackUp)",
            undo=lambda s: [o.NetnsDel(key)] if key in s.netns else [],
            what=f"failed to create the network namespace of {c.name}",
            detail={"container": c.name})


def veth_name(lab, net: DockerNetwork, role: str, c: Container) -> str:
    """``veth`` + 7 hex, free in the node (netutils.GenerateIfaceName retries on a clash)."""
    node = lab.snapshot().netns[ROOT]
    for attempt in range(100):
        name = "veth" + net.hex_id(role, c.endpoint_id, attempt)[:7]
        if node.link(name) is None and name != c.host_veth:
            return name
    raise DockerError.daemon("failed to generate a free veth name", at_create=False)


def wire_bridge(lab, net: DockerNetwork, tx: Steps, c: Container) -> None:
    """The veth pair, docker0, eth0's MAC and address, the default route (bridge mode)."""
    key, bridge, gw, subnet = c.netns, net.bridge, net.gateway, net.subnet
    host = c.host_veth = veth_name(lab, net, "veth", c)
    tmp = veth_name(lab, net, "peer", c)
    cidr = f"{c.ip}/{net.prefixlen}"
    detail = {"container": c.name}
    tx.step(text("create a veth pair in the node", "ノードに veth ペアを作る"),
            text(f"a veth pair is a virtual cable: {host} stays in the node, {tmp} will become the "
                 "container's eth0. The kernel registers the peer first, so the container end gets "
                 "the lower ifindex.",
                 f"veth ペアは仮想のケーブル。{host} はノードに残り、{tmp} がコンテナの eth0 になる"
                 "。カーネルは peer を先に登録するので、コンテナ側の ifindex の方が小さい。"),
            [o.LinkAdd(host, "veth", peer=tmp)],
            mirrors="libnetwork bridge driver: CreateEndpoint (netlink.LinkAdd veth)",
            undo=lambda s: [o.LinkDel(host)] if s.netns[ROOT].link(host) else [],
            what=f"failed to create endpoint {c.name} on network bridge", detail=detail)
    tx.step(text(f"attach {host} to {bridge}", f"{host} を {bridge} につなぐ"),
            text(f"the host end becomes a port of {bridge} (master {bridge}) and goes up: frames "
                 "the container sends now reach the bridge, which forwards them by MAC.",
                 f"ホスト側の端を {bridge} のポートにして（master {bridge}）up にする。コンテナが送"
                 "るフレームはブリッジに届き、MAC アドレスで転送される。"),
            [o.LinkSet(host, master=bridge), o.LinkSet(host, up=True)],
            mirrors="libnetwork bridge driver: addToBridge, LinkSetUp(host)",
            what=f"adding interface {host} to bridge {bridge} failed", detail=detail)
    tx.step(text(f"move {tmp} into the container and rename it eth0",
                 f"{tmp} をコンテナへ移し eth0 に改名"),
            text(f"`ip link set {tmp} netns ...` moves the device (it goes down and keeps its "
                 "ifindex if free there); inside, it is renamed eth0. Seen from the container, its "
                 "peer lives in another namespace: eth0@ifN ... link-netnsid 0.",
                 f"`ip link set {tmp} netns ...` でデバイスを移す（down になり、空いていれば "
                 "ifindex はそのまま）。中で eth0 に改名する。コンテナから見ると対向は別の名前空間"
                 "にある: eth0@ifN ... link-netnsid 0。"),
            [o.LinkSet(tmp, to_netns=key), o.LinkSet(tmp, netns=key, name="eth0")],
            mirrors="libnetwork osl: AddInterface (LinkSetNsFd, LinkSetName)",
            what=f"failed to add interface {tmp} to sandbox", detail=detail)
    tx.step(text(f"eth0: MAC {c.mac}, address {cidr}", f"eth0: MAC {c.mac}、アドレス {cidr}"),
            text(f"docker takes the next free address of {subnet} ({c.ip}) and derives the MAC "
                 "from it (02:42 + the four address bytes), then brings eth0 up: the kernel adds "
                 f"the connected route {subnet} dev eth0.",
                 f"docker は {subnet} の次の空きアドレス（{c.ip}）を取り、MAC をそこから作る"
                 "（02:42 + アドレスの 4 バイト）。eth0 を up にすると、カーネルが直結ルート "
                 f"{subnet} dev eth0 を追加する。"),
            [o.LinkSet("eth0", netns=key, mac=c.mac), o.AddrAdd("eth0", cidr, netns=key),
             o.LinkSet("eth0", netns=key, up=True)],
            mirrors="libnetwork osl: configureInterface (setInterfaceMAC, setInterfaceIP), "
                    "LinkSetUp",
            what="failed to configure interface eth0", detail=detail)
    tx.step(text(f"default route via {gw}", f"デフォルトルート via {gw}"),
            text(f"everything outside {subnet} goes to {bridge}'s address {gw}: the node routes it "
                 "on (and MASQUERADE hides the container's address).",
                 f"{subnet} の外への通信はすべて {bridge} のアドレス {gw} へ送る。ノードが先へルー"
                 "ティングする（MASQUERADE がコンテナのアドレスを隠す）。"),
            [o.RouteAdd("default", netns=key, via=gw, dev="eth0")],
            mirrors="libnetwork osl: SetGatewayIPv4 (programGateway)",
            what="failed to set gateway", detail=detail)


def join_host(lab, net: DockerNetwork, c: Container) -> None:
    """``--net host``: nothing to build, the container runs in the node's namespace."""
    note(lab, text(f"docker run --net host {c.name}: no new namespace",
                   f"docker run --net host {c.name}: 名前空間は作らない"),
         text("the container's processes stay in the node's network namespace: they "
              f"see {net.uplink}, {net.bridge} and every other link of the host "
              "(their PID namespace is still their own).",
              "コンテナのプロセスはノードのネットワーク名前空間のまま。"
              f"{net.uplink} や {net.bridge} などホストのリンクがすべて見える（PID "
              "名前空間は別）。"),
         mirrors="daemon: initializeNetworking (host mode)",
         detail={"container": c.name})


def join_container(lab, c: Container, target: Container) -> None:
    """``--net container:X``: the new container's processes enter X's namespace."""
    note(lab, text(f"docker run --net container:{target.name} {c.name}: join its namespace",
                   f"docker run --net container:{target.name} {c.name}: その名前空間に入る"),
         text("no namespace and no veth: the new container's processes enter "
              f"{target.name}'s network namespace (setns), so they share its lo, "
              "eth0, addresses and ports. This is how a Kubernetes pod's containers "
              "share the pause container's network.",
              f"名前空間も veth も作らず、新しいコンテナのプロセスが {target.name} の"
              "ネットワーク名前空間に入る（setns）。lo や eth0、アドレス、ポートを共"
              "有する。Kubernetes の Pod 内のコンテナが pause コンテナのネットワーク"
              "を共有するのと同じ仕組み。"),
         mirrors="daemon: initializeNetworking (container mode: getNetworkedContainer)",
         detail={"container": c.name})


def _port_rules(net: DockerNetwork, c: Container) -> list[o.Iptables]:
    """Per published port: the nat rules (hairpin MASQUERADE, DNAT), then the filter ACCEPT."""
    return [o.Iptables(table, r) for b in c.ports
            for table, rules in (("nat", publish_rules(b, net.bridge, c.ip)),
                                 ("filter", publish_filter_rules(b, net.bridge, c.ip)))
            for r in rules]


def publish(net: DockerNetwork, tx: Steps, c: Container) -> None:
    """DNAT (and hairpin MASQUERADE), and the filter ACCEPT, for each published port."""
    rules = _port_rules(net, c)
    first = c.ports[0]
    shown = ", ".join(f"{b.bound_ip}:{b.host_port}->{b.key}" for b in c.ports)
    tx.step(text(f"publish {shown}: DNAT in the DOCKER chain, and ACCEPT",
                 f"{shown} を公開: DOCKER チェインに DNAT と ACCEPT"),
            text(f"a packet for the node's port {first.host_port} that does not come from "
                 f"{net.bridge} gets its destination rewritten to {c.ip}:{first.container_port} "
                 "(DNAT, nat table) before routing, so the node forwards it to the container; "
                 f"the filter table's DOCKER chain accepts it ({c.ip}, port "
                 f"{first.container_port}), or the FORWARD policy DROP would stop it. The answer "
                 "is translated back by conntrack.",
                 f"{net.bridge} 以外から来たノードのポート {first.host_port} 宛てのパケットは、"
                 f"ルーティングの前に宛先を {c.ip}:{first.container_port} に書き換えられ（DNAT、"
                 "nat テーブル）、ノードがコンテナへ転送する。filter テーブルの DOCKER チェインが"
                 f"それを受け入れる（{c.ip}、ポート {first.container_port}）。なければ FORWARD の"
                 "ポリシー DROP で止まる。応答は conntrack が元に戻す。"),
            rules,
            mirrors="libnetwork portmapper: MapRange, iptables.Forward",
            undo=lambda s: _unprogram(s, rules),
            what=f"driver failed programming external connectivity on endpoint {c.name}",
            detail={"container": c.name})


def release(lab, net: DockerNetwork, c: Container, verb: str, running: list[Container]) -> None:
    """Undo a running container's network (``docker stop`` / ``docker rm -f``).

    ``running`` are the engine's running containers: one that joined ``c``'s
    namespace keeps it alive.
    """
    tx = Steps(lab)
    detail = {"container": c.name}
    node = lab.snapshot().netns[ROOT]
    if c.ports:
        tx.step(text(f"docker {verb} {c.name}: remove its DNAT and ACCEPT rules",
                     f"docker {verb} {c.name}: DNAT と ACCEPT のルールを消す"),
                text("the published ports are released: their nat and filter rules are deleted.",
                     "公開ポートを解放し、その nat と filter のルールを削除する。"),
                [o.Iptables(r.table, ("-D", *r.args[1:])) for r in _port_rules(net, c)],
                mirrors="libnetwork portmapper: Unmap, iptables.Forward(Delete)", detail=detail,
                what="failed to remove the port mapping")
    if c.mode == "bridge" and c.host_veth:
        tx.step(text(f"docker {verb} {c.name}: delete its veth pair",
                     f"docker {verb} {c.name}: veth ペアを削除"),
                text(f"deleting {c.host_veth} in the node deletes its peer eth0 in the container "
                     f"too: a veth pair lives and dies together. {net.bridge} loses the port.",
                     f"ノードの {c.host_veth} を消すと、コンテナ内の対向 eth0 も消える（veth ペアは"
                     f"一緒に生まれ一緒に消える）。{net.bridge} はそのポートを失う。"),
                [o.LinkDel(c.host_veth)] if node.link(c.host_veth) else [],
                mirrors="libnetwork bridge driver: DeleteEndpoint (netlink.LinkDel)", detail=detail,
                what="failed to delete the endpoint")
    sharers = [x for x in running
               if x is not c and x.netns == c.netns and c.netns != ROOT]
    if c.owns_netns and sharers:
        heir = sharers[0]
        heir.owns_netns = True
        note(lab, text(f"docker {verb} {c.name}: its namespace stays for {heir.name}",
                          f"docker {verb} {c.name}: 名前空間は {heir.name} のために残る"),
             text(f"{heir.name} joined this namespace (container:{c.name}); a namespace lives as "
                  "long as a process is in it, so only docker's mount of it goes away.",
                  f"{heir.name} がこの名前空間に入っている（container:{c.name}）。名前空間は中にプ"
                  "ロセスがいる限り残るので、消えるのは docker のマウントだけ。"),
             detail=detail)
    elif c.owns_netns:
        key = c.netns
        tx.step(text(f"docker {verb} {c.name}: delete its network namespace",
                     f"docker {verb} {c.name}: ネットワーク名前空間を削除"),
                text("the sandbox goes: `ip netns del` unmounts it and the kernel frees the "
                     "namespace, with its lo, once no process is left in it.",
                     "サンドボックスを消す。`ip netns del` でアンマウントし、プロセスがいなくなると"
                     "カーネルがlo ごと名前空間を解放する。"),
                [o.NetnsDel(key)] if key in lab.snapshot().netns else [],
                mirrors="libnetwork osl: (*networkNamespace).Destroy", detail=detail,
                what="failed to delete the sandbox")
    elif not c.ports:
        note(lab, text(f"docker {verb} {c.name}", f"docker {verb} {c.name}"),
             text("this container had no network of its own: nothing changes in the kernel.",
                  "このコンテナは自分のネットワークを持たないので、カーネル側は何も変わらない。"),
             detail=detail)
    c.owns_netns = False
