"""The kernel backend without root: a lab in a user namespace its user owns.

A multi-threaded process (every Jupyter kernel) cannot enter a user namespace
(``unshare``/``setns`` give EINVAL), so the namespaces belong to a separate,
single-threaded process started inside them (:mod:`simlab.rootless.server`);
:class:`simlab.backends.rootless.RootlessBackend` talks to it over a socket
pair.  :mod:`simlab.rootless.access` says whether this machine allows it.
"""
