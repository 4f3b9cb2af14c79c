"""Analyzers: plain Python, no Flask. Run once per sync; results are stored on the snapshot."""
