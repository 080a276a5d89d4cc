"""The plugin skeleton: env vars and stdin in, a result or an error JSON out (cni ``pkg/skel``).

Order of checks, as in the reference library 1.1.2 (observed on Debian's
plugins): required env vars (all missing ones named together, code 4) ->
for every verb but VERSION: the config decodes (6) and has a valid ``name``
(7), the container id is valid (3/4), the interface name is valid (4) ->
the verb: an unknown one is code 4; ADD/DEL/CHECK check ``cniVersion`` first
(1; CHECK needs >= 0.4.0).  No ``CNI_COMMAND`` at all prints an "about" text
on stderr and exits 0.  Every error goes to stdout as 4-space-indented JSON
without a trailing newline, exit status 1; any other exception a plugin raises
becomes code 999 (Go: ``types.ErrInternal``) -- never a traceback.

Spec 1.1.0's STATUS and GC, as the library has them from 1.2.0 on
(``PluginMainFuncs`` with ``CNIFuncs.GC``/``Status``): they need only
``CNI_COMMAND`` and ``CNI_PATH`` (no container id, no interface name), the
config's ``cniVersion`` must be >= 1.1.0 ("config version does not allow GC",
code 1) and the plugin must support a version >= it ("plugin version does
not allow GC", code 1); a plugin without a GC or STATUS function answers
success with nothing on stdout.  Debian 12's plugins (library 1.1.2) know
neither verb: as libcni calls them (no container id) they answer code 3
"missing containerID"; given an id, code 4 "interface name is empty"; given
both, code 4 "unknown CNI_COMMAND: GC" (observed, in ``unshare --net``).

:func:`dispatch` is the whole contract as a function (env, stdin) -> (exit,
stdout, stderr); the lab calls it in-process on the model.  :func:`plugin_main`
is the executable's entry point.
"""

from __future__ import annotations

import io
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from . import netlink as nl
from .gojson import STR, GoJSONError, Struct, decode_struct, unmarshal
from .spec import (
    ERR_DECODING_FAILURE,
    ERR_INCOMPATIBLE_CNI_VERSION,
    ERR_INTERNAL,
    ERR_INVALID_ENVIRONMENT_VARIABLES,
    ERR_INVALID_NETWORK_CONFIG,
    ERR_IO_FAILURE,
    CNIError,
    PluginInfo,
    Result,
    greater_than_or_equal_to,
)
from .startup import narrow_pyroute2
from .trace import TRACE_ENV, FileRecorder
from .utils import validate_container_id, validate_interface_name, validate_network_name

__all__ = ["CmdArgs", "Funcs", "dispatch", "plugin_main", "print_result", "decode_version"]


@dataclass
class CmdArgs:
    """``skel.CmdArgs``: what a verb function gets."""

    container_id: str
    netns: str
    ifname: str
    args: str
    path: str
    stdin_data: bytes


@dataclass
class Funcs:
    """``skel.CNIFuncs``: a plugin's verbs; without ``gc``/``status`` those verbs just succeed."""

    add: Callable[[CmdArgs], None]
    check: Callable[[CmdArgs], None]
    delete: Callable[[CmdArgs], None]
    gc: Callable[[CmdArgs], None] | None = None
    status: Callable[[CmdArgs], None] | None = None


# (variable, the verbs that require it)
_VARS = (
    ("CNI_COMMAND", ("ADD", "CHECK", "DEL", "GC", "STATUS")),
    ("CNI_CONTAINERID", ("ADD", "CHECK", "DEL")),
    ("CNI_NETNS", ("ADD", "CHECK")),
    ("CNI_IFNAME", ("ADD", "CHECK", "DEL")),
    ("CNI_ARGS", ()),
    ("CNI_PATH", ("ADD", "CHECK", "DEL", "GC", "STATUS")),
)
#: spec 1.1.0's verbs: no container, no interface, and a version floor
_PLUGIN_WIDE = ("GC", "STATUS")

_NAME_ONLY = Struct("", {"name": STR}, top='struct { Name string "json:\\"name\\"" }')
_VERSION_ONLY = Struct(
    "", {"cniVersion": STR}, top='struct { CNIVersion string "json:\\"cniVersion\\"" }'
)


def print_result(result: Result, cni_version: str) -> None:
    """``types.PrintResult``: the result converted to the request's version, on stdout."""
    out = nl.current().stdout
    out.write(result.to_json(cni_version))


