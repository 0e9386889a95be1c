"""Where ``pydas login`` keeps API keys: the system keyring, or a private file.

The keyring (the optional ``keyring`` package, ``pip install 'pydas[keyring]'``)
is used when it has a usable backend: the macOS Keychain, the Windows
Credential Locker, or a Secret Service (GNOME Keyring, KWallet) on a Linux
desktop. A headless Linux machine usually has none; the key then goes to
``credentials.ini`` in the user's configuration directory, readable by the
user only (mode 0600, in a directory of mode 0700). ``PYDAS_KEYRING=0`` turns
the keyring off.

A keyring call runs on a helper thread and is given up after
:data:`KEYRING_TIMEOUT` seconds (``PYDAS_KEYRING_TIMEOUT``): a Secret Service
that never answers on D-Bus must not hang the command.
"""

import configparser
import logging
import os
import stat
import tempfile
import threading
from typing import Any, Callable, Dict, Optional, TypeVar

from pydas.exceptions import PydasException

__all__ = [
    "KEYRING",
    "FILE",
    "KEYRING_SERVICE",
    "KEYRING_TIMEOUT",
    "SecretStoreError",
    "keyring_available",
    "read_secret",
    "write_secret",
    "delete_secret",
    "write_private_file",
]

logger = logging.getLogger("pydas")

#: The names of the two stores, as recorded in the configuration file.
KEYRING = "keyring"
FILE = "file"
#: The keyring service name: one entry per server URL, the e-mail as user name.
KEYRING_SERVICE = "pydas"
#: Seconds a keyring call may take before pydas gives up on it.
KEYRING_TIMEOUT = 10.0

T = TypeVar("T")


class SecretStoreError(PydasException):
    """The stored API key cannot be read or written (keyring failure, unsafe file)."""


def _keyring_timeout() -> float:
    value = os.environ.get("PYDAS_KEYRING_TIMEOUT", "")
    try:
        return float(value) if value else KEYRING_TIMEOUT
    except ValueError:
        return KEYRING_TIMEOUT


def _with_deadline(what: str, function: Callable[[], T]) -> T:
    """Run a keyring call on a daemon thread; raise if it fails or does not return in time."""
    outcome: Dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = function()
        except Exception as error:  # a backend may raise anything
            outcome["error"] = error

    worker = threading.Thread(target=run, name="pydas-keyring", daemon=True)
    worker.start()
    timeout = _keyring_timeout()
    worker.join(timeout)
    if worker.is_alive():
        raise SecretStoreError(
            f"the system keyring did not answer within {timeout:g} s while {what}"
        )
    if "error" in outcome:
        error = outcome["error"]
        raise SecretStoreError(
            f"the system keyring failed while {what}: {type(error).__name__}: {error}"
        )
    return outcome["value"]  # type: ignore[no-any-return]


def _keyring_module() -> Any:
    if os.environ.get("PYDAS_KEYRING", "").strip().lower() in ("0", "no", "false", "off"):
        return None
    try:
        import keyring
    except ImportError:
        return None
    return keyring


def _usable_backend(keyring: Any) -> bool:
    from keyring.backends import fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return False
    try:
        return float(backend.priority) > 0
    except Exception:  # a backend whose priority cannot even be computed is not usable
        return False


def keyring_available() -> bool:
    """Whether the system keyring can be used here (never hangs, never raises).

    :returns: ``False`` without the ``keyring`` package, with ``PYDAS_KEYRING=0``,
        when its only backends are the "fail" or "null" ones, or when it does
        not answer in time
    """
    keyring = _keyring_module()
    if keyring is None:
        return False
    try:
        return _with_deadline("looking for a keyring backend", lambda: _usable_backend(keyring))
    except SecretStoreError as error:
        logger.warning("%s; the API key is kept in a file instead", error)
        return False


def _credentials_file(config_dir: str) -> str:
    return os.path.join(config_dir, "credentials.ini")


