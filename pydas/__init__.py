"""pydas: a Python client library for Midas Server 3.

``import pydas`` gives the high-level functions of the quick start
(:func:`login`, :func:`upload`, :func:`download`, ...), and the lower layers
as submodules: :mod:`pydas.core` (the :class:`~pydas.core.Communicator`),
:mod:`pydas.drivers` (one driver per server module) and
:mod:`pydas.exceptions`.
"""

from pydas import core, drivers, exceptions, session
from pydas._version import __version__
from pydas.api import (
    TransferSummary,
    add_folder_download_callback,
    add_item_download_callback,
    add_item_upload_callback,
    allow_existing_download_paths,
    download,
    download_folder_recursive,
    login,
    renew_token,
    upload,
    verify_credentials,
)

#: The installed version of pydas (the old name for :data:`__version__`).
version = __version__

__all__ = [
    "__version__",
    "version",
    "core",
    "drivers",
    "exceptions",
    "session",
    "login",
    "renew_token",
    "verify_credentials",
    "upload",
    "download",
    "download_folder_recursive",
    "add_item_upload_callback",
    "add_item_download_callback",
    "add_folder_download_callback",
    "allow_existing_download_paths",
    "TransferSummary",
]
