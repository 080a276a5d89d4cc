"""A NUL character in learner input: a clear refusal on both backends, never a ValueError.

No shell can pass a NUL to a program (argv holds C strings), so the real ``ip`` never
sees one; the kernel would cut a netlink name at it.  simlab refuses it instead.
"""

from __future__ import annotations

import pytest

import simlab
from simlab.model import UsageError
from simlab.model import ops as o

BACKENDS = ["model", pytest.param("kernel", marks=pytest.mark.kernel)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_nul_in_a_typed_line_or_a_name_is_refused(backend):
    with simlab.Lab(backend=backend) as lab:
        with pytest.raises(UsageError, match=r"cannot contain a NUL character \(\\0\)"):
            lab.ip("netns add x\0y")
        for op, words in ((o.NetnsAdd("x\0y"), r'Invalid netns name "x\\0y"'),
                          (o.NetnsDel("x\0y"), r'Invalid netns name "x\\0y"'),
                          (o.NetnsDel("a/b"), 'Invalid netns name "a/b"'),
                          (o.LinkAdd("a\0b", "bridge"), "not a valid ifname")):
            with pytest.raises(UsageError, match=words):
                lab.apply(op)
        assert len(lab.timeline) == 0 and str(lab.ip("netns")) == ""
