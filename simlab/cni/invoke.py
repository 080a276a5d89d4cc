"""Finding and running plugins (cni ``pkg/invoke``): for the runtime and for delegation.

- :func:`find_in_path`: the first regular file called ``plugin`` in the
  ``CNI_PATH`` directories, else ``failed to find plugin "x" in path [/a /b]``;
- :func:`exec_plugin`: run it with env and stdin; a non-zero exit turns stdout
  into a :class:`~simlab.cni.spec.CNIError` (the plugin's own code), and
  garbage into one that says so;
- :func:`delegate_add` / ``delegate_check`` / ``delegate_del``: what a plugin
  does to run its IPAM plugin: same environment (``CNI_COMMAND`` replaced),
  the same config on stdin.  In the lab's model session a plugin registered as
  in-process (``simlab-host-local``) is called directly instead of exec'd.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence

from . import netlink as nl
from .gojson import GoJSONError, go_quote, unmarshal
from .skel import decode_version
from .spec import ERR_INTERNAL, CNIError, Result, parse_error, parse_result
from .trace import Invocation

__all__ = [
    "find_in_path",
    "exec_plugin",
    "plugin_err",
    "result_from_stdout",
    "delegate_add",
    "delegate_check",
    "delegate_del",
    "delegate_status",
    "delegate_gc",
    "cni_env",
]

_FAMILIES = (("0.1.0", "0.2.0"), ("0.3.0", "0.3.1", "0.4.0"), ("1.0.0", "1.1.0"))


def cni_env(env: Mapping[str, str]) -> dict:
    """Only the CNI_* variables (what a trace shows)."""
    return {k: v for k, v in env.items() if k.startswith("CNI_")}


# mirrors invoke/find.go: FindInPath
def find_in_path(plugin: str, paths: Sequence[str]) -> str:
    if plugin == "":
        raise CNIError(ERR_INTERNAL, "no plugin name provided")
    if os.sep in plugin:
        raise CNIError(ERR_INTERNAL, f"invalid plugin name: {plugin}")
    if not paths:
        raise CNIError(ERR_INTERNAL, "no paths provided")
    for path in paths:
        full = os.path.join(path, plugin)
        try:
            if os.path.isfile(full):
                return full
        except OSError:
            continue
    raise CNIError(
        ERR_INTERNAL, f"failed to find plugin {go_quote(plugin)} in path [{' '.join(paths)}]"
    )


# mirrors invoke/raw_exec.go: pluginErr
def plugin_err(exit_code: int, stdout: bytes, stderr: bytes) -> CNIError:
    if not stdout.strip():
        if not stderr.strip():
            return CNIError(
                ERR_INTERNAL, f"netplugin failed with no error message: exit status {exit_code}"
            )
        return CNIError(
            ERR_INTERNAL, f"netplugin failed: {go_quote(stderr.decode('utf-8', 'replace'))}"
        )
    try:
        return parse_error(stdout)
    except (GoJSONError, ValueError) as err:
        return CNIError(
            ERR_INTERNAL,
            "netplugin failed but error parsing its diagnostic message "
            f"{go_quote(stdout.decode('utf-8', 'replace'))}: {err}",
        )


def exec_plugin(
    path: str,
    stdin: bytes,
    env: Mapping[str, str],
    *,
    prefix: Sequence[str] = (),
    timeout: float | None = None,
) -> tuple[int, bytes, bytes]:
    """Run an executable plugin: (exit status, stdout, stderr)."""
    try:
        proc = subprocess.run(
            [*prefix, path],
            input=stdin,
            env=dict(env),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except OSError as err:
        return 126, b"", f"{path}: {err.strerror or err}\n".encode()
    except subprocess.TimeoutExpired as err:
        return (
            124,
            err.stdout or b"",
            (err.stderr or b"") + f"timed out after {timeout}s\n".encode(),
        )
    return proc.returncode, proc.stdout, proc.stderr


def result_from_stdout(netconf: bytes, stdout: bytes) -> Result:
    """``version.NewResult(confVersion, stdout)``: a result of the config's version family."""
    try:
        conf_version = decode_version(netconf)
    except GoJSONError as err:
        raise CNIError(ERR_INTERNAL, str(err)) from None
    try:
        obj = unmarshal(stdout)
        result = parse_result(obj)
    except (GoJSONError, ValueError) as err:
        raise CNIError(
            ERR_INTERNAL,
            f"failed to parse plugin output {go_quote(stdout.decode('utf-8', 'replace'))}: {err}",
        ) from None
    family = next((f for f in _FAMILIES if conf_version in f), None)
    got = obj.get("cniVersion", "") if isinstance(obj, dict) else ""
    if family is not None and (got or "0.1.0") not in family:
        versions = " ".join(family)
        raise CNIError(
            ERR_INTERNAL,
            f"result type supports [{versions}] but unmarshalled CNIVersion is {go_quote(got)}",
        )
    return result


