"""Handing out addresses round-robin (host-local ``backend/allocator/allocator.go``).

Per range set: a requested address must be in the set, not the gateway, and
free; otherwise a second address for the same (container, ifname) is refused;
otherwise the iterator starts right after ``last_reserved_ip.<i>`` (or at the
first range's start), skips the gateway, wraps from a range's end to the next
range's start, and gives up when it comes back to where it started.  A freed
address is therefore not reused at once.
"""

from __future__ import annotations

import ipaddress

from ...spec import IPConfig
from .disk import Store
from .range import RangeSet, canonicalize_ip

__all__ = ["IPAllocator", "RangeIter"]


class IPAllocator:
    # mirrors allocator.go: NewIPAllocator
    def __init__(self, rangeset: RangeSet, store: Store, id: int):
        self.rangeset = rangeset
        self.store = store
        self.range_id = str(id)  # Used for tracking last reserved ip

    # mirrors allocator.go: Get
    def get(self, id: str, ifname: str, requested_ip=None) -> IPConfig:
        """Reserve an address for (id, ifname) under the store's lock."""
        self.store.lock()
        try:
            return self._get(id, ifname, requested_ip)
        finally:
            self.store.unlock()

    def _get(self, id: str, ifname: str, requested_ip) -> IPConfig:
        reserved_ip = gw = None
        if requested_ip is not None:
            requested_ip = canonicalize_ip(requested_ip)
            r = self.rangeset.range_for(requested_ip)
            if requested_ip == r.gateway:
                raise ValueError(f"requested ip {requested_ip} is subnet's gateway")
            if not self.store.reserve(id, ifname, requested_ip, self.range_id):
                raise ValueError(
                    f"requested IP address {requested_ip} is not available in range set "
                    f"{self.rangeset}"
                )
            reserved_ip, gw = (requested_ip, r.network.prefixlen), r.gateway
        else:
            # try to get allocated IPs for this given id, if exists, just return error
            # because duplicate allocation is not allowed in SPEC
            # https://github.com/containernetworking/cni/blob/master/SPEC.md
            for allocated in self.store.get_by_id(id, ifname):
                # check whether the existing IP belong to this range set
                if self.rangeset.contains(allocated):
                    raise ValueError(
                        f"{allocated} has been allocated to {id}, "
                        "duplicate allocation is not allowed"
                    )
            it = self.get_iter()
            while True:
                candidate = it.next()
                if candidate is None:
                    break
                if self.store.reserve(id, ifname, candidate[0], self.range_id):
                    reserved_ip, gw = candidate[:2], candidate[2]
                    break
        if reserved_ip is None:
            raise ValueError(f"no IP addresses available in range set: {self.rangeset}")
        ip, prefixlen = reserved_ip
        return IPConfig(f"{ip}/{prefixlen}", str(gw))

    # mirrors allocator.go: Release
    def release(self, id: str, ifname: str) -> None:
        """Clear all IPs allocated for the container with given ID."""
        self.store.lock()
        try:
            self.store.release_by_id(id, ifname)
        finally:
            self.store.unlock()

    # mirrors allocator.go: GetIter
    def get_iter(self) -> RangeIter:
        it = RangeIter(self.rangeset)
        # Round-robin by trying to allocate from the last reserved IP + 1
        start_from_last = False
        # We might get a last reserved IP that is wrong if the range indexes changed.
        # This is not critical, we just lose round-robin this one time.
        last = None
        try:
            last = canonicalize_ip(
                ipaddress.ip_address(self.store.last_reserved_ip(self.range_id).strip())
            )
            start_from_last = self.rangeset.contains(last)
        except (OSError, ValueError):
            pass
        # Find the range in the set with this IP
        if start_from_last:
            for i, r in enumerate(self.rangeset):
                if r.contains(last):
                    it.range_idx = i
                    # We advance the cursor on every Next(), so the first call
                    # to next() will return lastReservedIP + 1
                    it.cur = last
                    break
        else:
            it.range_idx = 0
            it.start_ip = self.rangeset[0].range_start
        return it


class RangeIter:
    def __init__(self, rangeset: RangeSet):
        self.rangeset = rangeset
        self.range_idx = 0  # The current range id
        self.cur = None  # Our current position
        self.start_ip = None  # The IP where we started iterating; if we hit this again, we're done.

    # mirrors allocator.go: Next
    def next(self):
        """(ip, prefixlen, gateway) of the next candidate, or None when exhausted."""
        while True:
            r = self.rangeset[self.range_idx]
            # If this is the first time iterating and we're not starting in the middle
            # of the range, then start at rangeStart, which is inclusive
            if self.cur is None:
                self.cur = r.range_start
                self.start_ip = self.cur
                if self.cur == r.gateway:
                    continue  # Go: return i.Next()
                return self.cur, r.network.prefixlen, r.gateway
            # If we've reached the end of this range, we need to advance the range
            # RangeEnd is inclusive as well
            if self.cur == r.range_end:
                self.range_idx = (self.range_idx + 1) % len(self.rangeset)
                r = self.rangeset[self.range_idx]
                self.cur = r.range_start
            else:
                self.cur = self.cur + 1
            if self.start_ip is None:
                self.start_ip = self.cur
            elif self.cur == self.start_ip:
                # IF we've looped back to where we started, give up
                return None
            if self.cur == r.gateway:
                continue  # Go: return i.Next()
            return self.cur, r.network.prefixlen, r.gateway
