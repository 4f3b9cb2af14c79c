"""Syncing: a queued run becomes a stored snapshot.

* :mod:`.runner` queues runs and hands them to a runner: a thread in the web process by
  default, RQ workers when ``REDIS_URL`` is set, or inline (tests, the command line).
* :mod:`.producers` turns a run into records: the network's live read, its archive, or the
  demo generator.
* :mod:`.tokens` keeps a connection's sign-in usable while a sync runs (refresh, rotation).
* :mod:`.service` analyses the records and stores them as the connection's new snapshot.
* :mod:`.matches` keeps the cross-network matches of a user up to date after every change.

Nothing here imports a Flask request, the session or ``url_for``: a worker runs it with only
an app context.
"""