# mirrors skel.go: getCmdArgsFromEnv
def get_cmd_args_from_env(
    env: Mapping[str, str], read_stdin: Callable[[], bytes]
) -> tuple[str, CmdArgs]:
    values = {name: env.get(name, "") for name, _ in _VARS}
    cmd = values["CNI_COMMAND"]
    missing = [
        name
        for name, verbs in _VARS
        if values[name] == "" and (cmd in verbs or name == "CNI_COMMAND")
    ]
    if missing:
        raise CNIError(
            ERR_INVALID_ENVIRONMENT_VARIABLES,
            f"required env variables [{','.join(missing)}] missing",
        )
    if cmd == "VERSION":
        stdin = b""
    else:
        try:
            stdin = read_stdin()
        except OSError as err:
            raise CNIError(ERR_IO_FAILURE, f"error reading from stdin: {err}") from None
    return cmd, CmdArgs(
        values["CNI_CONTAINERID"],
        values["CNI_NETNS"],
        values["CNI_IFNAME"],
        values["CNI_ARGS"],
        values["CNI_PATH"],
        stdin,
    )


# mirrors skel.go: checkVersionAndCall
def check_version_and_call(
    cmd_args: CmdArgs, info: PluginInfo, to_call: Callable[[CmdArgs], None] | None
) -> None:
    try:
        config_version = decode_version(cmd_args.stdin_data)
    except GoJSONError as err:
        raise CNIError(ERR_DECODING_FAILURE, str(err)) from None
    if config_version not in info.supported_versions:
        plugin = " ".join(f'"{v}"' for v in info.supported_versions)
        raise CNIError(
            ERR_INCOMPATIBLE_CNI_VERSION,
            "incompatible CNI versions",
            f'config is "{config_version}", plugin supports [{plugin}]',
        )
    if to_call is not None:
        to_call(cmd_args)


# mirrors skel.go: validateConfig
def validate_config(json_bytes: bytes) -> None:
    try:
        conf = decode_struct(unmarshal(json_bytes), _NAME_ONLY)
    except GoJSONError as err:
        raise CNIError(ERR_DECODING_FAILURE, f"error unmarshall network config: {err}") from None
    name = conf.get("name") or ""
    if name == "":
        raise CNIError(ERR_INVALID_NETWORK_CONFIG, "missing network name")
    validate_network_name(name)


def decode_version(json_bytes: bytes) -> str:
    """``version.ConfigDecoder.Decode``: the config's cniVersion, "" meaning 0.1.0."""
    conf = decode_struct(unmarshal(json_bytes), _VERSION_ONLY)
    return conf.get("cniVersion") or "0.1.0"


# mirrors skel.go: pluginMain (the CHECK, GC and STATUS cases)
def _since(
    cmd_args: CmdArgs,
    info: PluginInfo,
    floor: str,
    verb: str,
    to_call: Callable[[CmdArgs], None] | None,
) -> None:
    """A verb that exists from spec ``floor`` on: the config and the plugin must both allow it."""
    try:
        config_version = decode_version(cmd_args.stdin_data)
        ok = greater_than_or_equal_to(config_version, floor)
    except (GoJSONError, ValueError) as err:
        raise CNIError(ERR_DECODING_FAILURE, str(err)) from None
    if not ok:
        raise CNIError(ERR_INCOMPATIBLE_CNI_VERSION, f"config version does not allow {verb}")
    for plugin_version in info.supported_versions:
        if greater_than_or_equal_to(plugin_version, config_version):
            check_version_and_call(cmd_args, info, to_call)
            return
    raise CNIError(ERR_INCOMPATIBLE_CNI_VERSION, f"plugin version does not allow {verb}")


