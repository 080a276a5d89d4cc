"""CNI spec 1.1.0 on a containerd node: STATUS before the node is Ready, GC after a leak.

Which runtime does what (checked against the projects' sources and PRs):

- **STATUS**: containerd **2.0.1 and later** (go-cni PR #123) answer the
  kubelet's CRI ``Status`` call (every 5 s) by asking every network's plugins
  (libcni ``GetStatusNetworkList``); an error makes the node's NetworkReady
  false.  containerd **1.7** -- the version the rest of this node mirrors --
  only checks that a configuration is loaded: it never sends STATUS.  So
  :func:`cni_status` is a containerd 2.x step, and says so.
- **GC**: no containerd release calls it, 1.7 or 2.x (go-cni's GC support,
  PR #131, is still open); CRI-O does, through ocicni's ``GC`` -> libcni
  ``GCNetworkList``.  :func:`gc` is that call, with the sandboxes containerd
  knows as the valid attachments.
- A leak to collect: :func:`crash` loses a pod the way a crash nobody
  cleaned up after does -- its namespace goes, no CNI DEL ever runs, so
  host-local keeps its lease and the bridge its ``ipMasq`` chain.

libcni only asks the plugins when the list's ``cniVersion`` is >= 1.1.0
(below, STATUS asks nobody and GC only DELs the stale attachments it has
cached); the node's preset conflist says ``1.0.0``, so write one with
``1.1.0`` to see the plugins answer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..cni import CNIError
from ..cni.runtime import Attachment
from ..cni.spec import greater_than_or_equal_to
from ..model import ops as o
from ..timeline import text
from . import kube_cni as kc
from .libcni import GoCNI

__all__ = ["GCReport", "cni_status", "gc", "crash"]

_STATUS = "containerd v2.0 internal/cri/server/status.go: Status (go-cni Status -> "
_GC = "libcni api.go: GCNetworkList (as CRI-O's ocicni calls it; containerd does not, 1.7 or 2.x)"


@dataclass
class GCReport:
    """What one GC did on a node."""

    #: (network, container id, ifname) of the cached attachments that got a DEL
    deleted: list[tuple[str, str, str]] = field(default_factory=list)
    #: host-local reservations (addresses) gone
    released: list[str] = field(default_factory=list)
    #: nat chains gone (the ipMasq chains of attachments no longer valid)
    chains: list[str] = field(default_factory=list)
    #: the plugins' errors, joined as libcni joins them ("" when none)
    errors: str = ""

    def __str__(self) -> str:
        lines = [f"DEL of stale attachment {c} {i} ({n})" for n, c, i in self.deleted]
        lines += [f"released {a}" for a in self.released]
        lines += [f"removed nat chain {c}" for c in self.chains]
        lines += [f"error: {e}" for e in self.errors.splitlines()]
        return "\n".join(lines) or "nothing to collect"


def _title(node, en: str, ja: str) -> dict:
    return text(f"containerd ({node.name}): {en}", f"containerd（{node.name}）：{ja}")


def _networks(worker, node) -> tuple[GoCNI, str]:
    """go-cni's networks (cni-loopback, then the node's conflist) and the conflist's path."""
    conf_path, net, _problems = kc.load_network(node.cni_config_dir)
    return GoCNI(worker.runtime(node), net), conf_path


def _error_text(err: CNIError) -> str:
    # Go's types.Error.Error(): the message, then "; details"
    return err.msg + (f"; {err.details}" if err.details else "")


# mirrors containerd v2.0 internal/cri/server/status.go: Status (the NetworkReady condition)
def cni_status(lab, node, worker) -> dict:
    """The node's NetworkReady condition as containerd 2.x reports it to the kubelet."""
    condition = {"type": "NetworkReady", "status": True, "reason": "", "message": ""}
    asked: list[str] = []
    try:
        cni, conf_path = _networks(worker, node)
        for net in cni.networks:
            if greater_than_or_equal_to(net.config.cni_version, "1.1.0"):
                asked += [p.type for p in net.config.plugins]
            cni.runtime.status(net.config)
    except kc.ConfigError:
        conf_path, error = "", "cni plugin not initialized"
    except CNIError as err:
        error = _error_text(err)
    else:
        error = ""
    if error:
        condition.update(
            status=False,
            reason="NetworkPluginNotReady",
            message=f"Network plugin returns error: {error}",
        )
    who = ", ".join(asked) or "no plugin"
    lab.apply(
        title=_title(
            node,
            f"CRI Status: NetworkReady={str(condition['status']).lower()} (CNI STATUS: {who})",
            f"CRI Status: NetworkReady={str(condition['status']).lower()}（CNI STATUS: {who}）",
        ),
        why=text(
            "The kubelet asks the runtime's status every 5 seconds. containerd 2.0.1 and later "
            "send CNI STATUS to every plugin of every network whose cniVersion is 1.1.0 or "
            "more (libcni GetStatusNetworkList); an older list is not asked at all. An error "
            "(50: cannot add pods, 51: and existing pods may suffer) makes NetworkReady false "
            "and the node NotReady before any pod fails. containerd 1.7, which the rest of "
            "this node mirrors, only checks that a configuration is loaded."
            + (f" Answer: {condition['message']}" if error else ""),
            "kubelet は 5 秒ごとにランタイムの状態を尋ねる。containerd 2.0.1 以降は、"
            "cniVersion が 1.1.0 以上の全ネットワークの全プラグインに CNI STATUS を送る"
            "（libcni GetStatusNetworkList）。それより古いリストには何も尋ねない。エラー"
            "（50: Pod を追加できない、51: 既存の Pod にも影響あり）なら NetworkReady は false "
            "になり、Pod が失敗する前にノードが NotReady になる。このノードの他の手順が"
            "なぞる containerd 1.7 は、設定が読み込まれたかを確かめるだけ。"
            + (f" 答え: {condition['message']}" if error else ""),
        ),
        mirrors=_STATUS + "GetStatusNetworkList)",
        actor="containerd",
        detail={"k8s": "cni-status", "conf": conf_path, "condition": dict(condition)},
    )
    return condition


