"""A CNI runtime that calls plugins the way libcni does.

>>> from simlab.backends.model import ModelBackend
>>> from simlab.model import NetnsAdd
>>> import tempfile
>>> model = ModelBackend(); model.apply(NetnsAdd("pod1"))
>>> rt = Runtime(backend=model)
>>> conf = {"cniVersion": "1.0.0", "name": "podnet", "plugins": [
...     {"type": "simlab-bridge", "bridge": "cni0", "isGateway": True,
...      "ipam": {"type": "simlab-host-local", "subnet": "10.88.0.0/16",
...               "dataDir": tempfile.mkdtemp()}}]}
>>> rt.add(conf, "pod1-id", "/run/netns/pod1").ips[0].address
'10.88.0.2/16'
>>> rt.delete(conf, "pod1-id", "/run/netns/pod1")

What it does, per libcni 1.1 (``libcni/api.go``):

- ADD runs the list's plugins in order; each gets the previous one's result
  as ``prevResult``; the first error stops the chain; the final result is
  cached per (network, container, ifname);
- DEL runs them in reverse; from spec 0.4.0 on each gets the cached result as
  ``prevResult`` (0.3.x: none); the cache entry is dropped;
- CHECK (>= 0.4.0; skipped with ``disableCheck``) runs them in order with the
  cached result;
- GC (libcni >= 1.2, ``GCNetworkList``): first a DEL for every cached
  attachment of the network that is not among the valid ones (any version:
  so even plugins that predate spec 1.1.0 get their leaks cleaned); then, for a
  list of version >= 1.1.0 (and no ``disableGC``), GC to every plugin with
  ``cni.dev/valid-attachments``; errors do not stop it, they are joined;
- STATUS (``GetStatusNetworkList``): nothing below 1.1.0; otherwise every
  plugin in order, the first error returned as the plugin gave it (50, 51...);
- a plugin is the first file named ``type`` in ``cni_path`` and gets
  ``CNI_COMMAND``, ``CNI_CONTAINERID``, ``CNI_NETNS``, ``CNI_IFNAME``,
  ``CNI_ARGS`` (``K=V;K2=V2``) and ``CNI_PATH`` on top of the environment, the
  request config on stdin; a non-zero exit raises :class:`CNIError` with the
  plugin's own code, message and details (or one saying the output was garbage).

simlab additions: with ``backend=`` (the lab's model) simlab's own plugin
types (``simlab-bridge``, ``simlab-host-local``) run in-process against it;
``exec_prefix`` (e.g. ``["nsenter", "--net=/run/netns/node", "--"]``) runs
exec'd plugins in the lab's node namespace; ``on_invoke`` gets one
:class:`~simlab.cni.trace.Invocation` per plugin call and ``recorder`` every
plugin step (exec'd simlab plugins send theirs through ``SIMLAB_CNI_TRACE``).

Namespaces on the model: ``CNI_NETNS=/run/netns/<key>`` (or
``/var/run/netns/<key>``) names the model namespace ``<key>``; ``netns_paths``
adds other paths (``{"/var/run/docker/netns/abc": "web"}``).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import invoke
from .config import NetworkConfig, NetworkConfigList, build_one_config, load
from .gojson import marshal, unmarshal
from .netlink import Session
from .plugins import IN_PROCESS
from .spec import (
    ERR_INTERNAL,
    VALID_ATTACHMENTS,
    CNIError,
    PluginInfo,
    Result,
    greater_than_or_equal_to,
)
from .trace import TRACE_ENV, Invocation, StepRecord, read_trace
from .utils import validate_container_id, validate_interface_name, validate_network_name

__all__ = ["Runtime", "Attachment", "default_cni_path"]


class _Tee:
    """Forwards records to the user's recorder and keeps the steps for the invocation."""

    def __init__(self, target):
        self.target = target
        self.items: list = []
        self.wants_snapshots = bool(getattr(target, "wants_snapshots", False))
        self.step_context = getattr(target, "step_context", None)

    def record(self, item) -> None:
        self.items.append(item)
        if self.target is not None:
            self.target.record(item)


