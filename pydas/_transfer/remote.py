"""The server as the transfer engine sees it: calls made with the current token.

A :class:`Remote` hands the current API token to each communicator call, as
the ``token`` keyword, and renews the token once when the server reports it
expired. Every other argument is passed by keyword too, so a call reads the
same whatever position ``token`` has in the driver method's signature.

The named methods (:meth:`Remote.children`, :meth:`Remote.item`, ...) are
the calls the engine makes; each returns its answer checked by
:mod:`pydas._transfer.answers`.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, TypeVar

from pydas import exceptions
from pydas._transfer import answers

__all__ = ["Remote", "transient"]

T = TypeVar("T")


def transient(policy: Any, error: exceptions.PydasException) -> bool:
    """Whether a retry policy takes a failure of a transfer for a passing one.

    Transfers resume from what the server (or the part file) already holds,
    so they count as repeatable and rewindable; whether the attempts are used
    up is asked separately.

    :param policy: the communicator's :class:`~pydas.core.RetryPolicy`
    :param error: how the attempt failed
    """
    return bool(policy.should_retry(0, error, repeatable=True, rewindable=True))


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

    def _request(self, token: str, method: str, parameters: Dict[str, Any]) -> Any:
        return self.communicator.request(method, dict(parameters, token=token))

    # -- the calls of the engine, with checked answers ------------------------

    def children(self, folder_id: Any) -> answers.Listing:
        """The folders and items inside a folder (``midas.folder.children``)."""
        return answers.listing(self.call(self.communicator.folder_children, folder_id=folder_id))

    def home(self) -> List[Dict[str, Any]]:
        """The folders of the user's home, ``Private`` and ``Public`` (``midas.user.folders``)."""
        return answers.home_folders(self.call(self.communicator.list_user_folders))

    def folder(self, folder_id: Any) -> Dict[str, Any]:
        """One folder (``midas.folder.get``)."""
        return answers.folder_record(
            self.call(self.communicator.folder_get, folder_id=folder_id), "midas.folder.get"
        )

    def community_folder_id(self, name: str) -> str:
        """The id of the root folder of the community called ``name`` (``midas.community.get``)."""
        community = self.call(self.communicator.get_community_by_name, name=name)
        # folder_record checked the id is a string or an integer
        return str(answers.folder_record(community, "midas.community.get")["folder_id"])

    def item(self, item_id: Any) -> answers.Item:
        """An item with its revisions and bitstreams (``midas.item.get``)."""
        return answers.item_record(self.call(self.communicator.item_get, item_id=item_id))

    def create_item(self, name: str, folder_id: Any) -> str:
        """Create an item in a folder; returns its id (``midas.item.create``)."""
        item = self.call(self.communicator.create_item, name=name, parent_id=folder_id)
        return answers.created_id(item, "item_id", "midas.item.create")

    def create_folder(self, name: str, parent_id: Any, reuse_existing: bool) -> str:
        """Create a folder (or, with ``reuse_existing``, find it); returns its id."""
        folder = self.call(
            self.communicator.create_folder,
            name=name,
            parent_id=parent_id,
            reuse_existing=reuse_existing,
        )
        return answers.created_id(folder, "folder_id", "midas.folder.create")

    def upload_token(self, item_id: Any, filename: str, checksum: Optional[str] = None) -> str:
        """An upload token for one file of an item (``""``: the server already has it)."""
        # the communicator hands the call to its driver, which checks the token is a string
        token: str = self.call(
            self.communicator.generate_upload_token,
            item_id=item_id,
            filename=filename,
            checksum=checksum,
        )
        return token

    def new_item_token(self, folder_id: Any, name: str) -> str:
        """Create an item named ``name`` in a folder and an upload token for its file ``name``.

        One call (``midas.upload.generatetoken`` with ``folderid`` and
        ``itemname``) instead of ``item.create`` and ``generatetoken``: the
        server makes the item as ``item.create`` would (a name already in
        the folder gets a suffix, `` (1)``...). No checksum is sent, so the
        token is never empty; the item's id is in the token
        (:func:`~pydas._transfer.answers.token_item_id`) and in the answer of
        :meth:`perform`.
        """
        parameters = {"folderid": folder_id, "itemname": name, "filename": name}
        return answers.upload_token(self.call(self._request, method="midas.upload.generatetoken",
                                              parameters=parameters))

    def perform(self, parameters: Dict[str, Any], handle: Any) -> Dict[str, Any]:
        """Send a file as the raw body of ``midas.upload.perform`` (a ``PUT``).

        :param parameters: the upload token, ``filename``, ``length`` and the revision
        :param handle: an open binary file (object), read from its position to its end
        :returns: the item the file went into, checked
        """
        data = self.communicator.request("midas.upload.perform", parameters, file_payload=handle)
        return answers.uploaded_item(data)

    def delete_bitstream(self, bitstream_id: str) -> None:
        """Delete one bitstream (``midas.bitstream.delete``; needs admin rights on the item).

        The server removes the stored file too when no other bitstream uses it.
        """
        self.call(self._request, method="midas.bitstream.delete", parameters={"id": bitstream_id})
