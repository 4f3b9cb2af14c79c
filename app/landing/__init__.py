"""The public landing page."""
