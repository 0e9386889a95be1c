"""Method registry, name resolution and the per-call context of the emulator.

API methods register themselves with :func:`core_method` or
:func:`module_method`. :func:`resolve` maps a requested name to a method the
way the real dispatcher does (midas-web-api.md §1.1): the ``midas`` prefix, the
remaining dot-separated tokens concatenated and compared case-insensitively
with the core methods, then the second token as a module name.
"""

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Dict, Iterator, List, Optional, Tuple

from pydas.testing.envelope import ApiError
from pydas.testing.model import Model, Row
from pydas.testing.store import Store

__all__ = [
    "ApiMethod",
    "Context",
    "ServerConfig",
    "core_method",
    "module_method",
    "resolve",
    "method_listing",
    "ALL_MODULES",
]

#: Modules the emulator implements (``api`` is always enabled).
ALL_MODULES = ("api", "batchmake", "dicomextractor", "mfa", "solr", "thumbnailcreator", "tracker")


@dataclass
class ServerConfig:
    """Settings of one emulator that API methods consult.

    ``origin`` is ``http://host:port`` once the server is bound.
    """

    base_path: str
    modules: Tuple[str, ...]
    double_encode: bool = True
    faithful_offset_bug: bool = True
    origin: str = ""


@dataclass
class ApiMethod:
    """A registered API method.

    :param name: canonical name without the prefix, e.g. ``item.getmetadata``.
    :param module: owning module, or ``None`` for core methods.
    :param function: implementation, called with a :class:`Context`.
    :param streams_body: the method reads the raw request body itself and manages
        the store lock on its own (uploads), so that slow bodies do not block others.
    :param description: one line for ``midas.methods.list``.
    :param authenticates: the caller is identified (and a bad ``token`` rejected with
        -101) before the method runs; false for the methods that ignore ``token``.
    :param locks_store: the method runs as one transaction under the store lock
        (true unless it streams a body or manages the lock on its own).
    """

    name: str
    module: Optional[str]
    function: Callable[["Context"], Any]
    streams_body: bool = False
    description: str = ""
    authenticates: bool = True
    locks_store: bool = True

    @property
    def full_name(self) -> str:
        """The canonical lower-case wire name, e.g. ``midas.upload.perform``."""
        return f"midas.{self.name}".lower()


_CORE: Dict[str, ApiMethod] = {}
_MODULES: Dict[str, Dict[str, ApiMethod]] = {}


def _key(name: str) -> str:
    return name.replace(".", "").lower()


def core_method(name: str, streams_body: bool = False, authenticates: bool = True,
                locks_store: Optional[bool] = None) -> Callable:
    """Register a core API method under its dotted name (without ``midas.``).

    :param name: e.g. ``item.get``.
    :param streams_body: see :class:`ApiMethod`.
    :param authenticates: see :class:`ApiMethod`.
    :param locks_store: see :class:`ApiMethod`; default: not ``streams_body``.
    :returns: the decorator.
    """

    def register(function: Callable[["Context"], Any]) -> Callable[["Context"], Any]:
        doc = (function.__doc__ or "").strip().splitlines()
        _CORE[_key(name)] = ApiMethod(
            name, None, function, streams_body, doc[0] if doc else "", authenticates,
            not streams_body if locks_store is None else locks_store,
        )
        return function

    return register


def module_method(module: str, name: str, streams_body: bool = False,
                  authenticates: bool = True) -> Callable:
    """Register a module API method, e.g. ``module_method("tracker", "scalar.add")``.

    :param module: module name.
    :param name: method name within the module.
    :param streams_body: see :class:`ApiMethod`.
    :param authenticates: see :class:`ApiMethod`.
    :returns: the decorator.
    """

    def register(function: Callable[["Context"], Any]) -> Callable[["Context"], Any]:
        doc = (function.__doc__ or "").strip().splitlines()
        _MODULES.setdefault(module, {})[_key(name)] = ApiMethod(
            f"{module}.{name}", module, function, streams_body, doc[0] if doc else "",
            authenticates, not streams_body,
        )
        return function

    return register