def _leases(node) -> set[str]:
    out = set()
    for _root, _dirs, files in os.walk(node.ipam_dir):
        out |= {f for f in files if f != "lock" and not f.startswith("last_reserved_ip")}
    return out


def _nat_chains(lab, node) -> set[str]:
    rules = lab.snapshot().netns[node.key].iptables.get("nat", ())
    return {line.split()[1] for line in rules if line.startswith("-N CNI-")}


def gc(lab, node, sandboxes, worker) -> GCReport:
    """libcni ``GCNetworkList`` for every network, the sandboxes containerd knows being valid."""
    cni, conf_path = _networks(worker, node)
    valid = [
        (rec.id, net.ifname) for rec in sandboxes.sandboxes.values() for net in cni.networks
    ]
    lab.apply(
        title=_title(
            node,
            f"CNI GC: {len(sandboxes.sandboxes)} sandbox(es) still valid",
            f"CNI GC: 有効なサンドボックス {len(sandboxes.sandboxes)} 個",
        ),
        why=text(
            "GC is given the attachments still in use (container id, ifname). libcni first "
            "sends DEL for every attachment it has cached that is not among them; then, for a "
            "list of version 1.1.0 or more, GC to every plugin, which removes what only it "
            "knows (host-local's leases, the bridge's masquerade chains). No containerd "
            "release calls GC yet; CRI-O does.",
            "GC には使用中のアタッチメント（コンテナ ID, ifname）が渡される。libcni はまず、"
            "キャッシュにあってその中に無いアタッチメントに DEL を送り、次に 1.1.0 以上の"
            "リストなら全プラグインに GC を送る。プラグインは自分だけが知るもの（host-local "
            "のリース、bridge のマスカレードチェイン）を消す。GC を呼ぶ containerd の"
            "リリースはまだ無い。CRI-O は呼ぶ。",
        ),
        mirrors=_GC,
        actor="containerd",
        detail={"k8s": "cni-gc", "conf": conf_path, "valid": [list(v) for v in valid]},
    )
    leases, chains = _leases(node), _nat_chains(lab, node)
    report = GCReport()
    errors = []
    for net in cni.networks:
        try:
            stale: list[Attachment] = cni.runtime.gc(net.config, valid)
        except CNIError as err:
            errors.append(err.msg)
            continue
        report.deleted += [(a.network, a.container_id, a.ifname) for a in stale]
    report.released = sorted(leases - _leases(node))
    report.chains = sorted(chains - _nat_chains(lab, node))
    report.errors = "\n".join(errors)
    return report


def crash(lab, node, sandboxes, worker, p, *, cache: bool = True) -> None:
    """Lose pod ``p`` without CNI DEL: its namespace and records go, the plugins' state stays."""
    rec = sandboxes.sandboxes.pop(p.sandbox_id)
    for cid in [c.id for c in sandboxes.containers.values() if c.sandbox is rec]:
        del sandboxes.containers[cid]
    rt = worker.runtime(node)
    if not cache:
        rt.forget_cached(rec.id)
    lab.apply(
        o.NetnsDel(rec.netns),
        title=_title(
            node,
            f"crash: {p.name} lost without CNI DEL",
            f"クラッシュ: {p.name} が CNI DEL なしに失われる",
        ),
        why=text(
            f"The namespace {rec.netns} is gone and containerd no longer knows the sandbox, "
            "but no CNI DEL ever ran: host-local still reserves the pod's address, an ipMasq "
            "chain stays in the nat table"
            + (
                ", and libcni's cache still holds the attachment (/var/lib/cni/results)."
                if cache
                else "; libcni's cache lost the attachment too, so only the plugins' GC can "
                "find the leak."
            ),
            f"名前空間 {rec.netns} は消え、containerd もサンドボックスを忘れたが、CNI DEL は"
            "一度も走っていない。host-local は Pod のアドレスを確保したまま、ipMasq の"
            "チェインも nat テーブルに残る"
            + (
                "。libcni のキャッシュ（/var/lib/cni/results）にもアタッチメントが残っている。"
                if cache
                else "。libcni のキャッシュからも消えたので、リークを見つけられるのはプラグインの "
                "GC だけ。"
            ),
        ),
        mirrors="simlab: a crash (no containerd code runs)",
        actor="containerd",
        detail={"k8s": "crash", "pod": p.name, "netns": rec.netns, "cache": cache},
    )
    worker._forget_sandbox(p)
    del worker._pods[(p.namespace, p.name)]
