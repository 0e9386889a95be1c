"""Method registry, name resolution and the per-call context of the emulator.

API handlers register themselves with :func:`core_method` or
:func:`module_method`. :func:`resolve` maps a requested name to a method the
way the real dispatcher does (midas-web-api.md §1.1): the ``midas`` prefix, the
remaining dot-separated tokens concatenated and compared case-insensitively
with the core methods, then the second token as a module name.
"""

from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Dict, Iterable, List, Optional, Tuple, TypeVar

from pydas.testing.answers import ApiError
from pydas.testing.backend import Backend, Caller, Row

__all__ = [
    "ApiMethod",
    "Context",
    "ServerConfig",
    "core_method",
    "module_method",
    "resolve",
    "method_listing",
    "ALL_MODULES",
    "DEFAULT_MODULES",
    "CORE_RESOURCES",
    "MODULE_RESOURCES",
    "enabled_modules",
    "SESSIONS",
]

#: Modules the emulator implements (``api`` is always enabled; ``scheduler`` has no
#: methods of its own: other modules need it).
ALL_MODULES = ("api", "batchmake", "dicomextractor", "mfa", "scheduler", "solr",
               "thumbnailcreator", "tracker")
#: What the real server enables before a module (its ``module.ini`` dependencies).
MODULE_DEPENDENCIES = {
    "thumbnailcreator": ("scheduler",),
    "dicomextractor": ("api", "scheduler", "thumbnailcreator"),
    "tracker": ("api", "scheduler"),
}
#: The order modules are enabled in when none are named (the kit's order first).
DEFAULT_MODULES = ("thumbnailcreator", "mfa", "dicomextractor", "tracker", "solr", "batchmake")
#: The REST resources of the core, in the real server's order, and of the modules.
CORE_RESOURCES = ("item", "itemrevision", "group", "system", "bitstream", "community", "user",
                  "folder")
MODULE_RESOURCES = {
    "thumbnailcreator": ("item",),
    "dicomextractor": ("item",),
    "tracker": ("aggregatemetricspec", "submission", "scalar", "trend", "producer",
                "aggregatemetricnotification"),
    "solr": ("search",),
}


def enabled_modules(requested: Iterable[str]) -> Tuple[str, ...]:
    """Return the modules enabled for a request, in the order the real server lists them.

    ``api`` comes first; each module comes after the modules it depends on.

    :param requested: module names in the order they are enabled.
    :returns: the enabled modules.
    :raises ValueError: for an unknown module name.
    """
    names = [str(name).lower() for name in requested]
    unknown = set(names) - set(ALL_MODULES)
    if unknown:
        raise ValueError(
            f"unknown emulator module(s): {', '.join(sorted(unknown))}; "
            f"available: {', '.join(ALL_MODULES)}"
        )
    enabled: List[str] = ["api"]

    def enable(name: str) -> None:
        for dependency in MODULE_DEPENDENCIES.get(name, ()):
            enable(dependency)
        if name not in enabled:
            enabled.append(name)

    for name in names:
        enable(name)
    return tuple(enabled)
#: How a method uses the backend: in a read session, in one write transaction, or
#: on its own (it opens its sessions itself, e.g. around a streamed body).
SESSIONS = ("read", "write", "own")


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
    #: module -> the older API version it answers (e.g. ``{"tracker": "1.2"}``).
    variants: Dict[str, str] = field(default_factory=dict)


@dataclass
class ApiMethod:
    """A registered API method.

    :param name: canonical name without the prefix, e.g. ``item.getmetadata``.
    :param module: owning module, or ``None`` for core methods.
    :param function: the handler, called with a :class:`Context`.
    :param session: one of :data:`SESSIONS`.
    :param streams_body: the handler reads the raw request body itself (uploads).
    :param description: one line for ``midas.methods.list``.
    :param authenticates: the caller is identified (and a bad ``token`` rejected with
        -101) before the method runs; false for the methods that ignore ``token``.
    """

    name: str
    module: Optional[str]
    function: Callable[["Context"], Any]
    session: str = "write"
    streams_body: bool = False
    description: str = ""
    authenticates: bool = True

    @property
    def full_name(self) -> str:
        """The canonical lower-case wire name, e.g. ``midas.upload.perform``."""
        return f"midas.{self.name}".lower()


#: A handler of an API method (called with the request's :class:`Context`).
Handler = TypeVar("Handler", bound=Callable[["Context"], Any])

_CORE: Dict[str, ApiMethod] = {}
_MODULES: Dict[str, Dict[str, ApiMethod]] = {}


def _key(name: str) -> str:
    return name.replace(".", "").lower()


