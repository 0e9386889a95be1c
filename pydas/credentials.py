"""Where pydas finds the server, the account and its secret, for the library and the command.

Each setting is taken from the first of these that has it:

1. the explicit argument (``pydas.login(url=...)``, ``pydas --url ...``);
2. the environment: ``MIDAS_URL``, ``MIDAS_EMAIL``, ``MIDAS_API_KEY`` or
   ``MIDAS_PASSWORD``, ``MIDAS_APPLICATION``, ``MIDAS_CA_BUNDLE``,
   ``MIDAS_NO_VERIFY``, ``MIDAS_TIMEOUT``;
3. the stored login of ``pydas login`` and the configuration file
   ``config.ini`` in the user's configuration directory (see
   :func:`config_dir`): the default server, its e-mail, application and
   connection settings, and the API key (in the system keyring or a private
   file, see :mod:`pydas._secret_store`);
4. ``~/.netrc`` (or the file named by ``NETRC``): the entry whose ``machine``
   is the server's host name, whose ``login`` is the e-mail address and whose
   ``password`` is an API key or the account's password (tried in that order);
5. a prompt: ``Server URL:``, ``Email:``, ``Password:`` (without echo).

A stored or ``.netrc`` secret is used only for the server (and e-mail) it was
stored for, so it is never sent to another server.

The configuration file is plain INI; a section ``[pydas]`` holds the default
server (``url``) and settings for every server, a section named after a
server URL holds that server's settings::

    [pydas]
    url = https://midas.example.org/midas

    [https://midas.example.org/midas]
    email = jane@example.org
    application = Default
    ca_bundle = /etc/ssl/certs/example-ca.pem
    timeout = 60
    secret = keyring
"""

import configparser
import getpass
import logging
import netrc
import os
from dataclasses import dataclass, field
from io import StringIO
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import urlsplit

from pydas import _secret_store
from pydas.exceptions import PydasException

__all__ = [
    "ENVIRONMENT",
    "SETTINGS",
    "ConfigurationError",
    "CredentialsError",
    "Login",
    "config_dir",
    "config_path",
    "default_url",
    "forget_login",
    "normalize_url",
    "resolve",
    "store_login",
    "stored_email",
]

logger = logging.getLogger("pydas")

#: The environment variable of each setting.
ENVIRONMENT: Dict[str, str] = {
    "url": "MIDAS_URL",
    "email": "MIDAS_EMAIL",
    "api_key": "MIDAS_API_KEY",
    "password": "MIDAS_PASSWORD",
    "application": "MIDAS_APPLICATION",
    "ca_bundle": "MIDAS_CA_BUNDLE",
    "no_verify": "MIDAS_NO_VERIFY",
    "timeout": "MIDAS_TIMEOUT",
}

#: The settings the configuration file may hold (never a secret).
SETTINGS = ("email", "application", "ca_bundle", "no_verify", "timeout")

_GENERAL = "pydas"
_TRUE = ("1", "yes", "true", "on")
_FALSE = ("0", "no", "false", "off", "")


class CredentialsError(PydasException):
    """No usable credentials: nothing configured and no answer at a prompt, or a broken store."""


class ConfigurationError(PydasException, ValueError):
    """A setting has a value that cannot be used (a URL without ``http://``, a bad timeout...)."""


@dataclass
class Login:
    """Everything needed to log in, and where each part came from.

    ``origin`` maps ``url``, ``email`` and ``secret`` to a description of
    their source (``"argument"``, ``"MIDAS_URL"``, ``"the stored login
    (system keyring)"``, ``"~/.netrc"``, ``"prompt"``...).
    """

    url: str
    email: str
    api_key: Optional[str] = field(default=None, repr=False)
    password: Optional[str] = field(default=None, repr=False)
    #: ``True`` when ``api_key`` may be a password after all (a ``.netrc`` entry).
    secret_may_be_password: bool = False
    application: str = "Default"
    #: ``True``, ``False`` or the path of a CA bundle.
    verify: Union[bool, str] = True
    timeout: Optional[float] = None
    origin: Dict[str, str] = field(default_factory=dict)


