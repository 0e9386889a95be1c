"""Items, the folders they are linked into, their revisions, bitstreams and metadata."""

from typing import TYPE_CHECKING, Any, Iterable, List, Optional

from pydas.testing.backend.access import ADMIN, READ, Caller
from pydas.testing.backend.database import Database, Row
from pydas.testing.backend.folders import FOLDER_ROWS
from pydas.testing.backend.values import new_uuid, timestamp

if TYPE_CHECKING:
    from pydas.testing.backend import Backend

__all__ = ["Items", "ITEM_ROWS"]

#: Item rows with their ``public`` column (see :mod:`~pydas.testing.backend.records`).
ITEM_ROWS = (
    "SELECT i.*, EXISTS (SELECT 1 FROM itempolicygroup p WHERE p.item_id = i.item_id "
    "AND p.group_id = 0) AS public FROM item i"
)

_PREDEFINED_METADATA = (
    ("contributor", "author"),
    ("date", "uploaded"),
    ("date", "issued"),
    ("date", "created"),
    ("identifier", "citation"),
    ("identifier", "uri"),
    ("identifier", "pubmed"),
    ("identifier", "doi"),
    ("description", "general"),
    ("description", "provenance"),
    ("description", "sponsorship"),
    ("description", "publisher"),
    ("subject", "keyword"),
    ("subject", "ocis"),
)