# ---------------------------------------------------------------- delegation
#: A plugin naming itself (or a cycle) as IPAM must not delegate forever.
MAX_DEPTH = 8
DEPTH_ENV = "SIMLAB_CNI_DEPTH"


def _delegate(command: str, plugin: str, netconf: bytes) -> tuple[int, bytes, bytes]:
    s = nl.current()
    env = dict(s.env)
    env["CNI_COMMAND"] = command
    raw = env.get(DEPTH_ENV, "0")
    depth = (int(raw) if raw.isdigit() else 0) + 1
    if depth > MAX_DEPTH:
        raise CNIError(
            ERR_INTERNAL, f"plugin delegation nested too deep (more than {MAX_DEPTH} levels)"
        )
    env[DEPTH_ENV] = str(depth)
    start = time.monotonic()
    runner = s.in_process.get(plugin)
    if runner is not None:
        where = f"in-process:{plugin}"
        code, out, err = runner(env, netconf, s)
        out_b, err_b = out.encode(), err.encode()
    else:
        paths = [p for p in env.get("CNI_PATH", "").split(os.pathsep) if p]
        where = find_in_path(plugin, paths)
        code, out_b, err_b = exec_plugin(where, netconf, env)
    inv = Invocation(
        plugin,
        where,
        command,
        cni_env(env),
        netconf.decode("utf-8", "replace"),
        out_b.decode("utf-8", "replace"),
        err_b.decode("utf-8", "replace"),
        code,
        time.monotonic() - start,
        delegated_by=s.plugin,
    )
    if s._step is not None:
        s._step.detail.setdefault("delegated", []).append(inv.to_dict())
    elif s.recorder is not None:
        s.recorder.record(inv)
    if s.stderr is not None and err_b:
        s.stderr.write(err_b.decode("utf-8", "replace"))  # IPAM stderr goes to the caller's stderr
    return code, out_b, err_b


# mirrors invoke/delegate.go: DelegateAdd
def delegate_add(plugin: str, netconf: bytes) -> Result:
    code, out, err = _delegate("ADD", plugin, netconf)
    if code != 0:
        raise plugin_err(code, out, err)
    return result_from_stdout(netconf, out)


def _without_result(command: str, plugin: str, netconf: bytes) -> None:
    code, out, err = _delegate(command, plugin, netconf)
    if code != 0:
        raise plugin_err(code, out, err)


# mirrors invoke/delegate.go: DelegateCheck
def delegate_check(plugin: str, netconf: bytes) -> None:
    _without_result("CHECK", plugin, netconf)


# mirrors invoke/delegate.go: DelegateDel
def delegate_del(plugin: str, netconf: bytes) -> None:
    _without_result("DEL", plugin, netconf)


# library >= 1.2
# mirrors invoke/delegate.go: DelegateStatus
def delegate_status(plugin: str, netconf: bytes) -> None:
    _without_result("STATUS", plugin, netconf)


# mirrors invoke/delegate.go: DelegateGC
def delegate_gc(plugin: str, netconf: bytes) -> None:
    _without_result("GC", plugin, netconf)
