"""Sphinx configuration for the MD Analytics manual."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("APP_SETTINGS", "TestConfig")

project = "MD Analytics"
author = "MD Analytics contributors"
copyright = "2026, MD Analytics contributors"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
html_theme = "alabaster"
html_static_path = ["_static"]
exclude_patterns = ["_build"]
nitpicky = False
autodoc_inherit_docstrings = False
