"""docker's errors, worded as the docker CLI of 2017 (17.03-17.06) prints them.

The CLI prints a daemon error as ``docker: Error response from daemon: <msg>.``
(``cli/command/container/run.go: reportError`` adds the final period), and
adds ``See 'docker run --help'.`` when the error came while *creating* the
container (name conflict, unknown network, bad options), not while starting
it (ports, addresses, ``container:`` targets).  ``docker run`` exits with 125
when the daemon refuses; other commands exit with 1.
"""

from __future__ import annotations

import errno as _errno

from ..i18n import say
from ..model.errors import NetError

__all__ = ["DockerError"]

_HELP = "\nSee 'docker run --help'."


class DockerError(NetError):
    """A refused docker command: ``message`` is what the CLI prints, ``hint`` what to do."""

    def __init__(self, message: str, *, hint: str = "", exit: int = 125, errno: int = 0):
        super().__init__(message, errno=errno, exit=exit, hint=hint)

    @classmethod
    def daemon(cls, text: str, *, hint: str = "", at_create: bool = True,
               errno: int = 0) -> DockerError:
        """``docker run`` refused by the daemon (``at_create``: add the --help line)."""
        msg = f"docker: Error response from daemon: {text.rstrip('.')}."
        return cls(msg + (_HELP if at_create else ""), hint=hint, exit=125, errno=errno)

    # ------------------------------------------------------------ docker run
    @classmethod
    def name_conflict(cls, name: str, owner_id: str) -> DockerError:
        return cls.daemon(
            f'Conflict. The container name "/{name}" is already in use by container "{owner_id}". '
            "You have to remove (or rename) that container to be able to reuse that name.",
            hint=say(f"remove it first (lab.docker.rm({name!r})) or pick another name",
                     f"先に削除する（lab.docker.rm({name!r})）か、別の名前を選んでください"),
            errno=_errno.EEXIST,
        )

    @classmethod
    def invalid_name(cls, name: str) -> DockerError:
        return cls.daemon(
            f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
            hint=say("a name starts with a letter or digit and then uses letters, digits, '_', "
                     "'.' or '-'",
                     "名前は英字か数字で始め、その後には英字、数字、'_'、'.'、'-' を"
                     "使ってください"),
            errno=_errno.EINVAL,
        )

    @classmethod
    def network_not_found(cls, mode: str) -> DockerError:
        return cls.daemon(
            f"network {mode} not found",
            hint=say("the modes are bridge (the default), host, none and container:<name|id>",
                     "モードは bridge (既定)、host、none、container:<name|id> のいずれかです"),
            errno=_errno.ENOENT,
        )

    @classmethod
    def bad_container_mode(cls) -> DockerError:
        return cls(
            "docker: invalid container format container:<name|id>." + _HELP,
            hint=say("name the container whose network namespace to join: net='container:web'",
                     "ネットワーク名前空間に参加したいコンテナの名前を書いてください: "
                     "net='container:web'"),
            exit=125, errno=_errno.EINVAL,
        )

    @classmethod
    def publish_with_container_mode(cls) -> DockerError:
        return cls.daemon(
            "conflicting options: port publishing and the container type network mode",
            hint=say("a container that joins another one's namespace uses that container's "
                     "ports; publish them when running the other container",
                     "別のコンテナの名前空間に参加したコンテナは、そのコンテナのポートを使います。"
                     "ポートは相手のコンテナを起動するときに公開してください"),
            errno=_errno.EINVAL,
        )

    @classmethod
    def bad_publish(cls, spec: str, what: str) -> DockerError:
        return cls(
            f"docker: Invalid {what}: {spec}." + _HELP,
            hint=say("write a mapping as [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp], "
                     "e.g. '8080:80'",
                     "ポートの対応は [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp] の形で"
                     "書いてください (例: '8080:80')"),
            exit=125, errno=_errno.EINVAL,
        )

    @classmethod
    def join_missing(cls, target: str) -> DockerError:
        return cls.daemon(
            f"No such container: {target}", at_create=False, errno=_errno.ENOENT,
            hint=say(f"net='container:{target}' joins the namespace of a running container; "
                     "start that one first (see lab.docker.ps())",
                     f"net='container:{target}' は実行中のコンテナの名前空間に参加します。"
                     "先にそのコンテナを起動してください (lab.docker.ps() で確認できます)"),
        )

    @classmethod
    def join_not_running(cls, target: str) -> DockerError:
        return cls.daemon(
            f"cannot join network of a non running container: {target}", at_create=False,
            errno=_errno.ESRCH,
            hint=say("a stopped container has no network namespace left to share",
                     "停止したコンテナには、共有できるネットワーク名前空間が残っていません"),
        )

    @classmethod
    def port_allocated(cls, name: str, endpoint_id: str, host_ip: str, port: int,
                       owner: str) -> DockerError:
        return cls.daemon(
            f"driver failed programming external connectivity on endpoint {name} ({endpoint_id}): "
            f"Bind for {host_ip}:{port} failed: port is already allocated",
            at_create=False, errno=_errno.EADDRINUSE,
            hint=say(f"container {owner!r} already publishes host port {port}; pick another "
                     "host port or remove that container",
                     f"コンテナ {owner!r} がすでにホストのポート {port} を公開しています。"
                     "別のホストポートを選ぶか、そのコンテナを削除してください"),
        )

    @classmethod
    def pool_exhausted(cls, network: str, network_id: str, subnet: str) -> DockerError:
        return cls.daemon(
            "no available IPv4 addresses on this network's address "
            f"pools: {network} ({network_id})",
            at_create=False, errno=_errno.ENOSPC,
            hint=say(f"every address of {subnet} is taken (the gateway keeps one); remove a "
                     "container, or start docker with a larger bip",
                     f"{subnet} のアドレスはすべて使用中です (1 つはゲートウェイが使います)。"
                     "コンテナを削除するか、より大きな bip で docker を起動してください"),
        )

    @classmethod
    def failed(cls, what: str, cause: NetError) -> DockerError:
        """A kernel step refused (something the lab changed under docker's feet)."""
        first = cause.message.strip().splitlines()[0] if cause.message.strip() else str(cause.errno)
        return cls.daemon(f"{what}: {first}", at_create=False, errno=cause.errno,
                          hint=cause.hint or say(
                              "the lab's state no longer matches what docker set up",
                              "ラボの状態が、docker が設定した状態と合わなくなっています"))

    # -------------------------------------------------------- other commands
    @classmethod
    def no_such_container(cls, name: str) -> DockerError:
        """``docker rm/exec/stop`` of an unknown container."""
        return cls(f"Error response from daemon: No such container: {name}", exit=1,
                   errno=_errno.ENOENT,
                   hint=say("list the containers with lab.docker.ps(all=True)",
                            "lab.docker.ps(all=True) でコンテナを一覧できます"))

    @classmethod
    def no_such_object(cls, name: str) -> DockerError:
        """``docker inspect`` of an unknown name."""
        return cls(f"Error: No such object: {name}", exit=1, errno=_errno.ENOENT,
                   hint=say("list the containers with lab.docker.ps(all=True)",
                            "lab.docker.ps(all=True) でコンテナを一覧できます"))

    @classmethod
    def not_running(cls, cid: str) -> DockerError:
        return cls(f"Error response from daemon: Container {cid} is not running", exit=1,
                   errno=_errno.ESRCH,
                   hint=say("a stopped container has no namespace to run commands in",
                            "停止したコンテナには、コマンドを実行する名前空間がありません"))

    @classmethod
    def no_such_network(cls, name: str) -> DockerError:
        return cls(f"Error: No such network: {name}", exit=1, errno=_errno.ENOENT,
                   hint=say("the networks are bridge, host and none",
                            "ネットワークは bridge、host、none の 3 つです"))

    @classmethod
    def not_in_path(cls, program: str) -> DockerError:
        return cls(
            "rpc error: code = 2 desc = oci runtime error: exec failed: container_linux.go:262: "
            f'starting container process caused "exec: \\"{program}\\": '
            'executable file not found in $PATH"',
            exit=126, errno=_errno.ENOENT,
            hint=say("simlab's containers run ip, bridge, iptables, ping and hostname",
                     "simlab のコンテナで実行できるのは ip、bridge、iptables、ping、hostname です"),
        )
