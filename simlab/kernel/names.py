"""Where a lab's namespaces live, and the text mapping back to the learner's names.

Kernel facts this layout relies on:
- ``ip`` prints ``link-netns NAME`` for a veth peer whose namespace is mounted
  under ``/run/netns`` and ``link-netnsid N`` otherwise.  Learner namespaces
  are mounted as ``/run/netns/sl<id>-<key>`` (so ``ip netns`` shows them and
  :meth:`LabNames.unmap` turns ``sl<id>-red`` back into ``red``); the lab's
  node is mounted at ``/run/simlab/<id>/node``, outside ``/run/netns``, so
  inside a container the node end prints ``link-netnsid 0`` as docker's
  hidden namespaces do on the talk's slides.
- Namespace names are file names: the ``sl<id>-`` prefix keeps two labs (two
  processes, two test workers) apart, and ``simlab clean`` removes only names
  a ledger lists, never by pattern.

The lab id is ``<pid in base 36><two random base-36 digits>``: unique among
live processes, different for two labs of one process, and short.

>>> names = LabNames("k3x9a")
>>> names.netns_name("red"), names.key_of("slk3x9a-red")
('slk3x9a-red', 'red')
>>> names.unmap('Cannot open network namespace "slk3x9a-x": No such file or directory')
'Cannot open network namespace "x": No such file or directory'
>>> names.unmap("link-netns slk3x9a-red")
'link-netns red'
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field

from ..model.state import ROOT

__all__ = ["NETNS_DIR", "RUN_DIR", "LabNames", "new_lab_id", "filter_netns_list"]

#: Where iproute2 mounts named namespaces (``ip netns add``).
NETNS_DIR = "/run/netns"
#: simlab's own run directory: ``<id>/node`` mounts and ``ledger/<id>.json``.
RUN_DIR = "/run/simlab"

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if n == 0:
            return out


def new_lab_id(pid: int | None = None) -> str:
    """``<pid base 36><2 random base-36 digits>``, e.g. ``'2hq5k7'`` (at most 7 characters)."""
    pid = os.getpid() if pid is None else pid
    return _base36(pid) + "".join(secrets.choice(_B36) for _ in range(2))


@dataclass
class LabNames:
    """The names one lab gives its namespaces, and the way back for text."""

    lab_id: str
    prefix: str = field(init=False)

    def __post_init__(self) -> None:
        self.prefix = f"sl{self.lab_id}-"
        # The prefix at the start of a word (not inside another name).
        self._re = re.compile(r"(?<![\w.-])" + re.escape(self.prefix))

    # -------------------------------------------------------------- names
    def netns_name(self, key: str) -> str:
        """The name under /run/netns of learner namespace ``key``."""
        return self.prefix + key

    def netns_path(self, key: str) -> str:
        if key == ROOT:
            return self.node_path
        return os.path.join(NETNS_DIR, self.netns_name(key))

    @property
    def run_dir(self) -> str:
        return os.path.join(RUN_DIR, self.lab_id)

    @property
    def node_path(self) -> str:
        """The node namespace's mount: outside /run/netns on purpose (``link-netnsid 0``)."""
        return os.path.join(self.run_dir, "node")

    def key_of(self, name: str) -> str | None:
        """The learner key of a /run/netns name of this lab, else None."""
        return name[len(self.prefix) :] if name.startswith(self.prefix) else None

    # --------------------------------------------------------------- text
    def unmap(self, text: str) -> str:
        """Replace ``sl<id>-<key>`` by ``<key>`` in what a real tool printed."""
        return self._re.sub("", text)


def filter_netns_list(text: str, names: LabNames, order: list[str]) -> str:
    """``ip netns list`` output reduced to this lab's namespaces, newest first.

    /run/netns may hold other labs' and the machine's namespaces: they are
    dropped.  The kernel lists a directory in its file system's order (tmpfs:
    newest first, as in the golden captures; ext4: hash order), so the lines
    are put in creation order, newest first, whatever /run is.
    ``order`` lists this lab's keys oldest first.
    """
    stripped = text.strip()
    if stripped.startswith("["):  # ip -j netns
        items = [i for i in json.loads(stripped) if names.key_of(i.get("name", "")) is not None]
        for item in items:
            item["name"] = names.key_of(item["name"])
        rank = {k: n for n, k in enumerate(order)}
        items.sort(key=lambda i: -rank.get(i["name"], -1))
        return json.dumps(items, separators=(",", ":")) + "\n"
    keep = []
    for line in text.splitlines():
        word = line.split(" ", 1)[0]
        key = names.key_of(word)
        if key is not None:
            keep.append((key, key + line[len(word) :]))
    rank = {k: n for n, k in enumerate(order)}
    keep.sort(key=lambda kl: -rank.get(kl[0], -1))
    return "".join(line + "\n" for _, line in keep)
