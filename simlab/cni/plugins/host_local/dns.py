"""``resolvConf``: the DNS part of host-local's result (host-local ``dns.go``)."""

from __future__ import annotations

import os
import stat

from ...spec import DNS

__all__ = ["parse_resolv_conf"]


#: bufio.MaxScanTokenSize: Go's Scanner refuses a longer line ("token too long").
MAX_LINE = 64 * 1024
#: A resolv.conf is a few lines; more than this is not one (and must not fill memory).
MAX_SIZE = 1024 * 1024


def _lines(filename: str):
    """The file's lines, read within Go's line limit and MAX_SIZE; only a regular file.

    Opened non-blocking, so a FIFO with no writer cannot hang the plugin.
    """
    fd = os.open(filename, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError(f"resolvConf {filename}: not a regular file")
        data = b""
        while len(data) <= MAX_SIZE and (chunk := os.read(fd, MAX_SIZE + 1 - len(data))):
            data += chunk
    finally:
        os.close(fd)
    if len(data) > MAX_SIZE:
        raise ValueError(f"resolvConf {filename}: larger than {MAX_SIZE} bytes")
    for line in data.split(b"\n"):
        if len(line) > MAX_LINE:
            raise ValueError("bufio.Scanner: token too long")
        yield line.decode("utf-8", errors="replace")


# mirrors dns.go: parseResolvConf
def parse_resolv_conf(filename: str) -> DNS:
    """nameserver / domain / search / options lines of a resolv.conf."""
    dns = DNS()
    for line in _lines(filename):
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
