"""What :mod:`requests` would read from the environment, read once.

A session that trusts the environment (the :mod:`requests` default) looks up
the proxy variables, ``NO_PROXY``, the CA bundle variables and ``~/.netrc``
on every request: thousands of ``os.environ`` lookups and a file lookup per
call. Sessions made by pydas do not trust the environment; instead an
:class:`Environment` resolves the same settings, with the same functions and
therefore the same variables and precedence, once per server address, and the
transport hands them to each request.
"""

import os
import threading
from typing import Dict, Optional, Tuple, Union
from urllib.parse import urlsplit

from requests.utils import get_environ_proxies, get_netrc_auth

__all__ = ["Environment"]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class Environment:
    """The environment settings of one transport, cached per server address.

    * proxies: ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` (any case) and
      ``NO_PROXY``, as :func:`requests.utils.get_environ_proxies` reads them;
    * the CA bundle used when certificates are verified and no bundle was
      set: ``REQUESTS_CA_BUNDLE``, else ``CURL_CA_BUNDLE``;
    * HTTP authentication from ``~/.netrc`` (or the file named by ``NETRC``)
      when none was set, as :func:`requests.utils.get_netrc_auth` finds it.

    The CA bundle is read when the environment is created; proxies and netrc
    entries when an address is first used.
    """

    def __init__(self) -> None:
        self.ca_bundle: Optional[str] = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get(
            "CURL_CA_BUNDLE"
        )
        self._proxies: Dict[str, Dict[str, str]] = {}
        self._netrc: Dict[str, Optional[Tuple[str, str]]] = {}
        self._lock = threading.Lock()

    def proxies(self, url: str) -> Dict[str, str]:
        """The proxies to use for ``url`` (empty when ``NO_PROXY`` excludes its host)."""
        origin = _origin(url)
        found = self._proxies.get(origin)
        if found is None:
            with self._lock:
                found = self._proxies[origin] = dict(get_environ_proxies(url))
        return found

    def netrc_auth(self, url: str) -> Optional[Tuple[str, str]]:
        """The ``(login, password)`` that ``.netrc`` holds for the host of ``url``, if any."""
        origin = _origin(url)
        if origin not in self._netrc:
            with self._lock:
                self._netrc[origin] = get_netrc_auth(url)
        return self._netrc[origin]

    def verify(self, verify: Union[bool, str]) -> Union[bool, str]:
        """What to pass as ``verify``: the CA bundle stands in for a plain ``True``."""
        if verify is True and self.ca_bundle:
            return self.ca_bundle
        return verify
