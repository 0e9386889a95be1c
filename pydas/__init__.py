"""pydas: a Python client library for Midas Server 3.

``import pydas`` gives the high-level functions of the quick start
(:func:`login`, :func:`upload`, :func:`download`, ...), and the lower layers
as submodules: :mod:`pydas.core` (the :class:`~pydas.core.Communicator`),
:mod:`pydas.drivers` (one driver per server module) and
:mod:`pydas.exceptions`.
"""

from pydas._version import __version__
from pydas import core, drivers, exceptions, session

#: The installed version of pydas (the old name for :data:`__version__`).
version = __version__

__all__ = [
    "__version__",
    "version",
    "core",
    "drivers",
    "exceptions",
    "session",
]
