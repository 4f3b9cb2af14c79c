"""The signed-in user's dashboard and per-network pages."""