def _registrar(table: Dict[str, ApiMethod], name: str, module: Optional[str], session: str,
               streams_body: bool, authenticates: bool) -> Callable[[Handler], Handler]:
    if session not in SESSIONS:
        raise ValueError(f"session must be one of {SESSIONS}, got {session!r}")
    if streams_body and session != "own":
        raise ValueError("a method that streams its body opens its sessions itself")

    def register(function: Handler) -> Handler:
        doc = (function.__doc__ or "").strip().splitlines()
        full = name if module is None else f"{module}.{name}"
        table[_key(name)] = ApiMethod(full, module, function, session, streams_body,
                                      doc[0] if doc else "", authenticates)
        return function

    return register


def core_method(name: str, session: str = "write", streams_body: bool = False,
                authenticates: bool = True) -> Callable[[Handler], Handler]:
    """Register a core API method under its dotted name (without ``midas.``).

    :param name: e.g. ``item.get``.
    :param session: see :class:`ApiMethod`.
    :param streams_body: see :class:`ApiMethod`.
    :param authenticates: see :class:`ApiMethod`.
    :returns: the decorator.
    """
    return _registrar(_CORE, name, None, session, streams_body, authenticates)


def module_method(module: str, name: str, session: str = "write", streams_body: bool = False,
                  authenticates: bool = True, variant: Optional[str] = None
                  ) -> Callable[[Handler], Handler]:
    """Register a module API method, e.g. ``module_method("tracker", "scalar.add")``.

    :param module: module name.
    :param name: method name within the module.
    :param session: see :class:`ApiMethod`.
    :param streams_body: see :class:`ApiMethod`.
    :param authenticates: see :class:`ApiMethod`.
    :param variant: the older module version this method belongs to (answered only by a
        server configured for it, see :attr:`ServerConfig.variants`).
    :returns: the decorator.
    """
    table = module if variant is None else f"{module}@{variant}"
    return _registrar(_MODULES.setdefault(table, {}), name, module, session, streams_body,
                      authenticates)


def _module_table(module: str, variants: Optional[Dict[str, str]]) -> Dict[str, ApiMethod]:
    variant = (variants or {}).get(module)
    return _MODULES.get(module if variant is None else f"{module}@{variant}", {})


def resolve(name: str, modules: Tuple[str, ...],
            variants: Optional[Dict[str, str]] = None) -> Optional[ApiMethod]:
    """Find the method a requested name reaches, or ``None`` if it does not resolve.

    :param name: the ``method`` parameter as sent.
    :param modules: enabled modules.
    :param variants: module -> older version answered instead of the current one.
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
    return _module_table(module, variants).get(_key("".join(tokens[2:])))


def canonical_name(name: str) -> Optional[str]:
    """Return the canonical wire name of a method in any module version, or ``None``."""
    for variant in [None, *sorted({table.partition("@")[2] for table in _MODULES if "@" in table})]:
        variants = None if variant is None else {module: variant for module in ALL_MODULES}
        method = resolve(name, ALL_MODULES, variants)
        if method is not None:
            return method.full_name
    return None


def method_listing(modules: Tuple[str, ...],
                   variants: Optional[Dict[str, str]] = None) -> List[ApiMethod]:
    """Return every method available with these modules, core first."""
    listing = sorted(_CORE.values(), key=lambda method: method.name)
    for module in sorted(modules):
        listing += sorted(_module_table(module, variants).values(),
                          key=lambda method: method.name)
    return listing


@dataclass
class Context:
    """Everything one API call may look at.

    :param params: merged parameters (query string wins over the form body).
    :param verb: the HTTP verb.
    :param backend: the server's state.
    :param config: server settings.
    :param body: the raw request body stream, when the request has one that was
        not parsed as a form (PUT, or POST without a form content type).
    :param files: uploaded parts of a multipart body: name -> (file name, bytes).
    """

    params: Dict[str, str]
    verb: str
    backend: Backend
    config: ServerConfig
    body: Optional[BinaryIO] = None
    files: Dict[str, Tuple[str, bytes]] = field(default_factory=dict)
    _caller: Optional[Caller] = field(default=None, init=False)

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

    def caller(self) -> Caller:
        """Identify the caller (§2.1), looked up once per call.

        ``useSession`` asks for the browser session's user; the emulator has no
        browser sessions, so such a caller is anonymous.

        :raises ApiError: -101 ``Invalid token`` for an unknown or expired token.
        """
        if self._caller is None:
            token = None if "useSession" in self.params else self.params.get("token")
            caller = self.backend.users.caller(token)
            if caller is None:
                raise ApiError(-101, "Invalid token")
            self._caller = caller
        return self._caller

    def user(self) -> Optional[Row]:
        """The calling user's row, ``None`` when anonymous (see :meth:`caller`)."""
        return self.caller().user

    def late_body(self) -> Tuple[bytes, float]:
        """Return body bytes received after a cut that are due to land late, and when.

        :returns: ``(bytes, seconds)``; no bytes unless a
            ``cut_request_after(..., late_bytes=N)`` fault hit this request.
        """
        return getattr(self.body, "late_data", b""), getattr(self.body, "late_seconds", 0.0)
