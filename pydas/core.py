"""The :class:`Communicator`: every driver of :mod:`pydas.drivers` behind one object.

A communicator owns one :class:`requests.Session` (keep-alive connections, a
pool large enough for parallel transfers) shared by its drivers, and passes
attribute lookups on to them, so that ``communicator.create_folder(...)``
calls :meth:`pydas.drivers.CoreDriver.create_folder` and
``communicator.add_scalar_data(...)`` calls the tracker driver.

:class:`RetryPolicy` (defined in the transport layer) is re-exported here for
callers who want to tune retries.
"""

from typing import Any, List, Optional, Sequence, Union

import requests

from pydas import drivers as _drivers
from pydas._transport import RetryPolicy, Timeout, new_session

__all__ = ["Communicator", "DEFAULT_DRIVERS", "RetryPolicy"]

#: The driver classes a communicator creates when none are given, in lookup order.
DEFAULT_DRIVERS = (
    _drivers.CoreDriver,
    _drivers.BatchmakeDriver,
    _drivers.DicomextractorDriver,
    _drivers.MultiFactorAuthenticationDriver,
    _drivers.SolrDriver,
    _drivers.ThumbnailCreatorDriver,
    _drivers.TrackerDriver,
)


class Communicator:
    """Talk to a Midas Server through a set of drivers.

    :param url: root URL of the Midas installation (one trailing ``/`` is removed).
    :param drivers: the drivers to use; by default one of each class in
        :data:`DEFAULT_DRIVERS`, all sharing one HTTP session. Given drivers
        keep their own sessions; their URL is set to ``url``.
    :param timeout: seconds, or ``(connect, read)``, for every request of the
        default drivers; default ``(10, 300)``.
    :param session: a :class:`requests.Session` for the default drivers to
        share; the caller keeps ownership of it (it is not closed by
        :meth:`close`).
    :param retry: a :class:`RetryPolicy` for the default drivers (how often
        and how long to wait before repeating a request that failed in a way
        that is safe to repeat).
    """

    def __init__(
        self,
        url: str,
        drivers: Optional[Sequence[_drivers.BaseDriver]] = None,
        *,
        timeout: Optional[Timeout] = None,
        session: Optional[requests.Session] = None,
        retry: Optional[RetryPolicy] = None,
    ) -> None:
        self._session: Optional[requests.Session] = None
        self._owns_session = False
        if drivers is None:
            self._owns_session = session is None
            self._session = session if session is not None else new_session()
            self._drivers: List[_drivers.BaseDriver] = [
                cls(url, session=self._session, timeout=timeout, retry=retry)
                for cls in DEFAULT_DRIVERS
            ]
        else:
            self._drivers = list(drivers)
        self._url = ""
        self.url = url

    def __repr__(self) -> str:
        return f"Communicator({self._url!r})"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        for driver in self.__dict__.get("_drivers", ()):
            if hasattr(driver, name):
                return getattr(driver, name)
        raise AttributeError(
            f"'Communicator' object and its drivers have no attribute {name!r}"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        # A setting the drivers have as a property (``timeout``, ``auth``,
        # ``retry``...) applies to every driver having it, as ``url`` does.
        owners = [
            driver
            for driver in self.__dict__.get("_drivers", ())
            if isinstance(getattr(type(driver), name, None), property)
        ]
        if name.startswith("_") or hasattr(type(self), name) or not owners:
            super().__setattr__(name, value)
            return
        for driver in owners:
            setattr(driver, name, value)

    def __dir__(self) -> List[str]:
        names = set(super().__dir__())
        for driver in self._drivers:
            names.update(attr for attr in dir(driver) if not attr.startswith("_"))
        return sorted(names)

    @property
    def drivers(self) -> List[_drivers.BaseDriver]:
        """The drivers attached to this communicator, in lookup order."""
        return self._drivers

    @property
    def url(self) -> str:
        """The root URL of the server; setting it updates every driver."""
        return self._url

    @url.setter
    def url(self, value: str) -> None:
        self._url = value[:-1] if value.endswith("/") else value
        for driver in self._drivers:
            driver.url = value

    @property
    def debug(self) -> bool:
        """``True`` if every driver logs request summaries; setting applies to all."""
        return all(driver.debug for driver in self._drivers)

    @debug.setter
    def debug(self, value: bool) -> None:
        for driver in self._drivers:
            driver.debug = value

    @property
    def verify_ssl_certificate(self) -> bool:
        """``True`` if every driver verifies TLS certificates; setting applies to all.

        A CA bundle path may be assigned as well (see
        :attr:`pydas.drivers.BaseDriver.verify_ssl_certificate`).
        """
        return all(driver.verify_ssl_certificate for driver in self._drivers)

    @verify_ssl_certificate.setter
    def verify_ssl_certificate(self, value: Union[bool, str]) -> None:
        for driver in self._drivers:
            driver.verify_ssl_certificate = value

    def set_auth(self, value: Any) -> None:
        """Set HTTP authentication for every driver (downloads included).

        :param value: ``None``, or what :mod:`requests` accepts as ``auth``,
            e.g. a ``(user, password)`` tuple.
        """
        for driver in self._drivers:
            driver.auth = value

    def close(self) -> None:
        """Close the drivers and the shared session (if the communicator made it)."""
        for driver in self._drivers:
            driver.close()
        if self._owns_session and self._session is not None:
            self._session.close()

    def __enter__(self) -> "Communicator":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