def _read_credentials(config_dir: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    path = _credentials_file(config_dir)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return parser
    if os.name == "posix" and stat.S_IMODE(info.st_mode) & 0o077:
        raise SecretStoreError(
            f"{path} can be read by other users: make it private (chmod 600 {path}) "
            "or delete it and run `pydas login` again"
        )
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, configparser.Error) as error:
        raise SecretStoreError(f"cannot read {path}: {error}") from None
    return parser


def write_private_file(path: str, text: str) -> None:
    """Replace ``path`` atomically with ``text``, readable by the user only.

    The directory is created with mode 0700 if it is missing.

    :param path: the file to write
    :param text: its new content
    """
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".pydas-", dir=directory)  # mode 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _write_credentials(config_dir: str, parser: configparser.ConfigParser) -> None:
    from io import StringIO

    text = StringIO()
    parser.write(text)
    write_private_file(_credentials_file(config_dir), text.getvalue())


def read_secret(store: str, config_dir: str, url: str, email: str) -> Optional[str]:
    """Return the API key stored for ``email`` on ``url``, or ``None``.

    :param store: :data:`KEYRING` or :data:`FILE`
    :param config_dir: the directory of ``credentials.ini``
    :param url: the server URL the key belongs to
    :param email: the account's e-mail address
    :raises SecretStoreError: when the store cannot be read
    """
    if store == KEYRING:
        keyring = _keyring_module()
        if keyring is None:
            raise SecretStoreError(
                "the API key was stored in the system keyring, which is not available now "
                "(install pydas[keyring], or unset PYDAS_KEYRING)"
            )
        value = _with_deadline(
            "reading the API key", lambda: keyring.get_password(f"{KEYRING_SERVICE}:{url}", email)
        )
        return None if value is None else str(value)
    parser = _read_credentials(config_dir)
    if parser.has_section(url) and parser.get(url, "email", fallback=None) == email:
        return parser.get(url, "api_key", fallback=None)
    return None


def write_secret(store: str, config_dir: str, url: str, email: str, api_key: str) -> None:
    """Store the API key of ``email`` on ``url``.

    :param store: :data:`KEYRING` or :data:`FILE`
    :param config_dir: the directory of ``credentials.ini``
    :param url: the server URL
    :param email: the account's e-mail address
    :param api_key: the key
    :raises SecretStoreError: when the store cannot be written
    """
    if store == KEYRING:
        keyring = _keyring_module()
        if keyring is None:
            raise SecretStoreError("the system keyring is not available")
        _with_deadline(
            "storing the API key",
            lambda: keyring.set_password(f"{KEYRING_SERVICE}:{url}", email, api_key),
        )
        return
    parser = _read_credentials(config_dir)
    if not parser.has_section(url):
        parser.add_section(url)
    parser.set(url, "email", email)
    parser.set(url, "api_key", api_key)
    try:
        _write_credentials(config_dir, parser)
    except OSError as error:
        raise SecretStoreError(f"cannot write {_credentials_file(config_dir)}: {error}") from None


def delete_secret(store: str, config_dir: str, url: str, email: str) -> bool:
    """Remove the stored API key of ``email`` on ``url``.

    :returns: whether there was one
    :raises SecretStoreError: when the store cannot be changed
    """
    if store == KEYRING:
        keyring = _keyring_module()
        if keyring is None:
            raise SecretStoreError("the system keyring is not available")
        from keyring.errors import PasswordDeleteError

        def delete() -> bool:
            try:
                keyring.delete_password(f"{KEYRING_SERVICE}:{url}", email)
            except PasswordDeleteError:
                return False
            return True

        return _with_deadline("removing the API key", delete)
    parser = _read_credentials(config_dir)
    if not parser.has_section(url):
        return False
    parser.remove_section(url)
    try:
        _write_credentials(config_dir, parser)
    except OSError as error:
        raise SecretStoreError(f"cannot write {_credentials_file(config_dir)}: {error}") from None
    return True
