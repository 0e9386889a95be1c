"""The :class:`Communicator`: every driver of :mod:`pydas.drivers` behind one object.

A communicator owns one transport (the server URL, one
:class:`requests.Session` with keep-alive connections and a pool large enough
for parallel transfers, the timeouts, the retry policy and the other settings)
and hands it to its drivers, so each setting exists once. It passes attribute
lookups on to the drivers, so that ``communicator.create_folder(...)`` calls
:meth:`pydas.drivers.CoreDriver.create_folder` and
``communicator.add_scalar_data(...)`` calls the tracker driver.

:class:`RetryPolicy` and :class:`Timeout` (defined in the transport layer) are
re-exported here for callers who want to tune retries and time limits.
"""

from typing import Any, List, Optional, Sequence, Union

import requests

from pydas import drivers as _drivers
from pydas._transport import RetryPolicy, Timeout, TimeoutLike, Transport

__all__ = ["Communicator", "DEFAULT_DRIVERS", "RetryPolicy", "Timeout"]

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
        :data:`DEFAULT_DRIVERS`, all sharing the communicator's transport.
        Given drivers keep their own transports (and sessions); their URL is
        set to ``url``, and the settings of the communicator apply to each.
    :param timeout: a :class:`Timeout`, seconds, or ``(connect, read)``, for
        every request of the default drivers; default 10 s to connect, 300 s
        to read, 310 s per call.
    :param session: a :class:`requests.Session` for the default drivers to
        share; the caller keeps ownership of it (it is not closed by
        :meth:`close`, and its own settings apply).
    :param retry: a :class:`RetryPolicy` for the default drivers (how often
        and how long to wait before repeating a request that failed in a way
        that is safe to repeat).
    """

    def __init__(
        self,
        url: str,
        drivers: Optional[Sequence[_drivers.BaseDriver]] = None,
        *,
        timeout: TimeoutLike = None,
        session: Optional[requests.Session] = None,
        retry: Optional[RetryPolicy] = None,
    ) -> None:
        if drivers is None:
            transport = Transport(url, session=session, timeout=timeout, retry=retry)
            self._drivers: List[_drivers.BaseDriver] = [
                cls(transport=transport) for cls in DEFAULT_DRIVERS
            ]
            self._transports = [transport]
            self._owned = [transport]
        else:
            self._drivers = list(drivers)
            self._transports = []
            for driver in self._drivers:
                if all(driver._transport is not known for known in self._transports):
                    self._transports.append(driver._transport)
            self._owned = []
        self.url = url

    def __repr__(self) -> str:
        shown = self._transports[0].display_url if self._transports else ""
        return f"Communicator({shown!r})"

    def _first(self) -> Transport:
        if not self._transports:
            raise AttributeError("this communicator has no drivers, hence no settings")
        return self._transports[0]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        for driver in self.__dict__.get("_drivers", ()):
            if hasattr(driver, name):
                return getattr(driver, name)
        raise AttributeError(f"'Communicator' object and its drivers have no attribute {name!r}")

    def __dir__(self) -> List[str]:
        names = set(super().__dir__())
        for driver in self._drivers:
            names.update(attr for attr in dir(driver) if not attr.startswith("_"))
        return sorted(names)

    @property
    def drivers(self) -> List[_drivers.BaseDriver]:
        """The drivers attached to this communicator, in lookup order."""
        return self._drivers

    # Each setting below lives in the transport(s): one for the default
    # drivers, one per given driver otherwise.

    @property
    def url(self) -> str:
        """The root URL of the server; setting it updates every driver."""
        return self._transports[0].url if self._transports else ""

    @url.setter
    def url(self, value: str) -> None:
        for transport in self._transports:
            transport.url = value

    @property
    def debug(self) -> bool:
        """``True`` if every driver logs request summaries; setting applies to all."""
        return all(transport.debug for transport in self._transports)

    @debug.setter
    def debug(self, value: bool) -> None:
        for transport in self._transports:
            transport.debug = bool(value)

    @property
    def verify_ssl_certificate(self) -> Union[bool, str]:
        """Whether TLS certificates are verified; setting applies to every driver.

        ``True`` only if every driver verifies them. A CA bundle path may be
        assigned as well (see
        :attr:`pydas.drivers.BaseDriver.verify_ssl_certificate`); it is then
        returned as it was set.
        """
        values = [transport.verify for transport in self._transports]
        if values and all(value == values[0] for value in values):
            return values[0]
        return all(values)

    @verify_ssl_certificate.setter
    def verify_ssl_certificate(self, value: Union[bool, str]) -> None:
        for transport in self._transports:
            transport.verify = value

    @property
    def timeout(self) -> Timeout:
        """The :class:`Timeout` of every request.

        Accepts a :class:`Timeout`, a number of seconds or a
        ``(connect, read)`` pair. Assigning ``None`` restores the defaults: a
        communicator never waits forever.
        """
        return self._first().timeout

    @timeout.setter
    def timeout(self, value: TimeoutLike) -> None:
        for transport in self._transports:
            transport.timeout = value

    @property
    def retry(self) -> RetryPolicy:
        """The :class:`RetryPolicy` of calls and of resumed transfers."""
        return self._first().retry

    @retry.setter
    def retry(self, value: RetryPolicy) -> None:
        for transport in self._transports:
            transport.retry = value

    @property
    def auth(self) -> Any:
        """HTTP authentication of every request (see :meth:`set_auth`)."""
        return self._first().auth

    @auth.setter
    def auth(self, value: Any) -> None:
        self.set_auth(value)

    @property
    def max_answer_size(self) -> int:
        """The largest answer of an ordinary call, in bytes (default 64 MiB)."""
        return self._first().max_answer_size

    @max_answer_size.setter
    def max_answer_size(self, value: int) -> None:
        for transport in self._transports:
            transport.max_answer_size = value

    def set_auth(self, value: Any) -> None:
        """Set HTTP authentication for every driver (downloads included).

        :param value: ``None``, or what :mod:`requests` accepts as ``auth``,
            e.g. a ``(user, password)`` tuple.
        """
        for transport in self._transports:
            transport.auth = value

    def close(self) -> None:
        """Close the drivers and the transport (and its session, if the communicator made it)."""
        for driver in self._drivers:
            driver.close()
        for transport in self._owned:
            transport.close()

    def __enter__(self) -> "Communicator":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
