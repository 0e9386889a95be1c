"""The ``thumbnailcreator`` module: thumbnail records (midas-web-api.md §4.11).

No image is processed: a thumbnail record points to the source file's content.
"""

from typing import Any, Optional

from pydas.testing.answers import ApiError
from pydas.testing.backend import Row
from pydas.testing.backend.records import item_dict
from pydas.testing.backend.values import as_int
from pydas.testing.dispatch import Context, module_method
from pydas.testing.handlers.common import writable_item

__all__ = []


def _item(ctx: Context) -> Row:
    if not ctx.has("itemId") and not ctx.has("id"):
        raise ApiError(-150, "Parameter id is not defined")
    return writable_item(ctx, ctx.get("itemId", ctx.get("id")))


def _source(bitstream: Optional[Row]) -> Row:
    if bitstream is None or bitstream["mimetype"] == "url":
        raise ApiError(-100, "Could not create thumbnail from the bitstream")
    return bitstream


@module_method("thumbnailcreator", "create.big.thumbnail")
def create_big_thumbnail(ctx: Context) -> Any:
    """Record a big thumbnail of one bitstream for an item."""
    item = _item(ctx)
    backend = ctx.backend
    # The server does not check bitstreamId; a missing one fails like an unknown one.
    source = _source(backend.items.bitstream(as_int(ctx.get("bitstreamId"))))
    return backend.thumbnails.set_big(item["item_id"], source)


@module_method("thumbnailcreator", "create.small.thumbnail")
def create_small_thumbnail(ctx: Context) -> Any:
    """Record a small thumbnail of the head revision's first bitstream."""
    item = _item(ctx)
    backend = ctx.backend
    items = backend.items
    head = items.head(item["item_id"])
    if head is None:
        raise ApiError(-151, "The head revision of the item does not contain any revisions")
    bitstreams = items.bitstreams(head["itemrevision_id"])
    if not bitstreams:
        raise ApiError(-151, "The head revision of the item does not contain any bitstreams")
    backend.thumbnails.set_small(item, _source(bitstreams[0]))
    return item_dict(items.reload(item["item_id"]))
