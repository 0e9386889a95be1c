"""The records the emulator hands to tests: accounts it created and requests it saw."""

import re
from dataclasses import dataclass, field
from typing import Dict, Optional

__all__ = ["UserRecord", "CommunityRecord", "RequestRecord", "mask_secrets"]

_SECRET_PARAMS = frozenset(
    {"token", "password", "apikey", "authtoken", "uploadtoken", "otp", "mfatokenid"}
)


@dataclass
class UserRecord:
    """A user created through :meth:`MidasServer.create_user`."""

    user_id: str
    email: str
    password: str = field(repr=False)
    api_key: str = field(repr=False)
    firstname: str
    lastname: str
    admin: bool
    folder_id: str
    private_folder_id: str
    public_folder_id: str


@dataclass
class CommunityRecord:
    """A community created through :meth:`MidasServer.create_community`."""

    community_id: str
    name: str
    folder_id: str
    public_folder_id: Optional[str]
    private_folder_id: str


def _masked(params: Dict[str, str]) -> Dict[str, str]:
    return {key: ("***" if key.lower() in _SECRET_PARAMS else value)
            for key, value in params.items()}


#: ``name=value`` of a secret parameter inside a logged request line.
_SECRET_IN_TEXT = re.compile(r"(?i)\b(" + "|".join(sorted(_SECRET_PARAMS)) + r")=[^&\s'\"]*")


def mask_secrets(text: str) -> str:
    """Replace the values of secret parameters in a logged text by ``***``."""
    return _SECRET_IN_TEXT.sub(r"\1=***", text)


@dataclass
class RequestRecord:
    """One request as the emulator saw it (see :attr:`MidasServer.request_log`).

    :param verb: HTTP verb.
    :param path: URL path after the base path, e.g. ``/api/json`` or ``/download/``.
    :param api_method: canonical lower-case method name (``midas.item.get``); the
        lower-cased name as sent if it does not resolve; ``None`` for non-API requests.
    :param params: merged parameters (query string over form body).
    :param body_bytes: request body bytes the server read.
    :param status: HTTP status sent, ``0`` if the connection was dropped without one.
    :param response_bytes: response body bytes sent.
    :param query: the parameters that came in the query string alone.
    """

    verb: str
    path: str
    api_method: Optional[str]
    params: Dict[str, str]
    body_bytes: int
    status: int
    response_bytes: int
    query: Dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"RequestRecord(verb={self.verb!r}, path={self.path!r}, "
            f"api_method={self.api_method!r}, params={_masked(self.params)!r}, "
            f"body_bytes={self.body_bytes}, status={self.status}, "
            f"response_bytes={self.response_bytes}, query={_masked(self.query)!r})"
        )
