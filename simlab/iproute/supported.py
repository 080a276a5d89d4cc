"""What simlab's parser accepts, as the README lists it (``python -m simlab.iproute.supported``).

Each entry is a synopsis and example command lines; ``tests/test_iproute_parse.py`` parses every
example (it must be accepted) and every refused line (it must be refused with a hint naming what
simlab does instead), and checks that README.md's list is exactly :func:`markdown`'s output.
"""

from __future__ import annotations

__all__ = ["COMMANDS", "REFUSED", "markdown", "BEGIN", "END"]

#: (synopsis, examples): every example must parse.
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ip [-n NS] [-4|-6] [-d] [-s] [-br] [-o] [-j [-p]] link [show [dev] X] [up] [master BR] [type KIND]",
     ("ip link", "ip -d link show br0", "ip -br link", "ip -o link", "ip -j -p link show up",
      "ip -s link show veth1")),
    ("ip link add [name] X type veth [peer name Y [netns NS]] | type bridge",
     ("ip link add veth1 type veth peer name veth2 netns red", "ip link add br0 type bridge")),
    ("ip link set [dev] X up|down | name N | address MAC | mtu N | master BR | nomaster | netns NS "
     "| promisc|arp|multicast|allmulticast on|off",
     ("ip link set veth1 up", "ip link set veth2 netns red", "ip link set veth1 master br0",
      "ip link set veth1 arp off multicast off")),
    ("ip link del [dev] X", ("ip link del veth1",)),
    ("ip [-4|-6] addr [show [dev X] [scope S] [label L] [to PREFIX] [primary|secondary]]",
     ("ip a", "ip -4 addr show dev veth1", "ip addr show scope link", "ip a show label veth1:0",
      "ip -o a")),
    ("ip addr add|del A/N [brd +|-|B] [scope S] [label L] dev X; ip addr flush dev X",
     ("ip addr add 10.0.0.1/24 dev veth1", "ip addr add 10.0.0.5/24 brd + dev veth1 label veth1:0",
      "ip addr del 10.0.0.1/24 dev veth1", "ip addr flush dev veth1")),
    ("ip [-6] route [show [table main|local|all|N] [dev X] [proto P] [scope S] [type T] [via G] "
     "[src A] [metric N] [root|match|exact PREFIX]]",
     ("ip route", "ip -6 route", "ip route show table local", "ip route show proto kernel",
      "ip route show table 100")),
    ("ip route add|replace|change [blackhole|unreachable|prohibit|throw] DST [via G] [dev X] "
     "[src A] [metric N] [proto P] [scope S] [table N] [onlink]",
     ("ip route add default via 10.0.0.1", "ip route replace 10.1.0.0/16 via 10.0.0.2 metric 10",
      "ip route add 169.254.1.1 dev eth0 scope link", "ip route add blackhole 10.9.0.0/16",
      "ip route add 10.5.0.0/16 dev veth1 table 100 proto static")),
    ("ip route del DST [via G] [dev X] [metric N] [table N]; ip route flush SELECTORS",
     ("ip route del 10.1.0.0/16 metric 10", "ip route flush dev veth1", "ip route flush table 100")),
    ("ip [-j [-p]] route get ADDRESS [from ADDRESS]", ("ip route get 10.0.0.2", "ip -j route get 8.8.8.8 from 10.0.0.7", "ip -6 route get 2001:db8::1")),
    ("ip [-6] [-j [-p]] rule [show [from P] [to P] [iif X] [oif X] [pref N] [table T]]",
     ("ip rule", "ip -6 rule", "ip -j rule show table 100")),
    ("ip [-6] rule add|del [not] [from P] [to P] [fwmark M[/MASK]] [iif X] [oif X] [pref N] "
     "[lookup TABLE | blackhole | unreachable | prohibit]; ip rule flush",
     ("ip rule add from 10.9.0.0/24 lookup 100", "ip rule add to 8.8.4.4 table 100 pref 20",
      "ip rule del pref 20", "ip rule add iif veth1 blackhole")),
    ("ip [-4|-6] neigh [show [dev X] [nud STATE] [ADDR]]", ("ip neigh", "ip neigh show nud permanent")),
    ("ip neigh add|replace|change ADDR lladdr MAC dev X [nud permanent|reachable|stale]; "
     "ip neigh del ADDR dev X; ip neigh flush dev X|all",
     ("ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev veth1",
      "ip neigh replace 10.0.0.2 lladdr 02:00:00:00:00:03 dev veth1 nud stale",
      "ip neigh del 10.0.0.2 dev veth1", "ip neigh flush dev veth1")),
    ("ip netns [list] | add NS | del NS | exec NS COMMAND",
     ("ip netns", "ip netns add red", "ip netns exec red ip a")),
    ("bridge [-d] [-j] link [show [dev X]]; bridge link set dev X hairpin|learning|flood on|off",
     ("bridge link", "bridge -d link show dev veth1", "bridge link set dev veth1 hairpin on",
      "bridge link set dev veth1 learning off")),
    ("bridge fdb [show] [br BR] [dev X]", ("bridge fdb show br br0",)),
    ("iptables [-t TABLE] -S [CHAIN] | -N | -A | -I | -D | -X | -F ...",
     ("iptables -t nat -S", "iptables -t nat -A POSTROUTING -s 10.0.0.0/24 -j MASQUERADE")),
    ("sysctl -w KEY=VALUE", ("sysctl -w net.ipv4.ip_forward=1",)),
    ("ping [-c N] ADDRESS", ("ping -c 1 10.0.0.2",)),
)

#: (command line, why simlab refuses it): every one must be refused with a hint.
REFUSED: tuple[tuple[str, str], ...] = (
    ("ip -s -s link", "error counters; `ip -s` shows the (zero) counters of links that were never up, "
     "and says so for a link that was"),
    ("ip rule add from 10.0.0.0/24 goto 32766", "rule actions other than lookup, blackhole, unreachable, prohibit; "
     "tos, uidrange, ports, protocol selectors"),
    ("ip link set veth1 trailers off", "link flags other than up, promisc, arp, multicast, allmulticast"),
    ("bridge link set dev veth1 cost 5", "bridge port options other than hairpin, learning, flood"),
    ("ip link add br0 type bridge stp_state 1", "STP: simlab's bridges run without it"),
    ("ip route get 10.0.0.2 iif veth1", "route lookups by input device, mark, tos, ports"),
    ("ip route add local 10.0.0.9 dev veth1", "local, broadcast, multicast, nat and anycast routes"),
    ("ip neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev veth1 nud noarp", "neighbours other than permanent, reachable, stale"),
    ("ip link add x type vxlan id 5", "link types other than veth and bridge"),
)

PIPE = "\\|"  # a pipe inside a table cell, code spans included (GitHub's tables)
BEGIN = "<!-- supported commands: generated by `python -m simlab.iproute.supported`; do not edit -->"
END = "<!-- end of supported commands -->"


def markdown() -> str:
    """The README's list, between :data:`BEGIN` and :data:`END` (both included)."""
    lines = [BEGIN, "", "| command | for example |", "| --- | --- |"]
    for synopsis, examples in COMMANDS:
        shown = "<br>".join(f"`{e}`" for e in examples)
        lines.append("| `" + synopsis.replace("|", PIPE) + "` | " + shown.replace("|", PIPE) + " |")
    lines += ["", "Refused, each with a hint naming what simlab does instead:", ""]
    lines += [f"- `{line}`: {why}" for line, why in REFUSED]
    lines += ["", END]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
