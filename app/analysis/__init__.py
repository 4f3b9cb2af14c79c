"""Analyzers: plain Python, no Flask. Run once per sync; results are stored on the snapshot.

Every result is JSON-ready (dicts, lists, str, int, float, bool, None). Unknown numbers are
``None``, never ``0``.

- :func:`app.analysis.timeline.analyse_timeline` ``(posts, tz="UTC")`` -> ``{"tz", "total",
  "authored", "reposts", "kinds", "response_known", "response_unknown", "responded",
  "response_share", "first_response_known", "median_first_response_seconds", "by_month",
  "by_week", "heatmap": {"days", "hours", "counts"}, "top_posts": {"formula", "posts"},
  "first_post_at", "last_post_at"}``.
- :func:`app.analysis.sentiment.analyse_sentiment` ``(posts, engine="trained", tz="UTC")``
  -> ``(per_post, summary)``.
- :func:`app.analysis.graph.analyse_graphs` ``(data, max_people=20000, previous=None)`` ->
  ``{"followers", "friends", "mutuals"}``; each section's ``graph`` holds the nodes with
  settled ``x``/``y`` (:mod:`app.analysis.layout`; ``previous``, the last snapshot's
  pictures, starts the layouts warm), the links, ``layout``, ``drawn`` and ``note``.
- :func:`app.analysis.growth.growth_between`.
- :mod:`app.analysis.export`: streaming CSV / JSON / GEXF / GraphML builders.
"""
