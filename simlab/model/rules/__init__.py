"""The kernel's rules, one module per object; :mod:`simlab.model.apply` dispatches to them.

Each handler takes the transaction (:class:`simlab.model.txn.Txn`) and the
operation, raises :class:`~simlab.model.NetError` before it changes anything,
and writes through the transaction.
"""
