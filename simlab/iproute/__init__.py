"""iproute2 in simlab: parse a command line, render a show command from a snapshot.

>>> from simlab.model import new_state, apply_all
>>> cmd = parse("ip link add veth1 type veth peer name veth2")
>>> state = apply_all(new_state(), cmd.ops)
>>> print(render(parse("ip -br link"), state), end="")
lo               DOWN           00:00:00:00:00:00 <LOOPBACK> 
veth2@veth1      DOWN           9e:26:6b:be:d8:be <BROADCAST,MULTICAST,M-DOWN> 
veth1@veth2      DOWN           02:dc:2e:ee:7c:e5 <BROADCAST,MULTICAST,M-DOWN> 
"""

from .command import Change, Show
from .parse import SUPPORTED, parse
from .render import render

__all__ = ["Change", "Show", "parse", "render", "SUPPORTED"]