# mirrors skel.go: pluginMain
def _plugin_main(
    env: Mapping[str, str],
    read_stdin: Callable[[], bytes],
    funcs: Funcs,
    info: PluginInfo,
    about: str,
    session: nl.Session,
) -> None:
    try:
        cmd, cmd_args = get_cmd_args_from_env(env, read_stdin)
    except CNIError as err:
        if (
            err.code == ERR_INVALID_ENVIRONMENT_VARIABLES
            and env.get("CNI_COMMAND", "") == ""
            and about
        ):
            session.stderr.write(about + "\n")
            session.stderr.write(
                f"CNI protocol versions supported: {', '.join(info.supported_versions)}\n"
            )
            return
        raise
    session.command = cmd
    if cmd != "VERSION":
        validate_config(cmd_args.stdin_data)
    if cmd not in ("VERSION", *_PLUGIN_WIDE):  # library >= 1.2: only the verbs that need them
        validate_container_id(cmd_args.container_id)
        validate_interface_name(cmd_args.ifname)
    if cmd == "ADD":
        check_version_and_call(cmd_args, info, funcs.add)
    elif cmd == "CHECK":
        _since(cmd_args, info, "0.4.0", "CHECK", funcs.check)
    elif cmd == "GC":
        _since(cmd_args, info, "1.1.0", "GC", funcs.gc)
    elif cmd == "STATUS":
        _since(cmd_args, info, "1.1.0", "STATUS", funcs.status)
    elif cmd == "DEL":
        check_version_and_call(cmd_args, info, funcs.delete)
    elif cmd == "VERSION":
        session.stdout.write(info.encode())
    else:
        raise CNIError(ERR_INVALID_ENVIRONMENT_VARIABLES, f"unknown CNI_COMMAND: {cmd}")


# mirrors skel.go: PluginMainWithError
def dispatch(
    env: Mapping[str, str],
    stdin: bytes | str,
    funcs: Funcs,
    *,
    info: PluginInfo | None = None,
    about: str = "",
    session: nl.Session | None = None,
) -> tuple[int, str, str]:
    """One CNI call in-process: ``(exit status, stdout, stderr)``, what the executable prints.

    >>> from simlab.cni.plugins import host_local
    >>> code, out, err = dispatch({"CNI_COMMAND": "VERSION"}, b"", host_local.FUNCS)
    >>> code, out[:42], out.endswith("\\n")
    (0, '{"cniVersion":"1.1.0","supportedVersions":', True)
    >>> code, out, err = dispatch({"CNI_COMMAND": "ADD"}, b"{}", host_local.FUNCS)
    >>> print(code, out)
    1 {
        "code": 4,
        "msg": "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing"
    }
    """
    info = info or PluginInfo()
    session = session or nl.Session()
    session.env = dict(env)
    session.stdout = io.StringIO()
    session.stderr = io.StringIO()
    data = stdin.encode() if isinstance(stdin, str) else bytes(stdin)
    exit_code = 0
    with nl.session(session):
        try:
            _plugin_main(env, lambda: data, funcs, info, about, session)
        except CNIError as err:
            session.stdout = io.StringIO(err.to_json())
            session.stdout.seek(0, io.SEEK_END)
            exit_code = 1
        except Exception as err:  # a plain Go error: wrapped as ErrInternal
            text = str(err) or type(err).__name__
            # The plugins raise RuntimeError/ValueError/OSError where Go returns an error;
            # anything else is a simlab bug: SIMLAB_CNI_DEBUG=1 shows its traceback on stderr.
            if not isinstance(
                err, (RuntimeError, ValueError, OSError, nl.NetlinkError)
            ) and os.environ.get("SIMLAB_CNI_DEBUG"):
                session.stderr.write(traceback.format_exc())
            session.stdout = io.StringIO(CNIError(ERR_INTERNAL, text).to_json())
            session.stdout.seek(0, io.SEEK_END)
            exit_code = 1
        finally:
            session.close()
    return exit_code, session.stdout.getvalue(), session.stderr.getvalue()


# mirrors skel.go: PluginMain
def plugin_main(funcs: Funcs, about: str, plugin: str, info: PluginInfo | None = None) -> int:
    """The executable: real env, stdin and stdout; the kernel through an attached backend."""
    narrow_pyroute2()
    env = dict(os.environ)
    trace = env.get(TRACE_ENV)
    session = nl.Session(
        attach=nl.kernel_attach, recorder=FileRecorder(trace) if trace else None, plugin=plugin
    )
    try:
        stdin = b"" if env.get("CNI_COMMAND") == "VERSION" else sys.stdin.buffer.read()
    except OSError:
        stdin = b""
    try:
        code, out, err = dispatch(env, stdin, funcs, info=info, about=about, session=session)
    except BaseException as exc:  # KeyboardInterrupt, SystemExit from a dependency: still JSON
        code, out, err = (
            1,
            CNIError(ERR_INTERNAL, f"interrupted: {type(exc).__name__}").to_json(),
            "",
        )
    sys.stdout.write(out)
    sys.stdout.flush()
    if err:
        sys.stderr.write(err)
        sys.stderr.flush()
    return code
