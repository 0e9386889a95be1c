"""The API handlers of the emulator, one module per resource and per server module.

A handler parses its call's parameters, checks them as the real server does,
and asks the backend (:mod:`pydas.testing.backend`) for data; it never runs
SQL or touches files. Importing this package registers every handler with
:mod:`pydas.testing.dispatch`.
"""

from pydas.testing.handlers import (  # noqa: F401  (each module registers its methods)
    batchmake,
    bitstreams,
    communities,
    dicom,
    folders,
    items,
    mfa,
    policies,
    solr,
    system,
    thumbnails,
    tracker,
    tracker_legacy,
    uploads,
    users,
)
from pydas.testing.handlers.downloads import download

__all__ = ["download"]
