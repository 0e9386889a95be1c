"""Sphinx configuration for the pydas documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

from pydas._version import __version__  # noqa: E402

project = "pydas"
author = "the pydas developers"
copyright = "2026, the pydas developers"
version = release = __version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode"]
autodoc_member_order = "bysource"
exclude_patterns = ["_build"]
html_theme = "alabaster"
