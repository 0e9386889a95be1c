"""A local emulator of the Midas Server 3 web API, for tests and demos.

:class:`MidasServer` runs a faithful imitation of a Midas Server 3 (the
``/api/json`` methods of the core and of the modules pydas talks to, uploads,
downloads, permissions) on 127.0.0.1, backed by SQLite and a content-addressed
file store. The pytest plugin ``pydas.testing.pytest_plugin`` offers it as
the ``midas_server`` fixture, and ``python -m pydas.testing`` runs it in the
foreground. The client library never imports this package.
"""

from pydas.testing.faults import FaultInjector
from pydas.testing.server import CommunityRecord, MidasServer, RequestRecord, UserRecord

__all__ = ["MidasServer", "UserRecord", "CommunityRecord", "RequestRecord", "FaultInjector"]