def config_dir() -> str:
    """The directory of ``config.ini`` and ``credentials.ini``.

    ``platformdirs.user_config_dir("pydas")``: ``~/.config/pydas`` on Linux
    (``$XDG_CONFIG_HOME/pydas``), ``~/Library/Application Support/pydas`` on
    macOS, ``%APPDATA%\\pydas`` on Windows.
    """
    import platformdirs

    return platformdirs.user_config_dir("pydas", appauthor=False)


def config_path() -> str:
    """The path of the configuration file."""
    return os.path.join(config_dir(), "config.ini")


def normalize_url(url: str) -> str:
    """Check a server URL and return it without trailing ``/``.

    :raises ConfigurationError: if it does not start with ``http://`` or ``https://``
    """
    text = url.strip()
    if not text.lower().startswith(("http://", "https://")) or not urlsplit(text).hostname:
        raise ConfigurationError(
            f"the server URL must start with http:// or https:// and name a host, not {url!r}"
        )
    return text.rstrip("/")


def _read_config() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    path = config_path()
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error) as error:
        raise ConfigurationError(f"cannot read the configuration file {path}: {error}") from None
    return parser


def _write_config(parser: configparser.ConfigParser) -> None:
    text = StringIO()
    parser.write(text)
    _secret_store.write_private_file(config_path(), text.getvalue())


def default_url() -> Optional[str]:
    """The server of the stored login (``url`` in ``[pydas]``), or ``None``."""
    value = _read_config().get(_GENERAL, "url", fallback="").strip()
    return value or None


def stored_email(url: str) -> Optional[str]:
    """The e-mail address stored for a server, or ``None``."""
    value = _read_config().get(normalize_url(url), "email", fallback="").strip()
    return value or None


def _setting(
    config: configparser.ConfigParser, url: Optional[str], name: str
) -> Optional[str]:
    """A setting of the configuration file: the server's section first, then ``[pydas]``."""
    for section in ((url,) if url else ()) + (_GENERAL,):
        if config.has_option(section, name):
            value = config.get(section, name).strip()
            if value:
                return value
    return None


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be yes or no (1 or 0), not {value!r}")