class Items:
    """Items and everything below them.

    :param db: the database.
    :param backend: the whole backend (for policies).
    """

    def __init__(self, db: Database, backend: "Backend") -> None:
        self.db = db
        self.backend = backend

    def define_predefined_metadata(self) -> None:
        """Define the metadata fields a fresh server knows (once per database)."""
        with self.db.write():
            if self.db.one("SELECT 1 FROM metadata LIMIT 1") is None:
                for element, qualifier in _PREDEFINED_METADATA:
                    self.db.insert("metadata", metadatatype=0, element=element,
                                   qualifier=qualifier)

    # -- items --------------------------------------------------------------------------------

    def get(self, item_id: int) -> Optional[Row]:
        """Return the item with this id, or ``None``."""
        return self.db.one(f"{ITEM_ROWS} WHERE i.item_id = ?", (item_id,))

    def get_for(self, item_id: int, caller: Caller) -> Optional[Row]:
        """Return the item with this id and the caller's ``level`` on it, or ``None``."""
        expression, values = self.backend.policies.level_sql("item", "i", caller)
        select = ITEM_ROWS.replace(" FROM item i", f", {expression} AS level FROM item i")
        return self.db.one(f"{select} WHERE i.item_id = ?", (*values, item_id))

    def reload(self, item_id: int) -> Row:
        """Return the item with this id as it is now (it must exist)."""
        row = self.get(item_id)
        assert row is not None, "the item vanished"
        return row

    def by_uuid(self, uuid: str) -> Optional[Row]:
        """Return the item with this uuid, or ``None``."""
        return self.db.one(f"{ITEM_ROWS} WHERE i.uuid = ?", (uuid,))

    def named(self, name: Any) -> List[Row]:
        """Return every item with this exact name, oldest first."""
        return self.db.all(f"{ITEM_ROWS} WHERE i.name = ? ORDER BY i.item_id", (name,))

    def matching(self, pattern: str, caller: Caller, limit: int) -> List[Row]:
        """Return readable items whose name or description is LIKE ``pattern``, oldest first."""
        expression, values = self.backend.policies.level_sql("item", "i", caller)
        return self.db.all(
            f"{ITEM_ROWS} WHERE (i.name LIKE ? OR i.description LIKE ?) AND {expression} >= ? "
            "ORDER BY i.item_id LIMIT ?",
            (pattern, pattern, *values, READ, limit),
        )

    def readable(self, caller: Caller) -> List[Row]:
        """Return every item the caller may read, oldest first."""
        expression, values = self.backend.policies.level_sql("item", "i", caller)
        return self.db.all(f"{ITEM_ROWS} WHERE {expression} >= ? ORDER BY i.item_id",
                           (*values, READ))

    def in_folder(self, folder_id: int, caller: Optional[Caller] = None,
                  level: int = READ) -> List[Row]:
        """Return the items linked into a folder sorted by name.

        :param folder_id: the folder.
        :param caller: keep only the items this caller holds ``level`` on (all when ``None``).
        :param level: the level needed.
        :returns: the item rows.
        """
        rows = f"{ITEM_ROWS} JOIN item2folder l ON l.item_id = i.item_id WHERE l.folder_id = ?"
        if caller is None:
            return self.db.all(f"{rows} ORDER BY i.name, i.item_id", (folder_id,))
        expression, values = self.backend.policies.level_sql("item", "i", caller)
        return self.db.all(f"{rows} AND {expression} >= ? ORDER BY i.name, i.item_id",
                           (folder_id, *values, level))

    def ids_in(self, folder_id: int) -> List[int]:
        """Return the ids of the items linked into a folder."""
        return [row["item_id"] for row in
                self.db.all("SELECT item_id FROM item2folder WHERE folder_id = ?", (folder_id,))]

    def folders(self, item_id: int) -> List[Row]:
        """Return the folders an item is linked into, in linking order."""
        return self.db.all(
            f"{FOLDER_ROWS} JOIN item2folder l ON l.folder_id = f.folder_id "
            "WHERE l.item_id = ? ORDER BY l.link_id",
            (item_id,),
        )

    def folder_ids(self, item_id: int) -> List[int]:
        """Return the ids of the folders an item is linked into, in linking order."""
        return [row["folder_id"] for row in self.db.all(
            "SELECT folder_id FROM item2folder WHERE item_id = ? ORDER BY link_id", (item_id,))]

    def first_folder_id(self, item_id: int, caller: Optional[Caller] = None) -> Optional[int]:
        """Return the first folder an item is linked into (that the caller may read)."""
        if caller is None:
            ids = self.folder_ids(item_id)
            return ids[0] if ids else None
        expression, values = self.backend.policies.level_sql("folder", "f", caller)
        row = self.db.one(
            "SELECT f.folder_id FROM item2folder l JOIN folder f ON f.folder_id = l.folder_id "
            f"WHERE l.item_id = ? AND {expression} >= ? ORDER BY l.link_id LIMIT 1",
            (item_id, *values, READ),
        )
        return None if row is None else int(row["folder_id"])

    def named_in(self, folder_id: int, name: Any) -> Optional[Row]:
        """Return the first item of this exact name linked into a folder, or ``None``."""
        return self.db.one(
            f"{ITEM_ROWS} JOIN item2folder l ON l.item_id = i.item_id "
            "WHERE l.folder_id = ? AND i.name = ? ORDER BY i.item_id LIMIT 1",
            (folder_id, name),
        )

    def by_revision_uuid(self, uuid: str) -> Optional[Row]:
        """Return the revision with this uuid, or ``None``."""
        return self.db.one("SELECT * FROM itemrevision WHERE uuid = ?", (uuid,))

    def duplicate(self, item: Row, user_id: int, folder_id: int) -> int:
        """Copy an item into a folder: its revisions, their metadata and bitstream records.

        :returns: the new item's id.
        """
        copy_id = self.create(item["name"], folder_id, user_id, item["description"] or "")
        self.update(copy_id, type=item["type"], sizebytes=item["sizebytes"])
        for revision in self.revisions(item["item_id"]):
            copy = self.db.insert(
                "itemrevision", item_id=copy_id, revision=revision["revision"],
                date=revision["date"], changes=revision["changes"], user_id=user_id,
                license_id=revision["license_id"], uuid=new_uuid(),
            )
            source = revision["itemrevision_id"]
            self.db.run(
                "INSERT INTO metadatavalue (itemrevision_id, metadata_id, value) "
                "SELECT ?, metadata_id, value FROM metadatavalue WHERE itemrevision_id = ?",
                (copy, source),
            )
            self.db.run(
                "INSERT INTO bitstream (itemrevision_id, assetstore_id, name, mimetype, "
                "sizebytes, checksum, path, date) SELECT ?, assetstore_id, name, mimetype, "
                "sizebytes, checksum, path, date FROM bitstream WHERE itemrevision_id = ? "
                "ORDER BY bitstream_id",
                (copy, source),
            )
        return copy_id

    def unique_name(self, folder_id: int, name: str) -> str:
        """Return ``name``, or ``name (n)`` with the first free n, within a folder."""
        taken = {
            row["name"]
            for row in self.db.all(
                "SELECT i.name FROM item2folder l JOIN item i ON i.item_id = l.item_id "
                "WHERE l.folder_id = ? AND (i.name = ? OR i.name LIKE ?)",
                (folder_id, name, f"{name} (%)"),
            )
        }
        if name not in taken:
            return name
        number = 1
        while f"{name} ({number})" in taken:
            number += 1
        return f"{name} ({number})"

    def is_linked(self, item_id: int, folder_id: int) -> bool:
        """Tell whether an item is linked into a folder."""
        return self.db.one("SELECT 1 FROM item2folder WHERE item_id = ? AND folder_id = ?",
                           (item_id, folder_id)) is not None

    def link(self, item_id: int, folder_id: int) -> None:
        """Link an item into a folder (no-op if already linked)."""
        if not self.is_linked(item_id, folder_id):
            self.db.insert("item2folder", item_id=item_id, folder_id=folder_id)

    def unlink(self, item_id: int, folder_id: int) -> None:
        """Remove an item from a folder."""
        self.db.run("DELETE FROM item2folder WHERE item_id = ? AND folder_id = ?",
                    (item_id, folder_id))

    def create(self, name: str, folder_id: int, creator_id: Optional[int],
               description: str = "", uuid: Optional[str] = None) -> int:
        """Create an item in a folder: unique name, parent policies, Admin for the creator.

        :param creator_id: the user who gets Admin, or ``None`` for no explicit grant.
        :returns: the new item id.
        """
        now = timestamp()
        item_id = self.db.insert(
            "item", name=self.unique_name(folder_id, name), description=description,
            date_creation=now, date_update=now, uuid=uuid or new_uuid(),
        )
        self.db.insert("item2folder", item_id=item_id, folder_id=folder_id)
        policies = self.backend.policies
        policies.copy("folder", folder_id, "item", item_id)
        if creator_id is not None:
            policies.grant("item", item_id, ADMIN, user_id=creator_id)
        return item_id

    def update(self, item_id: int, **changes: Any) -> None:
        """Change columns of an item."""
        self.db.update("item", "item_id", item_id, **changes)

    def count_download(self, item_id: int) -> None:
        """Add one to an item's download counter (in its own write session)."""
        with self.db.write():
            self.db.run("UPDATE item SET download = download + 1 WHERE item_id = ?", (item_id,))

    def delete(self, item_id: int) -> None:
        """Delete an item everywhere: links, revisions, bitstream records, policies."""
        revisions = "SELECT itemrevision_id FROM itemrevision WHERE item_id = ?"
        self.db.run(f"DELETE FROM bitstream WHERE itemrevision_id IN ({revisions})", (item_id,))
        self.db.run(f"DELETE FROM metadatavalue WHERE itemrevision_id IN ({revisions})",
                    (item_id,))
        self.db.run(
            "DELETE FROM bitstream WHERE bitstream_id IN "
            "(SELECT thumbnail_id FROM item WHERE item_id = ? "
            "UNION SELECT thumbnail_id FROM itemthumbnail WHERE item_id = ?)",
            (item_id, item_id),
        )
        self.backend.policies.remove_all("item", item_id)
        for table in ("itemrevision", "item2folder", "itemthumbnail", "item"):
            self.db.run(f"DELETE FROM {table} WHERE item_id = ?", (item_id,))

    # -- revisions ----------------------------------------------------------------------------

    def revisions(self, item_id: int) -> List[Row]:
        """Return the revisions of an item in database order."""
        return self.db.all(
            "SELECT * FROM itemrevision WHERE item_id = ? ORDER BY itemrevision_id", (item_id,)
        )

    def head(self, item_id: int) -> Optional[Row]:
        """Return the revision with the largest number, or ``None``."""
        return self.db.one(
            "SELECT * FROM itemrevision WHERE item_id = ? ORDER BY revision DESC LIMIT 1",
            (item_id,),
        )

    def revision(self, item_id: int, number: int) -> Optional[Row]:
        """Return revision ``number`` of an item, or ``None``."""
        return self.db.one(
            "SELECT * FROM itemrevision WHERE item_id = ? AND revision = ?", (item_id, number)
        )

    def create_revision(self, item_id: int, user_id: int, changes: str = "",
                        license_id: Any = None) -> Row:
        """Append a revision numbered one past the current head.

        :returns: the revision row.
        """
        head = self.head(item_id)
        number = 1 if head is None else head["revision"] + 1
        revision_id = self.db.insert(
            "itemrevision", item_id=item_id, revision=number, date=timestamp(),
            changes=changes, user_id=user_id, license_id=license_id, uuid=new_uuid(),
        )
        row = self.db.one("SELECT * FROM itemrevision WHERE itemrevision_id = ?", (revision_id,))
        assert row is not None
        return row

    def set_changes(self, revision_id: int, changes: str) -> None:
        """Replace the change note of a revision."""
        self.db.update("itemrevision", "itemrevision_id", revision_id, changes=changes)

    # -- bitstreams ---------------------------------------------------------------------------

    def bitstreams(self, revision_id: int) -> List[Row]:
        """Return the bitstreams of a revision in database order."""
        return self.db.all(
            "SELECT * FROM bitstream WHERE itemrevision_id = ? ORDER BY bitstream_id",
            (revision_id,),
        )

    def bitstreams_of(self, revision_ids: Iterable[int]) -> List[Row]:
        """Return the bitstreams of several revisions, by revision and then database order."""
        ids = list(revision_ids)
        if not ids:
            return []
        marks = ",".join("?" for _ in ids)
        return self.db.all(
            f"SELECT * FROM bitstream WHERE itemrevision_id IN ({marks}) "
            "ORDER BY itemrevision_id, bitstream_id",
            ids,
        )

    def bitstream(self, bitstream_id: int) -> Optional[Row]:
        """Return a bitstream with the item its revision belongs to (``owner_item``)."""
        return self.db.one(
            "SELECT b.*, r.item_id AS owner_item FROM bitstream b "
            "LEFT JOIN itemrevision r ON r.itemrevision_id = b.itemrevision_id "
            "WHERE b.bitstream_id = ?",
            (bitstream_id,),
        )

    def bitstreams_with_checksum(self, checksum: Any) -> List[Row]:
        """Return the bitstreams of items with this checksum (``owner_item`` set), oldest first."""
        return self.db.all(
            "SELECT b.*, r.item_id AS owner_item FROM bitstream b "
            "JOIN itemrevision r ON r.itemrevision_id = b.itemrevision_id "
            "WHERE b.checksum = ? ORDER BY b.bitstream_id",
            (checksum,),
        )

    def known_content(self, checksum: Any) -> Optional[Row]:
        """Return the oldest file bitstream (not a link) with this checksum, or ``None``."""
        return self.db.one(
            "SELECT b.*, r.item_id AS owner_item FROM bitstream b "
            "JOIN itemrevision r ON r.itemrevision_id = b.itemrevision_id "
            "WHERE b.checksum = ? AND b.mimetype != 'url' ORDER BY b.bitstream_id LIMIT 1",
            (checksum,),
        )

    def add_bitstream(self, revision: Row, name: str, mimetype: str, size: int,
                      checksum: str, path: str) -> int:
        """Add a bitstream to a revision and update the item's size and date.

        :returns: the new bitstream id.
        """
        now = timestamp()
        bitstream_id = self.db.insert(
            "bitstream", itemrevision_id=revision["itemrevision_id"], name=name,
            mimetype=mimetype, sizebytes=size, checksum=checksum, path=path, date=now,
        )
        self.db.run(
            "UPDATE item SET date_update = ?, sizebytes = (SELECT COALESCE(SUM(sizebytes), 0) "
            "FROM bitstream WHERE itemrevision_id = ?) WHERE item_id = ?",
            (now, revision["itemrevision_id"], revision["item_id"]),
        )
        return bitstream_id

    def rename_bitstream(self, bitstream_id: int, name: Any) -> None:
        """Rename a bitstream."""
        self.db.update("bitstream", "bitstream_id", bitstream_id, name=name)

    def add_loose_bitstream(self, name: str, mimetype: str, source: Row) -> int:
        """Add a bitstream outside any revision sharing a source's content (thumbnails).

        :returns: the new bitstream id.
        """
        return self.db.insert(
            "bitstream", itemrevision_id=-1, name=name, mimetype=mimetype,
            sizebytes=source["sizebytes"], checksum=source["checksum"], path=source["path"],
            date=timestamp(),
        )

    def delete_bitstream(self, bitstream_id: int) -> None:
        """Delete a bitstream record."""
        self.db.run("DELETE FROM bitstream WHERE bitstream_id = ?", (bitstream_id,))

    def edit_bitstream(self, bitstream_id: int, **changes: Any) -> None:
        """Change columns of a bitstream (``name``, ``mimetype``)."""
        self.db.update("bitstream", "bitstream_id", bitstream_id, **changes)

    def head_totals(self, item_id: int) -> Row:
        """Return ``count`` and ``size`` of the bitstreams of an item's head revision."""
        row = self.db.one(
            "SELECT COUNT(b.bitstream_id) AS count, COALESCE(SUM(b.sizebytes), 0) AS size "
            "FROM bitstream b WHERE b.itemrevision_id = (SELECT itemrevision_id FROM "
            "itemrevision WHERE item_id = ? ORDER BY revision DESC LIMIT 1)",
            (item_id,),
        )
        assert row is not None
        return row

    # -- metadata -----------------------------------------------------------------------------

    def set_metadata(self, revision_id: int, element: str, value: str, qualifier: str = "",
                     metadatatype: int = 0) -> None:
        """Set (or overwrite) one metadata value on a revision, defining it on first use.

        :param revision_id: the item revision.
        :param element: metadata element.
        :param value: the value (truncated to 1024 characters, as stored by the server).
        :param qualifier: metadata qualifier.
        :param metadatatype: the metadata type number.
        """
        metadata_id = self.metadata_id(metadatatype, element, qualifier)
        if metadata_id is None:
            metadata_id = self.db.insert(
                "metadata", metadatatype=metadatatype, element=element, qualifier=qualifier
            )
        self.db.run(
            "INSERT INTO metadatavalue (itemrevision_id, metadata_id, value) VALUES (?, ?, ?) "
            "ON CONFLICT (itemrevision_id, metadata_id) DO UPDATE SET value = excluded.value",
            (revision_id, metadata_id, value[:1024]),
        )

    def metadata_id(self, metadatatype: int, element: str, qualifier: str) -> Optional[int]:
        """Return the id of a metadata definition, or ``None`` if it is not defined."""
        row = self.db.one(
            "SELECT metadata_id FROM metadata WHERE metadatatype = ? AND element = ? "
            "AND qualifier = ?",
            (metadatatype, element, qualifier),
        )
        return None if row is None else int(row["metadata_id"])

    def delete_metadata(self, revision_id: int, metadata_id: Optional[int] = None) -> None:
        """Remove one metadata value of a revision, or all of them (``metadata_id`` ``None``)."""
        if metadata_id is None:
            self.db.run("DELETE FROM metadatavalue WHERE itemrevision_id = ?", (revision_id,))
        else:
            self.db.run("DELETE FROM metadatavalue WHERE itemrevision_id = ? AND metadata_id = ?",
                        (revision_id, metadata_id))

    def metadata(self, revision_id: int) -> List[Row]:
        """Return the metadata rows of a revision (definition fields plus ``value``)."""
        return self.db.all(
            "SELECT m.metadata_id, m.metadatatype, m.element, m.qualifier, v.value "
            "FROM metadatavalue v JOIN metadata m ON m.metadata_id = v.metadata_id "
            "WHERE v.itemrevision_id = ? ORDER BY v.rowid",
            (revision_id,),
        )
