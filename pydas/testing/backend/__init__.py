"""The emulator's backend: the only code that runs SQL or touches stored files.

:class:`Backend` opens one data directory — ``midas.sqlite``, ``assetstore/``
(file contents, once per MD5) and ``uploads/`` (one file per open upload
token) — and offers the server's model by resource: :attr:`~Backend.users`,
:attr:`~Backend.communities`, :attr:`~Backend.folders`, :attr:`~Backend.items`
(with revisions, bitstreams, metadata), :attr:`~Backend.policies`,
:attr:`~Backend.files`, :attr:`~Backend.uploads`, and the module tables. It
knows nothing of HTTP: the handlers of :mod:`pydas.testing.handlers` parse a
call's parameters and call it, inside a read or write session
(:meth:`Backend.read`, :meth:`Backend.write`).
"""

import os
from typing import ContextManager, Dict, Optional, Tuple

from pydas.testing.backend.access import ADMIN, ANONYMOUS, NONE, READ, WRITE, Caller, Policies
from pydas.testing.backend.communities import Communities
from pydas.testing.backend.database import Database, Row
from pydas.testing.backend.files import CHUNK_SIZE, Assets
from pydas.testing.backend.folders import Folders
from pydas.testing.backend.items import Items
from pydas.testing.backend.modules import Batchmake, Thumbnails
from pydas.testing.backend.tracker import Tracker
from pydas.testing.backend.tracker_legacy import LegacyTracker
from pydas.testing.backend.uploads import Uploads
from pydas.testing.backend.users import Users

__all__ = ["Backend", "Caller", "ANONYMOUS", "Row", "NONE", "READ", "WRITE", "ADMIN",
           "CHUNK_SIZE"]


class Backend:
    """The state of one emulator data directory.

    :param data_dir: the directory (created if missing).
    """

    def __init__(self, data_dir: str) -> None:
        os.makedirs(data_dir, exist_ok=True)
        self.data_dir = data_dir
        self.db = Database(os.path.join(data_dir, "midas.sqlite"))
        self.files = Assets(os.path.join(data_dir, "assetstore"))
        self.uploads = Uploads(os.path.join(data_dir, "uploads"))
        self.policies = Policies(self.db)
        self.users = Users(self.db, self)
        self.folders = Folders(self.db, self)
        self.items = Items(self.db, self)
        self.communities = Communities(self.db, self)
        self.thumbnails = Thumbnails(self.db, self)
        self.tracker = Tracker(self.db)
        self.legacy_tracker = LegacyTracker(self.db)
        self.batchmake = Batchmake(self.db)
        self.items.define_predefined_metadata()

    @property
    def upload_dir(self) -> str:
        """The directory of the upload tokens' files."""
        return self.uploads.directory

    @property
    def statements(self) -> int:
        """SQL statements run since the data directory was opened."""
        return self.db.statements

    def asset_path(self, checksum: str) -> str:
        """Return the file holding the stored content with this MD5.

        :param checksum: MD5 hex digest.
        :returns: its path (it exists once such content was stored).
        """
        return self.files.path(checksum)

    def resource_by_uuid(self, uuid: str) -> Tuple[str, Optional[Row]]:
        """Find what a uuid names, looking as the real server does.

        :returns: ``(kind, row)`` with kind ``community``, ``folder``, ``item``,
            ``revision`` or ``user``; ``("", None)`` when nothing has that uuid.
        """
        lookups = (("community", self.communities.by_uuid), ("folder", self.folders.by_uuid),
                   ("item", self.items.by_uuid), ("revision", self.items.by_revision_uuid),
                   ("user", self.users.by_uuid))
        for kind, lookup in lookups:
            row = lookup(uuid)
            if row is not None:
                return kind, row
        return "", None

    def count_bitstreams(self, folder_id: int, caller: Caller) -> Dict[str, int]:
        """Count the head bitstreams (and their bytes) of the readable tree below a folder."""
        totals = {"size": 0, "count": 0}
        for child in self.folders.children(folder_id, caller):
            below = self.count_bitstreams(child["folder_id"], caller)
            totals["size"] += below["size"]
            totals["count"] += below["count"]
        for item in self.items.in_folder(folder_id, caller):
            head = self.items.head_totals(item["item_id"])
            totals["size"] += head["size"]
            totals["count"] += head["count"]
        return totals

    def read(self) -> ContextManager[None]:
        """A session for a block that only reads (see :class:`~.database.Database`)."""
        return self.db.read()

    def write(self) -> ContextManager[None]:
        """A session for a block that writes: one transaction."""
        return self.db.write()

    def close(self) -> None:
        """Forget late upload bytes and close the database."""
        self.uploads.close()
        self.db.close()
