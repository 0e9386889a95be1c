"""Module-global state behind the high-level functions of :mod:`pydas`.

The old pydas kept one implicit login per interpreter, and scripts written for
it rely on that: :func:`pydas.login` stores the communicator and token here,
and :func:`pydas.upload` / :func:`pydas.download` read them back. Everything the
high-level API remembers between calls lives in this module and nowhere else,
so :func:`reset` returns the library to its freshly imported state (tests use it
between cases).
"""

from typing import TYPE_CHECKING, Any, Callable, List, Optional

if TYPE_CHECKING:
    from pydas.core import Communicator

__all__ = [
    "communicator",
    "token",
    "email",
    "api_key",
    "application",
    "url",
    "verify_ssl_certificate",
    "item_upload_callbacks",
    "item_download_callbacks",
    "folder_download_callbacks",
    "existing_download_paths_allowed",
    "reset",
]

#: The :class:`pydas.core.Communicator` of the current login, or ``None``.
communicator: "Optional[Communicator]" = None
#: The API token of the current login, or ``None``.
token: Optional[str] = None
#: The e-mail address used to log in.
email: Optional[str] = None
#: The API key used to log in (kept so that an expired token can be renewed).
api_key: Optional[str] = None
#: The application name the API key belongs to.
application: str = "Default"
#: The server URL of the current login.
url: Optional[str] = None
#: Whether TLS certificates are verified.
verify_ssl_certificate: bool = True
#: Called as ``cb(communicator, token, item_id)`` after each uploaded item.
item_upload_callbacks: List[Callable[..., Any]] = []
#: Called as ``cb(communicator, token, item, local_path)`` after each downloaded item.
item_download_callbacks: List[Callable[..., Any]] = []
#: Called as ``cb(communicator, token, folder, local_path)`` after each downloaded folder.
folder_download_callbacks: List[Callable[..., Any]] = []
#: Whether :func:`pydas.download` may write into directories that already exist.
existing_download_paths_allowed: bool = False


def reset() -> None:
    """Forget the login and every registered callback; close the communicator."""
    global communicator, token, email, api_key, application, url
    global verify_ssl_certificate, existing_download_paths_allowed
    global item_upload_callbacks, item_download_callbacks, folder_download_callbacks
    if communicator is not None:
        communicator.close()
    communicator = None
    token = None
    email = None
    api_key = None
    application = "Default"
    url = None
    verify_ssl_certificate = True
    item_upload_callbacks = []
    item_download_callbacks = []
    folder_download_callbacks = []
    existing_download_paths_allowed = False
