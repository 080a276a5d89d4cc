"""Who is in the class and where its hub listens: read once, checked before anything is made.

A class is a list of learners (a file, one name a line, ``#`` comments; or ``LEARNERS="ana
ben"``), a trainer (the hub's admin, who also gets a server), the address the hub listens on
(127.0.0.1 unless told otherwise) and a run directory that holds what the hub writes (its
database, cookie secret, passwords, the learners' venv and notebooks).
"""

from __future__ import annotations

import json
import pwd
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["ClassSpec", "SpecError", "parse_learners"]

#: What useradd accepts and JupyterHub keeps as is (it lower-cases names).
_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
#: The learners' servers run as these accounts: never a system account (root, daemon, ...).
MIN_UID = 1000


class SpecError(ValueError):
    """A class that cannot start: what is wrong and what to do."""


def parse_learners(text: str) -> list[str]:
    """Names from a file's text or from ``LEARNERS`` (spaces, commas or lines; ``#`` comments)."""
    names: list[str] = []
    for line in text.splitlines():
        names += re.split(r"[\s,]+", line.split("#", 1)[0].strip())
    return [n for n in names if n]


@dataclass(frozen=True)
class ClassSpec:
    learners: tuple[str, ...]
    trainer: str
    run_dir: Path
    ip: str = "127.0.0.1"
    #: The proxy (the URL learners open); the proxy's API is port+1 and the hub's own port+2.
    port: int = 8000
    create_accounts: bool = False
    #: "shared" (one class password; the trainer has an admin password) or "pam" (the
    #: accounts' own passwords).
    auth: str = "shared"
    #: What the learners' ``Lab()`` uses: "auto" (rootless kernel where allowed, else model).
    backend: str = "auto"
    #: For ``Spawner.start_timeout`` and ``http_timeout``: 2 cores and 30 spawns at 9:00.
    start_timeout: int = 120
    extra_env: dict = field(default_factory=dict)

    @property
    def users(self) -> tuple[str, ...]:
        return (*self.learners, self.trainer)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.ip in ("", "0.0.0.0") else self.ip
        return f"http://{host}:{self.port}/"

    def check(self) -> ClassSpec:
        """Raise :class:`SpecError` naming every problem; return self when there is none."""
        problems = []
        if not self.learners:
            problems.append("no learners: give LEARNERS='ana ben' or LEARNERS_FILE=learners.txt")
        bad = [n for n in self.users if not _NAME.match(n)]
        if bad:
            problems.append(f"not a user name: {', '.join(map(repr, bad))} (lower-case letters, "
                            "digits, '-' and '_', starting with a letter, at most 32)")
        dups = sorted({n for n in self.users if self.users.count(n) > 1})
        if dups:
            problems.append(f"named twice: {', '.join(dups)} (the trainer is not a learner)")
        for name in self.users:
            if not _NAME.match(name):
                continue
            try:
                uid = pwd.getpwnam(name).pw_uid
            except KeyError:
                if not self.create_accounts:
                    problems.append(f"no account {name!r}: create it, or pass --create-accounts "
                                    "(make classroom CREATE_ACCOUNTS=1)")
                continue
            if uid < MIN_UID:
                problems.append(f"{name!r} is a system account (uid {uid}): a learner's server "
                                f"runs as its account, so use ordinary accounts (uid >= {MIN_UID})")
        if self.auth not in ("shared", "pam"):
            problems.append(f"auth {self.auth!r}: use 'shared' (one class password) or 'pam'")
        if self.backend not in ("auto", "kernel", "model"):
            problems.append(f"backend {self.backend!r}: use auto, kernel or model")
        if not 1 <= self.port <= 65533:
            problems.append(f"port {self.port}: the hub uses it and the next two ports")
        if problems:
            raise SpecError("the class cannot start:\n  - " + "\n  - ".join(problems))
        return self

    # The hub's config reads the spec back from the run directory (a file, not the environment:
    # the hub's children should not inherit it).
    def save_to(self, path: Path) -> None:
        path.write_text(json.dumps({**asdict(self), "run_dir": str(self.run_dir)}, indent=1))

    @classmethod
    def load(cls, path: str | Path) -> ClassSpec:
        data = json.loads(Path(path).read_text())
        data["learners"] = tuple(data["learners"])
        data["run_dir"] = Path(data["run_dir"])
        return cls(**data)
