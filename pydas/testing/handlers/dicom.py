"""The ``dicomextractor`` module: DICOM header tags become item metadata (§4.10)."""

import json
from typing import Any, Dict

from pydas.testing.answers import ApiError
from pydas.testing.backend.records import revision_dict
from pydas.testing.dispatch import Context, module_method
from pydas.testing.handlers.common import writable_item

__all__ = []


@module_method("dicomextractor", "extract")
def dicom_extract(ctx: Context) -> Any:
    """Store DICOM header tags of the head revision's files as metadata."""
    (item_id,) = ctx.require("item")
    item = writable_item(ctx, item_id)
    backend = ctx.backend
    items = backend.items
    head = items.head(item["item_id"])
    if head is None:
        raise ApiError(-151, "The item has no revisions")
    bitstreams = items.bitstreams(head["itemrevision_id"])
    # Like the real module, only the first file is read.
    if bitstreams and bitstreams[0]["mimetype"] != "url":
        for keyword, value in backend.files.dicom_tags(bitstreams[0]["checksum"]):
            items.set_metadata(head["itemrevision_id"], "DICOM", value, keyword)
    inner: Dict[str, Any] = {"_model": "ItemRevision", "_key": "itemrevision_id", "saved": True}
    for key, value in revision_dict(head).items():
        inner[key] = None if value is None else str(value)
    return json.dumps(inner, separators=(",", ":"))
