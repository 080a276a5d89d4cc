"""simlab-host-local: the reference ``host-local`` IPAM plugin (v1.1.1), function for function.

Read it beside ``plugins/ipam/host-local/main.go`` (this module),
``backend/allocator/*.go`` (:mod:`.config`, :mod:`.range`, :mod:`.allocator`),
``backend/disk/*.go`` (:mod:`.disk`) and ``dns.go`` (:mod:`.dns`).

host-local never touches the network: it reserves addresses in files under
``<dataDir>/<network>/`` and prints an IPAM result (``ips``, ``routes``,
``dns``; no ``interfaces``).  It does not even look at ``CNI_NETNS``.

Spec 1.1.0: GC releases the reservations of attachments not in
``cni.dev/valid-attachments`` (leases leaked by a DEL that never ran).
Upstream host-local has no GC in any release up to v1.9 (``/* FIXME GC */``,
plugins issue #1047); simlab mirrors the store GC proposed there
(``backend/disk``: match on container id *and* ifname, keep ``lock`` and
``last_reserved_ip.*``, honour reservations written with the id alone).
STATUS is not implemented upstream (``/* FIXME Status */``): the skeleton
answers success.
"""

from __future__ import annotations

import errno as _errno
import os
import sys

from ... import skel
from ...spec import CURRENT_VERSION, Result, valid_attachments
from .. import caller
from .allocator import IPAllocator
from .config import load_ipam_config
from .disk import Store
from .dns import parse_resolv_conf

__all__ = [
    "cmd_add",
    "cmd_del",
    "cmd_check",
    "cmd_gc",
    "main",
    "run",
    "FUNCS",
    "PLUGIN",
    "ABOUT",
]

PLUGIN = "simlab-host-local"
ABOUT = "CNI simlab-host-local plugin version 0.1.0 (mirrors host-local v1.1.1)"


def _go_os_error(op: str, err: OSError) -> RuntimeError:
    text = os.strerror(err.errno or _errno.EIO)
    return RuntimeError(f"{op} {err.filename}: {text[:1].lower()}{text[1:]}")


def _open_store(name: str, data_dir: str) -> Store:
    try:
        return Store(name, data_dir)
    except OSError as err:
        raise _go_os_error(
            "open" if os.path.isdir(os.path.dirname(err.filename or "") or "/") else "mkdir", err
        ) from None


# mirrors main.go: main
def main() -> int:
    """The executable ``simlab-host-local``."""
    return skel.plugin_main(FUNCS, about=ABOUT, plugin=PLUGIN)


# mirrors main.go: cmdCheck
def cmd_check(args: skel.CmdArgs) -> None:
    ipam_conf, _ = load_ipam_config(args.stdin_data, args.args)
    # Look to see if there is at least one IP address allocated to the container
    # in the data dir, irrespective of what that address actually is
    store = _open_store(ipam_conf.name, ipam_conf.data_dir)
    try:
        if not store.find_by_id(args.container_id, args.ifname):
            raise RuntimeError(
                f"host-local: Failed to find address added by container {args.container_id}"
            )
    finally:
        store.close()


# mirrors main.go: cmdAdd
def cmd_add(args: skel.CmdArgs) -> None:
    ipam_conf, conf_version = load_ipam_config(args.stdin_data, args.args)
    result = Result(CURRENT_VERSION)
    if ipam_conf.resolv_conf != "":
        try:
            result.dns = parse_resolv_conf(ipam_conf.resolv_conf)
        except OSError as err:
            raise _go_os_error("open", err) from None

    store = _open_store(ipam_conf.name, ipam_conf.data_dir)
    try:
        # Keep the allocators we used, so we can release all IPs if an error
        # occurs after we start allocating
        allocs: list[IPAllocator] = []
        # Store all requested IPs in a map, so we can easily remove ones we use
        # and error if some remain
        requested_ips = {str(ip): ip for ip in ipam_conf.ip_args}
        for idx, rangeset in enumerate(ipam_conf.ranges):
            allocator = IPAllocator(rangeset, store, idx)
            # Check to see if there are any custom IPs requested in this range.
            requested_ip = None
            for k, ip in list(requested_ips.items()):
                if rangeset.contains(ip):
                    requested_ip = ip
                    del requested_ips[k]
                    break
            try:
                ip_conf = allocator.get(args.container_id, args.ifname, requested_ip)
            except (ValueError, OSError) as err:
                # Deallocate all already allocated IPs
                for alloc in allocs:
                    alloc.release(args.container_id, args.ifname)
                raise RuntimeError(f"failed to allocate for range {idx}: {err}") from None
            allocs.append(allocator)
            result.ips.append(ip_conf)

        # If an IP was requested that wasn't fulfilled, fail
        if requested_ips:
            for alloc in allocs:
                alloc.release(args.container_id, args.ifname)
            raise RuntimeError("failed to allocate all requested IPs: " + " ".join(requested_ips))
    finally:
        store.close()

    result.routes = list(ipam_conf.routes)
    skel.print_result(result, conf_version)


# mirrors main.go: cmdDel
def cmd_del(args: skel.CmdArgs) -> None:
    ipam_conf, _ = load_ipam_config(args.stdin_data, args.args)
    store = _open_store(ipam_conf.name, ipam_conf.data_dir)
    try:
        # Loop through all ranges, releasing all IPs, even if an error occurs
        errors = []
        for idx, rangeset in enumerate(ipam_conf.ranges):
            ip_allocator = IPAllocator(rangeset, store, idx)
            try:
                ip_allocator.release(args.container_id, args.ifname)
            except OSError as err:
                errors.append(str(err))
        if errors:
            raise RuntimeError(";".join(errors))
    finally:
        store.close()


# simlab: main.go's cmdGC as proposed for plugins issue #1047 (see the module's docstring)
def cmd_gc(args: skel.CmdArgs) -> None:
    ipam_conf, _ = load_ipam_config(args.stdin_data, args.args)
    valid = valid_attachments(args.stdin_data)
    store = _open_store(ipam_conf.name, ipam_conf.data_dir)
    try:
        store.gc(valid)
    except OSError as err:
        raise _go_os_error("remove", err) from None
    finally:
        store.close()


FUNCS = skel.Funcs(add=cmd_add, check=cmd_check, delete=cmd_del, gc=cmd_gc)


#: One call in-process: ``run(env, stdin, backend=...)`` -> ``(exit, stdout, stderr)``.
run = caller(FUNCS, plugin=PLUGIN, about=ABOUT)


if __name__ == "__main__":  # pragma: no cover - python -m uses __main__.py
    sys.exit(main())