def resolve(name: str, modules: Tuple[str, ...]) -> Optional[ApiMethod]:
    """Find the method a requested name reaches, or ``None`` if it does not resolve.

    :param name: the ``method`` parameter as sent.
    :param modules: enabled modules.
    :returns: the method.
    """
    tokens = name.split(".")
    if len(tokens) < 2 or tokens[0] != "midas":
        return None
    found = _CORE.get(_key("".join(tokens[1:])))
    if found is not None:
        return found
    module = tokens[1].lower()
    if module not in modules or len(tokens) < 3:
        return None
    return _MODULES.get(module, {}).get(_key("".join(tokens[2:])))


def method_listing(modules: Tuple[str, ...]) -> List[ApiMethod]:
    """Return every method available with these modules, core first."""
    listing = sorted(_CORE.values(), key=lambda method: method.name)
    for module in sorted(modules):
        listing += sorted(_MODULES.get(module, {}).values(), key=lambda method: method.name)
    return listing


@dataclass
class Context:
    """Everything one API call may look at.

    :param params: merged parameters (query string wins over the form body).
    :param verb: the HTTP verb.
    :param db: the store.
    :param config: server settings.
    :param body: the raw request body stream, when the request has one that was
        not parsed as a form (PUT, or POST without a form content type).
    :param files: uploaded parts of a multipart body: name -> (file name, bytes).
    """

    params: Dict[str, str]
    verb: str
    db: Store
    config: ServerConfig
    body: Optional[BinaryIO] = None
    files: Dict[str, Tuple[str, bytes]] = field(default_factory=dict)
    _user: Any = field(default=None, init=False)
    _user_loaded: bool = field(default=False, init=False)

    @property
    def model(self) -> Model:
        """The data model over :attr:`db`."""
        return Model(self.db)

    def has(self, name: str) -> bool:
        """Tell whether a parameter is present (any value, even empty)."""
        return name in self.params

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """Return a parameter's value, or ``default``."""
        return self.params.get(name, default)

    def require(self, *names: str, code: int = -150, template: str = "Parameter {} is not defined"
                ) -> List[str]:
        """Return the values of required parameters, checked in the given order.

        :param names: the parameter names.
        :param code: error code for a missing one.
        :param template: message format with one ``{}`` for the name.
        :returns: the values.
        :raises ApiError: for the first missing parameter.
        """
        values = []
        for name in names:
            if name not in self.params:
                raise ApiError(code, template.format(name))
            values.append(self.params[name])
        return values

    def user(self) -> Optional[Row]:
        """Identify the caller (§2.1): ``None`` when anonymous.

        ``useSession`` asks for the browser session's user; the emulator has no
        browser sessions, so such a caller is anonymous.

        :raises ApiError: -101 ``Invalid token`` for an unknown or expired token.
        """
        if not self._user_loaded:
            token = self.params.get("token")
            if "useSession" in self.params or token is None:
                self._user = None
            else:
                row = self.db.one(
                    "SELECT u.* FROM token t JOIN user u ON u.user_id = t.user_id "
                    "WHERE t.token = ? AND t.expires > ?",
                    (token, time.time()),
                )
                if row is None:
                    raise ApiError(-101, "Invalid token")
                self._user = row
            self._user_loaded = True
        return self._user

    def late_body(self) -> Tuple[bytes, float]:
        """Return body bytes received after a cut that are due to land late, and when.

        :returns: ``(bytes, seconds)``; no bytes unless a
            ``cut_request_after(..., late_bytes=N)`` fault hit this request.
        """
        return getattr(self.body, "late_data", b""), getattr(self.body, "late_seconds", 0.0)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the store lock and run the block as one transaction.

        A Midas error (:class:`ApiError`) still commits what was done before it,
        as the real server (which has no transactions around a call) keeps such
        partial effects; any other exception rolls back.
        """
        with self.db.lock:
            self.db.begin()
            try:
                yield
            except ApiError:
                self.db.commit()
                raise
            except BaseException:
                self.db.rollback()
                raise
            self.db.commit()
