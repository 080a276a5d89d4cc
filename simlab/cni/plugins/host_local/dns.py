"""``resolvConf``: the DNS part of host-local's result (host-local ``dns.go``)."""

from __future__ import annotations

from ...spec import DNS

__all__ = ["parse_resolv_conf"]


# mirrors dns.go: parseResolvConf
def parse_resolv_conf(filename: str) -> DNS:
    """nameserver / domain / search / options lines of a resolv.conf."""
    dns = DNS()
    with open(filename, encoding="utf-8", errors="replace") as fp:
        for line in fp:
            line = line.strip()
            # Skip comments, empty lines
            if len(line) == 0 or line[0] in "#;":
                continue
            fields = line.split()
            if len(fields) < 2:
                continue
            if fields[0] == "nameserver":
                dns.nameservers.append(fields[1])
            elif fields[0] == "domain":
                dns.domain = fields[1]
            elif fields[0] == "search":
                dns.search.extend(fields[1:])
            elif fields[0] == "options":
                dns.options.extend(fields[1:])
    return dns
