"""The HTTP session pydas makes for a communicator (or a standalone driver).

It keeps connections alive in a pool large enough for parallel transfers,
stores no cookies, reads the environment once (see
:mod:`pydas._transport.environment`) instead of on every request, and uses
:class:`~pydas._transport.deadlines.GuardedAdapter` so that deadlines can cut
a request off.
"""

from http.cookiejar import DefaultCookiePolicy
from typing import Any, Callable, Dict, Optional

import requests
from requests.cookies import RequestsCookieJar

from pydas._transport.deadlines import GuardedAdapter
from pydas._transport.environment import Environment

__all__ = ["POOL_SIZE", "PydasSession", "new_session"]

#: Connections kept per host; large enough for parallel transfers.
POOL_SIZE = 16


class _RejectCookies(DefaultCookiePolicy):
    """Cookie policy that stores nothing.

    Midas starts a PHP session on every call. Sending that cookie back would
    make the server serialise concurrent requests on its session lock, which
    defeats parallel transfers; pydas authenticates with tokens only.
    """

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


class _NoCookies(RequestsCookieJar):
    """A cookie jar that ignores ``Set-Cookie`` without even parsing it."""

    def __init__(self) -> None:
        super().__init__(policy=_RejectCookies())

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


class PydasSession(requests.Session):
    """A :class:`requests.Session` that takes its environment settings from an :class:`Environment`.

    ``trust_env`` is off; the environment is read once by :attr:`environment`,
    and redirects (followed by downloads) get their proxies and ``.netrc``
    authentication from there, as :mod:`requests` would from the environment.
    """

    def __init__(self, environment: Optional[Environment] = None) -> None:
        super().__init__()
        self.trust_env = False
        self.environment = environment if environment is not None else Environment()

    # The stubs of requests leave the two methods below unannotated; the
    # Callable annotations give them the types requests documents.

    def rebuild_proxies(
        self, prepared_request: Any, proxies: Optional[Dict[str, str]]
    ) -> Dict[str, str]:
        rebuild: Callable[[Any, Dict[str, str]], Dict[str, str]] = super().rebuild_proxies
        return rebuild(prepared_request, self.environment.proxies(prepared_request.url))

    def rebuild_auth(self, prepared_request: Any, response: Any) -> None:
        rebuild: Callable[[Any, Any], None] = super().rebuild_auth
        rebuild(prepared_request, response)
        new_auth = self.environment.netrc_auth(prepared_request.url)
        if new_auth is not None:
            prepared_request.prepare_auth(new_auth)


def new_session(pool_size: int = POOL_SIZE) -> PydasSession:
    """Create the session a communicator shares between its drivers.

    :param pool_size: connections kept open per host.
    :returns: a :class:`PydasSession` with a large enough connection pool, no
        cookie store and guarded connections.
    """
    session = PydasSession()
    adapter = GuardedAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.cookies = _NoCookies()
    return session
