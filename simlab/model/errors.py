"""Errors as the kernel and iproute2 report them.

Every failure in the model carries the errno the kernel would return, the
exact text iproute2 prints for it, and the exit status `ip` ends with, so a
learner sees the same message on the model as on a real machine.
"""

from __future__ import annotations

import errno as _errno

from .text import Text, say

__all__ = ["NetError", "UsageError", "Text", "Said", "say"]


#: The old name of :class:`~simlab.model.text.Text` (hints were its first use).
Said = Text


class NetError(Exception):
    """A failed operation: ``errno``, iproute2's ``message`` and ``exit`` status.

    ``hint`` says in plain words what to do about it; it is shown by the lab
    but is not part of what ``ip`` prints.
    """

    def __init__(self, message: str, *, errno: int = 0, exit: int = 2, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.errno = errno
        self.exit = exit
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f"\n  hint: {self.hint}" if self.hint else "")

    # Constructors for the failures iproute2 words the same way every time.
    @classmethod
    def rtnl(cls, err: int, hint: str = "") -> "NetError":
        """``RTNETLINK answers: <strerror>`` (exit 2), the generic netlink failure."""
        import os

        return cls(f"RTNETLINK answers: {os.strerror(err)}", errno=err, exit=2, hint=hint)

    @classmethod
    def extack(cls, text: str, err: int, hint: str = "") -> "NetError":
        """``Error: <text>.`` (exit 2): the kernel's extended-ack message."""
        return cls(f"Error: {text}.", errno=err, exit=2, hint=hint)

    @classmethod
    def no_device(cls, name: str) -> "NetError":
        return cls(
            f'Cannot find device "{name}"',
            errno=_errno.ENODEV,
            exit=1,
            hint=say(f"there is no link called {name!r} in this namespace; list them with `ip link`",
                     f"この名前空間に {name!r} という名前のリンクはありません。`ip link` で一覧できます"),
        )

    @classmethod
    def no_netns(cls, name: str) -> "NetError":
        return cls(
            f'Cannot open network namespace "{name}": No such file or directory',
            errno=_errno.ENOENT,
            exit=255,
            hint=say(f"create it first with `ip netns add {name}`, or list them with `ip netns`",
                     f"先に `ip netns add {name}` で作成してください。"
                     "名前空間の一覧は `ip netns` で見られます"),
        )


class UsageError(NetError):
    """A command simlab cannot parse or does not support (iproute2's exit 255/1)."""

    def __init__(self, message: str, *, hint: str = "", exit: int = 255):
        super().__init__(message, errno=_errno.EINVAL, exit=exit, hint=hint)
