"""The demo: synthetic accounts on every network, shaped like real ones.

* :mod:`.synthetic` generates an account's people, follows and posts, giving only what the
  network can really provide.
* :mod:`.data` sizes each network's demo account and shares some people across networks.
* :mod:`.user` creates (or refreshes) the demo user behind ``manage.py demo``.
"""
