"""simlab-loopback: the reference ``loopback`` plugin, function for function.

containerd attaches it to every pod (go-cni ``WithLoNetwork``): the runtime's
fresh namespace has ``lo`` DOWN (``netns.NewNetNS`` brings nothing up), and
this plugin sets it UP; the kernel then gives it ``127.0.0.1/8`` and ``::1``.

Read it beside ``plugins/main/loopback/loopback.go`` (v1.1.1, same in v1.9.1):

- ADD ignores ``CNI_IFNAME`` (always ``lo``), sets it up, refuses a
  non-loopback address on it; with a ``prevResult`` it passes that through,
  else it answers ``lo`` with its first IPv4 and first IPv6 address;
- DEL sets ``lo`` down (no netns, or a namespace already gone: success);
- CHECK fails with ``loopback interface is down`` unless ``lo`` is up.

On a simlab node it runs in-process on the model and as the executable
``loopback`` in the node's plugin directory on the kernel (:func:`main`);
Debian's ``/usr/lib/cni/loopback`` is the reference it is compared with.
"""

from __future__ import annotations

import functools
import ipaddress
import sys

from ...model.text import say
from .. import ns, skel
from .. import netlink as nl
from ..gojson import RAW_MAP, STR, Struct, unmarshal
from ..spec import Interface, IPConfig, Result, parse_result
from . import caller, common, runner

__all__ = ["PLUGIN", "ABOUT", "FUNCS", "cmd_add", "cmd_del", "cmd_check", "main", "in_process"]

PLUGIN = "loopback"
ABOUT = "CNI loopback plugin (simlab, after plugins/main/loopback v1.1.1)"

_SCHEMA = Struct(
    "NetConf", {"cniVersion": STR, "name": STR, "type": STR, "prevResult": RAW_MAP}
)

STEPS = {
    "LinkSetUp": (
        "loopback.go: cmdAdd (netlink.LinkSetUp)",
        say(
            "Inside {netns}: set lo UP. A namespace the runtime just created has lo DOWN; once "
            "it is up the kernel gives it 127.0.0.1/8 and ::1/128.",
            "{netns} の中で lo を UP にする。ランタイムが作ったばかりの名前空間では lo は DOWN。"
            "UP にするとカーネルが 127.0.0.1/8 と ::1/128 を付ける。",
        ),
    ),
    "LinkSetDown": (
        "loopback.go: cmdDel (netlink.LinkSetDown)",
        say(
            "Inside {netns}: set lo DOWN again (the kernel removes its addresses).",
            "{netns} の中で lo を DOWN に戻す（カーネルがアドレスを外す）。",
        ),
    ),
}

_step = functools.partial(common.step, STEPS)


def _conf(data: bytes) -> dict:
    return common.decode_net_conf(data, _SCHEMA)


# mirrors loopback.go: cmdAdd
def cmd_add(args: skel.CmdArgs) -> None:
    conf = _conf(args.stdin_data)
    args.ifname = "lo"  # ignore config, this only works for loopback
    found: dict[int, str] = {}

    def up(_netns) -> None:
        link = nl.link_by_name(args.ifname)
        nl.link_set_up(link)
        link = nl.link_by_name(args.ifname)
        for family in (nl.FAMILY_V4, nl.FAMILY_V6):
            addrs = nl.addr_list(link, family)
            for a in addrs:
                if not ipaddress.ip_address(a.address).is_loopback:
                    raise RuntimeError(
                        f'loopback interface found with non-loopback address "{a.address}"'
                    )
            if addrs:
                found[family] = addrs[0].cidr

    with _step("LinkSetUp", netns=args.netns):
        ns.with_net_ns_path(args.netns, up)
    version = conf.get("cniVersion", "")
    if conf.get("prevResult"):
        # loopback passes a previous plugin's result through untouched
        result = parse_result(conf["prevResult"])
    else:
        result = Result(
            version,
            interfaces=[Interface("lo", "00:00:00:00:00:00", args.netns)],
            ips=[IPConfig(found[f], interface=0) for f in (nl.FAMILY_V4, nl.FAMILY_V6) if f in found],
        )
    skel.print_result(result, version)


# mirrors loopback.go: cmdDel
def cmd_del(args: skel.CmdArgs) -> None:
    if args.netns == "":
        return
    args.ifname = "lo"

    def down(_netns) -> None:
        nl.link_set_down(nl.link_by_name(args.ifname))

    try:
        with _step("LinkSetDown", netns=args.netns):
            ns.with_net_ns_path(args.netns, down)
    except ns.NSPathNotExistErr:
        # the runtime may call DEL again after the namespace is gone (kubernetes#43014)
        return


# mirrors loopback.go: cmdCheck
def cmd_check(args: skel.CmdArgs) -> None:
    def check(_netns) -> None:
        link = nl.link_by_name("lo")
        if not link.up:
            raise RuntimeError("loopback interface is down")

    ns.with_net_ns_path(args.netns, check)


FUNCS = skel.Funcs(add=cmd_add, check=cmd_check, delete=cmd_del)

run = caller(FUNCS, plugin=PLUGIN, about=ABOUT)
in_process = runner(FUNCS, plugin=PLUGIN, about=ABOUT)


def main() -> int:
    """The executable ``loopback`` of a simlab node's plugin directory."""
    return skel.plugin_main(FUNCS, about=ABOUT, plugin=PLUGIN)


if __name__ == "__main__":
    sys.exit(main())
