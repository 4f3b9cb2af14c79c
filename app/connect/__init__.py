"""Connecting a network: one generic blueprint for every connector.

The connect page, the OAuth authorize and callback routes, the Mastodon server and Bluesky
handle forms: the routes are the same for every network and ask the network's
:class:`~app.networks.base.Connector` for what differs. Archive uploads live on the dashboard
(:func:`app.dashboard.views.import_archive`), which the page links to.
"""