def _seconds(value: Union[str, float], name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if not number > 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, not {value!r}")
    return number


def _netrc_entry(url: str) -> Optional[Tuple[str, str]]:
    """The ``(login, password)`` of the ``.netrc`` entry for the server's host, if any.

    Only an entry naming the host counts (not ``default``), so that a password
    meant for another service is never sent to this server.
    """
    path = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    if not os.path.isfile(path):
        return None
    try:
        entries = netrc.netrc(path)
    except (OSError, netrc.NetrcParseError) as error:
        logger.warning("Ignoring %s: %s", path, error)
        return None
    host = urlsplit(url).hostname or ""
    entry = entries.hosts.get(host)
    if entry is None:
        return None
    login, _account, password = entry
    if not login or not password:
        return None
    return login, password


Ask = Callable[[str], str]


def resolve(
    url: Optional[str] = None,
    email: Optional[str] = None,
    api_key: Optional[str] = None,
    password: Optional[str] = None,
    application: Optional[str] = None,
    *,
    ca_bundle: Optional[str] = None,
    no_verify: Optional[bool] = None,
    timeout: Optional[float] = None,
    environ: Optional[Mapping[str, str]] = None,
    ask: Optional[Ask] = None,
    ask_secret: Optional[Ask] = None,
    stored: bool = True,
) -> Login:
    """Find the server, account and secret of a login, in the order of this module.

    :param url: the server URL
    :param email: the account's e-mail address
    :param api_key: an API key
    :param password: the account's password (used when no API key is found)
    :param application: the application the API key belongs to
    :param ca_bundle: a CA bundle to verify the server's certificate with
    :param no_verify: ``True`` to skip certificate verification
    :param timeout: the timeout of each request, in seconds
    :param environ: the environment (default: :data:`os.environ`)
    :param ask: asks for a visible answer (default :func:`input`)
    :param ask_secret: asks without echo (default :func:`getpass.getpass`)
    :param stored: also use the stored login and ``~/.netrc`` for the secret
        (``pydas login`` does not: it is there to replace them)
    :returns: the :class:`Login`; its secret is ``api_key`` or ``password``
    :raises ConfigurationError: for a bad URL or setting
    :raises pydas._secret_store.SecretStoreError: when the stored key cannot be read
    """
    env = os.environ if environ is None else environ
    ask = ask or input
    ask_secret = ask_secret or getpass.getpass
    config = _read_config()
    origin: Dict[str, str] = {}

    def first(name: str, given: Optional[str], server: Optional[str]) -> Optional[str]:
        if given:
            origin[name] = "argument"
            return given
        if env.get(ENVIRONMENT[name], "").strip():
            origin[name] = ENVIRONMENT[name]
            return env[ENVIRONMENT[name]].strip()
        value = _setting(config, server, name)
        if value is not None:
            origin[name] = f"the configuration file {config_path()}"
        return value

    if url is not None:
        origin["url"] = "argument"
    elif env.get(ENVIRONMENT["url"], "").strip():
        url = env[ENVIRONMENT["url"]]
        origin["url"] = ENVIRONMENT["url"]
    elif config.get(_GENERAL, "url", fallback="").strip():
        url = config.get(_GENERAL, "url")
        origin["url"] = "the stored login"
    else:
        url = ask("Server URL: ")
        origin["url"] = "prompt"
    url = normalize_url(url)

    found_email = first("email", email, url)
    entry = _netrc_entry(url) if stored else None
    if not found_email and entry is not None:
        found_email = entry[0]
        origin["email"] = "~/.netrc"
    if not found_email:
        found_email = ask("Email: ").strip()
        origin["email"] = "prompt"

    login = Login(url=url, email=found_email, origin=origin)
    login.application = first("application", application, url) or "Default"
    _settle_connection(login, config, env, ca_bundle, no_verify, timeout)

    if api_key or password:
        login.api_key, login.password = api_key or None, password or None
        origin["secret"] = "argument"
    elif env.get(ENVIRONMENT["api_key"]) or env.get(ENVIRONMENT["password"]):
        login.api_key = env.get(ENVIRONMENT["api_key"]) or None
        login.password = None if login.api_key else env.get(ENVIRONMENT["password"])
        origin["secret"] = ENVIRONMENT["api_key" if login.api_key else "password"]
    elif stored and _stored_key(config, login):
        pass
    elif entry is not None and entry[0] == found_email:
        login.api_key = entry[1]
        login.secret_may_be_password = True
        origin["secret"] = "~/.netrc"
    else:
        login.password = ask_secret("Password: ")
        origin["secret"] = "prompt"
    return login


def _stored_key(config: configparser.ConfigParser, login: Login) -> bool:
    """Fill in the API key ``pydas login`` stored for this server and e-mail, if any."""
    store = config.get(login.url, "secret", fallback="")
    if store not in (_secret_store.KEYRING, _secret_store.FILE):
        return False
    if config.get(login.url, "email", fallback="").strip() != login.email:
        return False
    key = _secret_store.read_secret(store, config_dir(), login.url, login.email)
    if not key:
        return False
    login.api_key = key
    where = "system keyring" if store == _secret_store.KEYRING else "credentials file"
    login.origin["secret"] = f"the stored login ({where})"
    return True


def _settle_connection(
    login: Login,
    config: configparser.ConfigParser,
    env: Mapping[str, str],
    ca_bundle: Optional[str],
    no_verify: Optional[bool],
    timeout: Optional[float],
) -> None:
    """Fill in ``verify`` and ``timeout``, each from the first level that sets it."""
    names = ("no_verify", "ca_bundle", "timeout")
    levels: List[Tuple[Dict[str, Any], str]] = [
        ({"no_verify": no_verify, "ca_bundle": ca_bundle, "timeout": timeout}, "{}"),
        ({name: env.get(ENVIRONMENT[name]) for name in names}, "MIDAS_{}"),
        ({name: _setting(config, login.url, name) for name in names}, "{} in config.ini"),
    ]
    found: Dict[str, object] = {}
    for values, label in levels:
        for name in names:
            value = values[name]
            if name in found or value is None or value == "":
                continue
            what = label.format(name.upper() if label.startswith("MIDAS") else name)
            if name == "no_verify":
                found[name] = value if isinstance(value, bool) else _flag(str(value), what)
            elif name == "timeout":
                found[name] = _seconds(value, what)
            else:
                found[name] = os.path.expanduser(str(value))
    if found.get("no_verify"):
        login.verify = False
    else:
        login.verify = str(found["ca_bundle"]) if "ca_bundle" in found else True
    login.timeout = found.get("timeout")  # type: ignore[assignment]


def store_login(
    login: Login,
    api_key: str,
    *,
    store: Optional[str] = None,
    settings: Optional[Mapping[str, object]] = None,
) -> str:
    """Remember a login: its API key, and the server as the default one.

    :param login: the login that succeeded (its URL, e-mail and application are written)
    :param api_key: the API key to store (never a password)
    :param store: :data:`pydas._secret_store.KEYRING` or
        :data:`~pydas._secret_store.FILE`; default: the keyring when usable
    :param settings: connection settings to keep for the server (``ca_bundle``,
        ``no_verify``, ``timeout``); ``None`` values are left out
    :returns: the store used
    :raises pydas._secret_store.SecretStoreError: when it cannot be written
    """
    if store is None:
        store = _secret_store.KEYRING if _secret_store.keyring_available() else _secret_store.FILE
    config = _read_config()
    previous = config.get(login.url, "secret", fallback="")
    previous_email = config.get(login.url, "email", fallback="")
    _secret_store.write_secret(store, config_dir(), login.url, login.email, api_key)
    if previous in (_secret_store.KEYRING, _secret_store.FILE) and (
        previous != store or previous_email != login.email
    ):
        _secret_store.delete_secret(previous, config_dir(), login.url, previous_email)
    for section in (_GENERAL, login.url):
        if not config.has_section(section):
            config.add_section(section)
    config.set(_GENERAL, "url", login.url)
    config.set(login.url, "email", login.email)
    config.set(login.url, "application", login.application)
    for name, value in (settings or {}).items():
        if value is not None and name in SETTINGS:
            config.set(login.url, name, "yes" if value is True else str(value))
    config.set(login.url, "secret", store)
    _write_config(config)
    return store


def forget_login(url: Optional[str] = None) -> Tuple[Optional[str], Optional[str], bool]:
    """Remove the stored login of a server (default: the default server).

    The e-mail address and the stored key are removed, and the server stops
    being the default; other settings of its section stay.

    :returns: ``(url, email, removed)``; ``url`` is ``None`` when there is no
        stored login at all
    :raises pydas._secret_store.SecretStoreError: when the store cannot be changed
    """
    config = _read_config()
    url = normalize_url(url) if url else (config.get(_GENERAL, "url", fallback="") or None)
    if url is None:
        return None, None, False
    email = config.get(url, "email", fallback="") or None
    store = config.get(url, "secret", fallback="")
    removed = False
    if email and store in (_secret_store.KEYRING, _secret_store.FILE):
        removed = _secret_store.delete_secret(store, config_dir(), url, email)
    if config.has_section(url):
        for name in ("email", "secret", "application"):
            config.remove_option(url, name)
        if not config.items(url, raw=True) or not config.options(url):
            config.remove_section(url)
    if config.get(_GENERAL, "url", fallback="") == url:
        config.remove_option(_GENERAL, "url")
    if os.path.exists(config_path()):
        _write_config(config)
    return url, email, removed
