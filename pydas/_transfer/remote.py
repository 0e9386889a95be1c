"""The server as the transfer engine sees it: calls made with the current token.

A :class:`Remote` hands the current API token to each communicator call, as
the ``token`` keyword, and renews the token once when the server reports it
expired. Every other argument is passed by keyword too, so a call reads the
same whatever position ``token`` has in the driver method's signature.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, TypeVar

from pydas import exceptions

__all__ = ["Remote", "head_revision"]

T = TypeVar("T")


class Remote:
    """The communicator plus the token handling of the high-level API.

    :param communicator: a :class:`pydas.core.Communicator`
    :param get_token: returns the current API token
    :param renew: called with the token that was refused; returns a fresh one
    """

    def __init__(
        self,
        communicator: Any,
        get_token: Callable[[], str],
        renew: Callable[[str], str],
    ) -> None:
        self.communicator = communicator
        self._get_token = get_token
        self._renew = renew

    @property
    def token(self) -> str:
        """The current API token."""
        return self._get_token()

    def call(self, function: Callable[..., T], **kwargs: Any) -> T:
        """Call ``function(token=<token>, **kwargs)``, renewing an expired token once.

        :param function: a communicator method with a ``token`` parameter
        :param kwargs: its other arguments, by name
        :returns: what ``function`` returns
        """
        token = self._get_token()
        try:
            return function(token=token, **kwargs)
        except exceptions.InvalidToken:
            return function(token=self._renew(token), **kwargs)


def head_revision(item: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """Return the revision with the largest number from an ``item_get`` answer.

    The server lists revisions in database order, so the last one is not
    necessarily the head (midas-web-api.md §3.2).

    :param item: the answer of ``midas.item.get``
    :returns: the head revision, or ``None`` if the item has none
    """
    revisions = item.get("revisions") or []
    if not revisions:
        return None
    return max(revisions, key=lambda revision: int(revision["revision"]))