@dataclass
class Attachment:
    """libcni's ``NetworkAttachment``: what the cache keeps of one ADD, enough for a later DEL."""

    network: str
    container_id: str
    ifname: str
    netns: str = ""
    args: list[tuple[str, str]] = field(default_factory=list)
    capability_args: dict | None = None
    result: Result | None = None


class Runtime:
    """Run CNI plugins for containers: ``add``, ``check``, ``delete``, ``gc``, ``status``."""

    def __init__(
        self,
        cni_path: Sequence[str] = (),
        *,
        backend=None,
        recorder=None,
        on_invoke: Callable[[Invocation], None] | None = None,
        exec_prefix: Sequence[str] = (),
        netns_paths: Mapping[str, str] | None = None,
        cache_dir: str | None = None,
        in_process: Mapping[str, Callable] | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = 120.0,
    ):
        #: Where plugins are looked up; by default the directory of simlab's own executables.
        self.cni_path = [str(p) for p in cni_path] or [default_cni_path()]
        self.backend = backend
        self.recorder = recorder
        self.on_invoke = on_invoke
        self.exec_prefix = list(exec_prefix)
        self.netns_paths = dict(netns_paths or {})
        self.cache_dir = cache_dir
        self.in_process = (
            dict(IN_PROCESS if in_process is None else in_process) if backend is not None else {}
        )
        self.env = dict(os.environ if env is None else env)
        self.timeout = timeout
        self._cache: dict[tuple[str, str, str], Attachment] = {}
        #: Every invocation made, in order (also given to ``on_invoke``).
        self.invocations: list[Invocation] = []

    # ------------------------------------------------------------------ API
    # mirrors libcni/api.go: AddNetworkList
    def add(
        self,
        config,
        container_id: str,
        netns: str,
        ifname: str = "eth0",
        args=None,
        capability_args: Mapping[str, Any] | None = None,
    ) -> Result:
        """ADD the container to the network; returns the final result (in the list's version)."""
        net = load(config)
        result: Result | None = None
        for plugin in net.plugins:
            result = self._add_one(
                net, plugin, result, container_id, netns, ifname, args, capability_args
            )
        assert result is not None
        self._cache_put(
            Attachment(
                net.name, container_id, ifname, netns, _pairs(args), capability_args, result
            )
        )
        return result

    # mirrors libcni/api.go: CheckNetworkList
    def check(
        self,
        config,
        container_id: str,
        netns: str,
        ifname: str = "eth0",
        args=None,
        capability_args: Mapping[str, Any] | None = None,
    ) -> None:
        """CHECK the attachment against the cached ADD result (spec >= 0.4.0)."""
        net = load(config)
        if not greater_than_or_equal_to(net.cni_version, "0.4.0"):
            raise CNIError(
                1, f'configuration version "{net.cni_version}" does not support the CHECK command'
            )
        if net.disable_check:
            return
        cached = self.cached_result(net, container_id, ifname)
        for plugin in net.plugins:
            self._call(
                "CHECK", net, plugin, cached, container_id, netns, ifname, args, capability_args
            )

    # mirrors libcni/api.go: DelNetworkList
    def delete(
        self,
        config,
        container_id: str,
        netns: str = "",
        ifname: str = "eth0",
        args=None,
        capability_args: Mapping[str, Any] | None = None,
    ) -> None:
        """DEL: plugins in reverse order; ``prevResult`` is the cached result from spec 0.4.0 on."""
        net = load(config)
        cached = None
        # Cached result on DEL was added in CNI spec version 0.4.0 and higher
        if greater_than_or_equal_to(net.cni_version, "0.4.0"):
            cached = self.cached_result(net, container_id, ifname)
        for plugin in reversed(net.plugins):
            self._call(
                "DEL", net, plugin, cached, container_id, netns, ifname, args, capability_args
            )
        self._cache_del((net.name, container_id, ifname))

    # mirrors libcni/api.go: GetVersionInfo
    def version(self, plugin_type: str) -> PluginInfo:
        """What a plugin answers to VERSION."""
        env = {"CNI_COMMAND": "VERSION", "CNI_PATH": "dummy"}
        stdin = json.dumps({"cniVersion": "1.0.0"}).encode()
        code, out, err, inv = self._exec(plugin_type, "VERSION", env, stdin)
        if code != 0:
            raise self._failed(invoke.plugin_err(code, out, err), plugin_type, "VERSION", inv)
        try:
            return PluginInfo.decode(out)
        except (ValueError, CNIError) as e:
            raise self._failed(
                CNIError(999, f"failed to decode version info: {e}"), plugin_type, "VERSION", inv
            ) from None

    # mirrors libcni/api.go: GCNetworkList
    def gc(self, config, valid: Iterable[tuple[str, str]]) -> list[Attachment]:
        """Clean up after attachments that are gone; ``valid``: the (container id, ifname) in use.

        Returns the stale cached attachments it sent DEL for.  Raises one
        :class:`CNIError` (code 999) listing every failure, after trying everything.
        """
        net = load(config)
        if net.disable_gc:
            return []
        keep = [(str(cid), str(ifname)) for cid, ifname in valid]
        errors: list[str] = []
        stale = [
            a
            for a in self.cached_attachments()
            if a.network == net.name and (a.container_id, a.ifname) not in keep
        ]
        # a cached attachment that is no longer valid gets the DEL it never had
        for a in stale:
            try:
                self.delete(net, a.container_id, a.netns, a.ifname, a.args, a.capability_args)
            except CNIError as err:
                what = f'plugin type="{err.plugin}" name="{net.name}" failed (delete): '
                errors.append(
                    f"failed to delete stale attachment {a.container_id} {a.ifname}: "
                    + what
                    + _go_text(err)
                )
        # now, if the version supports it, issue a GC
        if greater_than_or_equal_to(net.cni_version, "1.1.0"):
            listed = [{"containerID": cid, "ifname": ifname} for cid, ifname in keep]
            # GH-1101: the spec's text first named the key cni.dev/attachments; libcni sends both
            inject = {VALID_ATTACHMENTS: listed, "cni.dev/attachments": listed}
            for plugin in net.plugins:
                try:
                    self._call_plugin_wide("GC", net, plugin, inject)
                except CNIError as err:
                    errors.append(f"failed to GC plugin {plugin.type}: {_go_text(err)}")
        if errors:
            raise CNIError(ERR_INTERNAL, "\n".join(errors))
        return stale

    # mirrors libcni/api.go: GetStatusNetworkList
    def status(self, config) -> None:
        """STATUS of every plugin in order (spec >= 1.1.0; below, nothing is asked).

        The first plugin that is not ready raises its own :class:`CNIError`
        (50: cannot serve ADDs, 51: and existing pods may suffer).
        """
        net = load(config)
        # If the version doesn't support status, abort.
        if not greater_than_or_equal_to(net.cni_version, "1.1.0"):
            return
        for plugin in net.plugins:
            self._call_plugin_wide("STATUS", net, plugin, {})

    def cached_result(self, config, container_id: str, ifname: str = "eth0") -> Result | None:
        """The final ADD result kept for (network, container, ifname), in the list's version."""
        net = load(config)
        key = (net.name, container_id, ifname)
        cached = self._cache.get(key)
        result = cached.result if cached is not None else None
        if result is None and self.cache_dir:
            path = self._cache_path(*key)
            if os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    result = Result.from_dict(json.load(f)["result"])
        return result.convert(net.cni_version) if result is not None else None

    def forget_cached(self, container_id: str) -> None:
        """Drop every cached attachment of a container (what losing /var/lib/cni/results does)."""
        for a in self.cached_attachments():
            if a.container_id == container_id:
                self._cache_del((a.network, a.container_id, a.ifname))

    # libcni/api.go's GetCachedAttachments
    def cached_attachments(self) -> list[Attachment]:
        """Every attachment the cache holds (memory, and ``cache_dir`` when there is one)."""
        found = dict(self._cache)
        folder = os.path.join(self.cache_dir or "", "results")
        if self.cache_dir and os.path.isdir(folder):
            for fname in sorted(os.listdir(folder)):
                try:
                    with open(os.path.join(folder, fname), encoding="utf-8") as f:
                        d = json.load(f)
                except (OSError, ValueError):
                    continue
                if d.get("kind") != "cniCacheV1" or not d.get("ifName") or not d.get("networkName"):
                    continue
                key = (d["networkName"], d.get("containerId", ""), d["ifName"])
                found.setdefault(
                    key,
                    Attachment(
                        *key,
                        d.get("netns", ""),
                        [tuple(p) for p in d.get("cniArgs") or []],
                        d.get("capabilityArgs"),
                    ),
                )
        return [found[k] for k in sorted(found)]

    # ------------------------------------------------------------ internals
    def _add_one(
        self, net, plugin, prev, container_id, netns, ifname, args, capability_args
    ) -> Result:
        out = self._call(
            "ADD", net, plugin, prev, container_id, netns, ifname, args, capability_args
        )
        stdin = build_one_config(net.name, net.cni_version, plugin, prev, capability_args)
        try:
            return invoke.result_from_stdout(stdin, out)
        except CNIError as err:
            raise self._failed(err, plugin.type, "ADD", self.invocations[-1]) from None

    def _call(
        self,
        command: str,
        net: NetworkConfigList,
        plugin: NetworkConfig,
        prev: Result | None,
        container_id: str,
        netns: str,
        ifname: str,
        args,
        capability_args,
    ) -> bytes:
        validate_container_id(container_id)
        validate_network_name(net.name)
        validate_interface_name(ifname)
        stdin = build_one_config(net.name, net.cni_version, plugin, prev, capability_args)
        env = {
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": container_id,
            "CNI_NETNS": netns,
            "CNI_ARGS": _format_args(args),
            "CNI_IFNAME": ifname,
            "CNI_PATH": os.pathsep.join(self.cni_path),
        }
        code, out, err, inv = self._exec(plugin.type, command, env, stdin)
        if code != 0:
            raise self._failed(invoke.plugin_err(code, out, err), plugin.type, command, inv)
        return out

    # gcNetwork is the same call with CNI_COMMAND=GC
    # mirrors libcni/api.go: getStatusNetwork
    def _call_plugin_wide(self, command: str, net, plugin: NetworkConfig, inject: dict) -> None:
        """GC or STATUS: the plugin's config with the list's name and version; no container."""
        conf = {**unmarshal(build_one_config(net.name, net.cni_version, plugin, None)), **inject}
        stdin = marshal({k: conf[k] for k in sorted(conf)}).encode()
        env = {
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": "",
            "CNI_NETNS": "",
            "CNI_ARGS": "",
            "CNI_IFNAME": "",
            "CNI_PATH": os.pathsep.join(self.cni_path),
        }
        code, out, err, inv = self._exec(plugin.type, command, env, stdin)
        if code != 0:
            raise self._failed(invoke.plugin_err(code, out, err), plugin.type, command, inv)

    def _exec(self, plugin_type: str, command: str, cni_env: dict, stdin: bytes):
        env = {**self.env, **cni_env}
        start = time.monotonic()
        tee = _Tee(self.recorder)
        runner = self.in_process.get(plugin_type)
        if runner is not None:
            parent = Session(
                backend=self.backend,
                recorder=tee,
                netns_paths=self.netns_paths,
                in_process=self.in_process,
            )
            where = f"in-process:{plugin_type}"
            code, out_s, err_s = runner(env, stdin, parent)
            out, err = out_s.encode(), err_s.encode()
            records = tee.items
        else:
            try:
                where = invoke.find_in_path(plugin_type, self.cni_path)
            except CNIError as e:
                inv = Invocation(
                    plugin_type,
                    "",
                    command,
                    invoke.cni_env(env),
                    stdin.decode("utf-8", "replace"),
                    exit=-1,
                    stderr=e.msg,
                )
                self._report(inv)
                raise self._failed(e, plugin_type, command, inv) from None
            fd, trace = tempfile.mkstemp(prefix="simlab-cni-trace-")
            os.close(fd)
            try:
                code, out, err = invoke.exec_plugin(
                    where,
                    stdin,
                    {**env, TRACE_ENV: trace},
                    prefix=self.exec_prefix,
                    timeout=self.timeout,
                )
                records = read_trace(trace)
            finally:
                os.unlink(trace)
            for item in records:
                tee.record(item)
        inv = Invocation(
            plugin_type,
            where,
            command,
            invoke.cni_env(env),
            stdin.decode("utf-8", "replace"),
            out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"),
            code,
            time.monotonic() - start,
            [r for r in records if isinstance(r, StepRecord)],
        )
        self._report(inv)
        return code, out, err, inv

    def _report(self, inv: Invocation) -> None:
        self.invocations.append(inv)
        if self.on_invoke is not None:
            self.on_invoke(inv)

    @staticmethod
    def _failed(err: CNIError, plugin_type: str, command: str, inv) -> CNIError:
        err.plugin, err.command, err.invocation = plugin_type, command, inv
        return err

    def _cache_path(self, name: str, container_id: str, ifname: str) -> str:
        return os.path.join(self.cache_dir or "", "results", f"{name}-{container_id}-{ifname}")

    def _cache_put(self, a: Attachment) -> None:
        key = (a.network, a.container_id, a.ifname)
        self._cache[key] = a
        if self.cache_dir:
            path = self._cache_path(*key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            cached = {
                "kind": "cniCacheV1",
                "containerId": a.container_id,
                "ifName": a.ifname,
                "networkName": a.network,
                "netns": a.netns,
                "cniArgs": [list(p) for p in a.args],
                "capabilityArgs": a.capability_args,
                "result": a.result.to_dict() if a.result is not None else None,
            }
            with open(path, "w", encoding="utf-8") as f:
                json.dump({k: v for k, v in cached.items() if v not in (None, "", [])}, f)

    def _cache_del(self, key: tuple[str, str, str]) -> None:
        self._cache.pop(key, None)
        if self.cache_dir:
            try:
                os.unlink(self._cache_path(*key))
            except FileNotFoundError:
                pass


def default_cni_path() -> str:
    """The directory holding the ``simlab-bridge`` and ``simlab-host-local`` executables."""
    import shutil
    import sys
    import sysconfig

    found = shutil.which("simlab-bridge", path=os.path.dirname(sys.executable))
    return os.path.dirname(found) if found else sysconfig.get_path("scripts")


def _go_text(err: CNIError) -> str:
    """Go's ``types.Error.Error()``: the message, then ``; details``."""
    return err.msg + (f"; {err.details}" if err.details else "")


def _pairs(args) -> list[tuple[str, str]]:
    """``CNI_ARGS`` as libcni keeps them (``[][2]string``)."""
    if not args:
        return []
    if isinstance(args, str):
        return [tuple(kv.split("=", 1)) for kv in args.split(";") if "=" in kv]
    items = args.items() if isinstance(args, Mapping) else args
    return [(str(k), str(v)) for k, v in items]


def _format_args(args) -> str:
    """``CNI_ARGS``: ``K=V;K2=V2`` from a mapping, a list of pairs, or a string as is."""
    if not args:
        return ""
    if isinstance(args, str):
        return args
    items = args.items() if isinstance(args, Mapping) else args
    return ";".join(f"{k}={v}" for k, v in items)
