"""A class on JupyterHub: one server per learner, each with their own notebooks and lab.

``simlab classroom`` (``make classroom``) runs it on one machine: ``spec`` (who and where),
``hub`` (accounts, the run directory, the hub process), ``hubconfig`` (JupyterHub's
settings), ``learner`` (the entry command of a learner's server, here and in the image of
``deploy/z2jh``), ``client`` (a script's driver: start a server, run a cell), ``venv`` (a copy
of this venv the learners may run).  Nothing here is imported by ``import simlab``.
"""
