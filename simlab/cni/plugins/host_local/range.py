"""Address ranges and range sets (host-local ``backend/allocator/range.go``, ``range_set.go``).

A range is a subnet with an inclusive ``rangeStart``..``rangeEnd`` and a
gateway.  Defaults: gateway = network + 1; start = network + 1 (the gateway
is skipped when allocating, so the first address handed out is .2); end = the
last address, minus the broadcast for IPv4.  A range set is a list of ranges
of one family that must not overlap; one address is allocated per set.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

__all__ = ["Range", "RangeSet", "canonicalize_ip", "last_ip"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass
class Range:
    #: The subnet as written (an ip_interface: host bits kept, as Go's types.IPNet does).
    subnet: ipaddress.IPv4Interface | ipaddress.IPv6Interface | None
    range_start: IPAddress | None = None
    range_end: IPAddress | None = None
    gateway: IPAddress | None = None

    @property
    def network(self):
        return self.subnet.network

    # mirrors range.go: Canonicalize
    def canonicalize(self) -> None:
        """Check the range and fill in the defaults."""
        if self.subnet is None:  # Go: a nil IP
            raise ValueError("IP <nil> not v4 nor v6")
        ones, masklen = self.subnet.network.prefixlen, self.subnet.max_prefixlen
        # Can't create an allocator for a network with no addresses, eg
        # a /32 or /31
        if ones > masklen - 2:
            raise ValueError(f"Network {self.subnet} too small to allocate from")
        # Ensure Subnet IP is the network address, not some other address
        network_ip = self.subnet.network.network_address
        if self.subnet.ip != network_ip:
            raise ValueError(
                f"Network has host bits set. For a subnet mask of length {ones} "
                f"the network address is {network_ip}"
            )
        # If the gateway is nil, claim .1
        if self.gateway is None:
            self.gateway = network_ip + 1
        else:
            self.gateway = canonicalize_ip(self.gateway)
        # RangeStart: If specified, make sure it's sane (inside the subnet),
        # otherwise use the first free IP (i.e. .1) - this will conflict with the
        # gateway but we skip it in the iterator
        if self.range_start is not None:
            self.range_start = canonicalize_ip(self.range_start)
            self.ip_in_range(self.range_start)
        else:
            self.range_start = network_ip + 1
        # RangeEnd: If specified, verify sanity. Otherwise, add a sensible default
        # (e.g. for a /24: .254 if IPv4, ::255 if IPv6)
        if self.range_end is not None:
            self.range_end = canonicalize_ip(self.range_end)
            self.ip_in_range(self.range_end)
        else:
            self.range_end = last_ip(self.subnet.network)

    # mirrors range.go: IPInRange
    def ip_in_range(self, addr) -> None:
        """Raise ValueError unless ``addr`` is an allocatable address of this range."""
        addr = canonicalize_ip(addr)
        net = self.subnet.network
        if addr.version != net.version:
            raise ValueError(f"IP {addr} is not the same protocol as subnet {net}")
        if addr not in net:
            raise ValueError(f"{addr} not in network {net}")
        # We ignore nils here so we can use this function as we initialize the range.
        if self.range_start is not None and addr < self.range_start:
            raise ValueError(f"{addr} is in network {net} but before start {self.range_start}")
        if self.range_end is not None and addr > self.range_end:
            raise ValueError(f"{addr} is in network {net} but after end {self.range_end}")

    # mirrors range.go: Contains
    def contains(self, addr) -> bool:
        try:
            self.ip_in_range(addr)
        except ValueError:
            return False
        return True

    # mirrors range.go: Overlaps
    def overlaps(self, other: Range) -> bool:
        # different familes
        if self.range_start.version != other.range_start.version:
            return False
        return (
            self.contains(other.range_start)
            or self.contains(other.range_end)
            or other.contains(self.range_start)
            or other.contains(self.range_end)
        )

    # mirrors range.go: String
    def __str__(self) -> str:
        return f"{self.range_start}-{self.range_end}"


# mirrors range.go: canonicalizeIP
def canonicalize_ip(addr) -> IPAddress:
    """Go's canonicalizeIP: an IPv4-mapped IPv6 address is IPv4."""
    ip = ipaddress.ip_address(addr) if isinstance(addr, str) else addr
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


# mirrors range.go: lastIP
def last_ip(network) -> IPAddress:
    """The last address of a subnet, excluding the broadcast if IPv4."""
    end = network.broadcast_address
    return end - 1 if network.version == 4 else end


class RangeSet(list):
    """A list of :class:`Range` of one family, allocated from as one pool."""

    # mirrors range_set.go: Contains
    def contains(self, addr) -> bool:
        return self.range_for(addr, raise_=False) is not None

    # mirrors range_set.go: RangeFor
    def range_for(self, addr, raise_: bool = True) -> Range | None:
        addr = canonicalize_ip(addr)
        for r in self:
            if r.contains(addr):
                return r
        if raise_:
            raise ValueError(f"{addr} not in range set {self}")
        return None

    # mirrors range_set.go: Overlaps
    def overlaps(self, other: RangeSet) -> bool:
        return any(r.overlaps(r1) for r in self for r1 in other)

    # mirrors range_set.go: Canonicalize
    def canonicalize(self) -> None:
        if len(self) == 0:
            raise ValueError("empty range set")
        fam = 0
        for i, r in enumerate(self):
            r.canonicalize()
            if i == 0:
                fam = r.range_start.version
            elif fam != r.range_start.version:
                raise ValueError("mixed address families")
        # Make sure none of the ranges in the set overlap
        for i, r1 in enumerate(self[:-1]):
            for r2 in self[i + 1 :]:
                if r1.overlaps(r2):
                    raise ValueError(f"subnets {r1} and {r2} overlap")

    # mirrors range_set.go: String
    def __str__(self) -> str:
        return ",".join(str(r) for r in self)
