"""A script's driver for a class: log in, start a learner's server, run cells in it, stop it.

JupyterHub's REST API (with the hub's service token) and the kernel websocket of the
learner's own server (with a token minted for that learner), via ``requests`` and
``websocket-client``: what a browser does, without a browser.  Used by the hub test and the
benchmarks.
"""

from __future__ import annotations

import json
import time
import uuid

import requests
import websocket

__all__ = ["HubClient", "Kernel", "CellError"]


class CellError(RuntimeError):
    """The cell raised: the traceback's last lines."""


class HubClient:
    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"token {token}"

    def _api(self, method: str, path: str, **kw) -> requests.Response:
        r = self.http.request(method, f"{self.url}/hub/api{path}", timeout=30, **kw)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r

    def login(self, user: str, password: str) -> int:
        """The login form as a browser posts it; returns the status (302 ok, 403 refused)."""
        s = requests.Session()
        s.get(f"{self.url}/hub/login", timeout=30)
        r = s.post(f"{self.url}/hub/login", allow_redirects=False, timeout=30,
                   data={"username": user, "password": password, "_xsrf": s.cookies["_xsrf"]})
        return r.status_code

    def user(self, user: str) -> dict:
        """The hub's model of ``user`` (``servers[""]["state"]["pid"]``: their server's pid)."""
        return self._api("GET", f"/users/{user}").json()

    def start(self, user: str, timeout: float = 120) -> float:
        """Start ``user``'s server; return the seconds until the hub says it is ready."""
        t0 = time.monotonic()
        self._api("POST", f"/users/{user}/server")
        while True:
            server = self.user(user).get("servers", {}).get("")
            if server and server.get("ready"):
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"{user}'s server was not ready after {timeout:.0f} s")
            time.sleep(0.1)

    def stop(self, user: str, timeout: float = 60) -> None:
        self._api("DELETE", f"/users/{user}/server")
        t0 = time.monotonic()
        while self.user(user).get("servers"):
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"{user}'s server did not stop in {timeout:.0f} s")
            time.sleep(0.1)

    def token(self, user: str) -> str:
        """A token for ``user``'s own server (what their browser gets after logging in)."""
        r = self._api("POST", f"/users/{user}/tokens", json={"note": "simlab driver",
                                                             "expires_in": 3600})
        return r.json()["token"]

    def kernel(self, user: str, token: str | None = None) -> Kernel:
        return Kernel(f"{self.url}/user/{user}", token or self.token(user))


class Kernel:
    """A new kernel in a learner's server, and its websocket."""

    def __init__(self, server: str, token: str):
        self.server, self.auth = server, {"Authorization": f"token {token}"}
        r = requests.post(f"{server}/api/kernels", headers=self.auth, json={}, timeout=60)
        r.raise_for_status()
        self.id = r.json()["id"]
        ws_url = server.replace("http", "ws", 1) + f"/api/kernels/{self.id}/channels"
        self.ws = websocket.create_connection(
            ws_url, header=[f"{k}: {v}" for k, v in self.auth.items()], timeout=120)

    def run(self, code: str, timeout: float = 120) -> str:
        """Execute ``code``; return what it printed (stdout and results).  Waits for both the
        execute_reply and the idle status: they come in either order."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "driver",
                       "session": uuid.uuid4().hex, "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        out, error, replied, idle = [], None, False, False
        deadline = time.monotonic() + timeout
        while not (replied and idle):
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                raise TimeoutError(f"no reply in {timeout:.0f} s to: {code[:80]!r}") from None
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                out.append(content.get("data", {}).get("text/plain", "") + "\n")
            elif kind == "error":
                error = "\n".join(content["traceback"][-3:])
            elif kind == "execute_reply":
                replied = True
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
        if error is not None:
            raise CellError(error)
        return "".join(out)

    def close(self) -> None:
        self.ws.close()
        requests.delete(f"{self.server}/api/kernels/{self.id}", headers=self.auth, timeout=60)
