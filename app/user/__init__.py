"""The signed-in user's own settings page."""
