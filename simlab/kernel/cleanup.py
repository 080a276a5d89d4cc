"""Remove live labs at interpreter exit and on SIGTERM.

atexit handlers run after non-daemon threads are joined but while daemon
threads (the namespace thread) still exist; the teardown does not need them
anyway: it closes sockets, unmounts and unlinks.  A SIGTERM handler is
installed only where SIGTERM has its default action; it tears down, then lets
the default action terminate the process.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import threading
import weakref

__all__ = ["register", "teardown_all"]

_LIVE: weakref.WeakSet = weakref.WeakSet()
_HOOKS_INSTALLED = False


def teardown_all() -> None:
    for backend in list(_LIVE):
        # A forked child inherits the list (and atexit) but not the labs: never theirs to remove.
        if getattr(backend, "pid", None) != os.getpid():
            continue
        with contextlib.suppress(Exception):
            backend._emergency_teardown()


def forget(backend) -> None:
    _LIVE.discard(backend)


def register(backend) -> None:
    """Remember ``backend`` for atexit and SIGTERM; install those hooks once."""
    global _HOOKS_INSTALLED
    _LIVE.add(backend)
    if _HOOKS_INSTALLED:
        return
    _HOOKS_INSTALLED = True
    atexit.register(teardown_all)
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        return  # somebody handles SIGTERM (and exits): atexit covers that

    def on_sigterm(signum, frame):
        teardown_all()
        # Chain to what was there before us: the default action, terminate.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)
