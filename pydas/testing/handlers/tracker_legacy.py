"""The ``tracker`` module's 1.2 API, answered by ``MidasServer(tracker="1.2")``.

Scalars carry their run (revision, time, branch) and datasets, JSON results
become scalars, items are associated with scalars. ``submission.create``, which
old clients call, does not exist and answers -101 like the real server.
"""

import calendar
import json
import re
import time
from typing import Any, Dict, List, Optional

from pydas.testing.answers import ApiError
from pydas.testing.backend import ADMIN, CHUNK_SIZE, READ, WRITE, Row
from pydas.testing.backend.values import as_int, new_uuid, timestamp
from pydas.testing.dispatch import Context, module_method
from pydas.testing.handlers.common import module_require

__all__ = []

#: Largest JSON document ``results.upload.json`` accepts.
_MAX_JSON_BODY = 64 * 1024 * 1024


def _parse_time(text: str) -> str:
    value = text.strip()
    if value.lower() == "now":
        return timestamp()
    if re.fullmatch(r"-?\d+", value):
        return timestamp(float(value))
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ",
                   "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d"):
        try:
            return timestamp(calendar.timegm(time.strptime(value, layout)))
        except ValueError:
            continue
    raise ApiError(-1, f"Invalid submitTime value: {text}")


def _community(ctx: Context, official: bool) -> Row:
    backend = ctx.backend
    community = backend.communities.get(as_int(ctx.get("communityId")))
    needed = WRITE if official else READ
    if community is None or backend.policies.community_level(community,
                                                              ctx.caller()) < needed:
        raise ApiError(403, "Write permission required on community")
    return community


def _dataset_item(ctx: Context, community: Row, label: str, prefix: str) -> Optional[int]:
    backend = ctx.backend
    caller = ctx.caller()
    if ctx.has(f"{prefix}Id"):
        item = backend.items.get(as_int(ctx.get(f"{prefix}Id")))
        if item is None or backend.policies.level("item", item["item_id"], caller) < READ:
            raise ApiError(403, f"Read permission required on {label}")
        return int(item["item_id"])
    if ctx.has(f"{prefix}Name"):
        folder = backend.communities.folder(community, "Private")
        if folder is None:
            raise ApiError(
                -1, "No private folder in the given community in which to create an item"
            )
        name = ctx.get(f"{prefix}Name") or ""
        for item in backend.items.in_folder(folder["folder_id"]):
            if item["name"] == name:
                return int(item["item_id"])
        return backend.items.create(name, folder["folder_id"], caller.user_id)
    return None


def _trend(ctx: Context, community: Row, metric: str, unit: Optional[str]) -> int:
    tracker = ctx.backend.legacy_tracker
    producer_id = tracker.producer(community["community_id"],
                                   ctx.get("producerDisplayName") or "")
    config = _dataset_item(ctx, community, "config item", "configItem")
    test = _dataset_item(ctx, community, "test dataset", "testDataset")
    truth = _dataset_item(ctx, community, "truth dataset", "truthDataset")
    return tracker.trend(producer_id, metric, unit, config, test, truth)


def _store_scalar(ctx: Context, trend_id: int, value: float, submit_time: str,
                  submission_id: int, extras: bool) -> Dict[str, Any]:
    user_id = ctx.caller().user_id
    row = ctx.backend.legacy_tracker.store_scalar(
        trend_id, -1 if user_id is None else user_id, submit_time,
        submission_id=submission_id, official=0 if ctx.has("unofficial") else 1,
        build_results_url=(ctx.get("buildResultsUrl") or "") if extras else "",
        extra_urls=(ctx.get("extraUrls") or "") if extras else "",
        branch=(ctx.get("branch") or "") if extras else "",
        value=value, producer_revision=ctx.get("producerRevision") or "",
        reproduction_command=ctx.get("reproductionCommand") or "",
        params=(ctx.get("params") or "") if extras else "",
    )
    return ctx.backend.legacy_tracker.scalar_dict(row)


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _submission_id(ctx: Context) -> int:
    tracker = ctx.backend.legacy_tracker
    if ctx.has("submissionId"):
        found = tracker.submission_id(as_int(ctx.get("submissionId")))
        if found is None:
            raise ApiError(404, "Invalid submissionId")
        return found
    if ctx.has("submissionUuid"):
        uuid = ctx.get("submissionUuid") or ""
        row = tracker.submission_by_uuid(uuid)
        if row is None:
            row = tracker.create_submission(None, "", uuid)
        return int(row["submission_id"])
    return -1


@module_method("tracker", "scalar.add", variant="1.2")
def tracker_scalar_add(ctx: Context) -> Any:
    """Add one scalar value to a trend (tracker 1.2.x)."""
    module_require(ctx, "communityId", "producerDisplayName", "metricName", "value",
                   "producerRevision", "submitTime")
    community = _community(ctx, official=not ctx.has("unofficial"))
    if not (ctx.get("producerDisplayName") or "").strip():
        raise ApiError(-1, "Producer display name must not be empty")
    metric = (ctx.get("metricName") or "").strip()
    if not metric:
        raise ApiError(-1, "Metric name must not be empty")
    value = _number(ctx.get("value"))
    if value is None:
        raise ApiError(-1, "Invalid value")
    submit_time = _parse_time(ctx.get("submitTime") or "")
    trend_id = _trend(ctx, community, metric, ctx.get("unit"))
    submission_id = _submission_id(ctx)
    return _store_scalar(ctx, trend_id, value, submit_time, submission_id, True)


def _read_body(ctx: Context) -> Optional[bytes]:
    """Read the raw request body, or return ``None`` if it exceeds :data:`_MAX_JSON_BODY`."""
    parts: List[bytes] = []
    total = 0
    while ctx.body is not None:
        block = ctx.body.read(CHUNK_SIZE)
        if not block:
            break
        total += len(block)
        if total > _MAX_JSON_BODY:
            return None
        parts.append(block)
    return b"".join(parts)


@module_method("tracker", "results.upload.json", session="own", streams_body=True, variant="1.2")
def tracker_results_upload_json(ctx: Context) -> Any:
    """Turn the numeric values of a JSON document (the raw body) into scalars.

    The body is read before the write session starts, so a slow sender blocks nobody.
    """
    raw = _read_body(ctx)
    with ctx.backend.write():
        return _results_from_json(ctx, raw)


def _results_from_json(ctx: Context, raw: Optional[bytes]) -> Any:
    ctx.caller()
    module_require(ctx, "communityId", "producerDisplayName", "producerRevision")
    community = _community(ctx, official=not ctx.has("unofficial"))
    if not (ctx.get("producerDisplayName") or "").strip():
        raise ApiError(-1, "Producer display name must not be empty")
    try:
        document = json.loads(raw.decode("utf-8")) if raw is not None else None
    except (UnicodeDecodeError, ValueError):
        document = None
    if document is None:
        raise ApiError(-1, "Invalid JSON upload contents")
    submit_time = _parse_time(ctx.get("submitTime") or "now")
    containers: List[Any] = []
    if ctx.has("parentKeys"):
        for key in (ctx.get("parentKeys") or "").split(";"):
            node: Any = document
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, (dict, list)):
                raise ApiError(
                    -1, f'Specified parent key "{key}" does not exist or is not an array type'
                )
            containers.append(node)
    elif isinstance(document, (dict, list)):
        containers.append(document)
    scalars = []
    for container in containers:
        pairs = container.items() if isinstance(container, dict) else enumerate(container)
        for metric, raw_value in pairs:
            value = _number(raw_value)
            if value is None:
                continue
            trend_id = _trend(ctx, community, str(metric), None)
            scalars.append(_store_scalar(ctx, trend_id, value, submit_time, -1,
                                         ctx.has("parentKeys")))
    return scalars


@module_method("tracker", "item.associate", variant="1.2")
def tracker_item_associate(ctx: Context) -> Any:
    """Associate an item with scalars under a label."""
    scalar_ids, item_id, label = module_require(ctx, "scalarIds", "itemId", "label")
    backend = ctx.backend
    caller = ctx.caller()
    item = backend.items.get(as_int(item_id))
    if item is None:
        raise ApiError(404, "Invalid itemId")
    if backend.policies.level("item", item["item_id"], caller) < READ:
        raise ApiError(403, "Read permission on the item required")
    for scalar_text in scalar_ids.split(","):
        community = backend.legacy_tracker.community_of_scalar(as_int(scalar_text))
        if community is None:
            raise ApiError(404, f"Invalid scalarId: {scalar_text}")
        if backend.policies.community_level(community, caller) < ADMIN:
            raise ApiError(403, "Admin permission on the community required")
        backend.legacy_tracker.associate(as_int(scalar_text), item["item_id"], label)
    return ""


@module_method("tracker", "submission.add", variant="1.2")
def tracker_submission_add(ctx: Context) -> Any:
    """Create a submission for a producer (tracker 1.2.x)."""
    (producer_id,) = module_require(ctx, "producer_id")
    if ctx.user() is None:
        raise ApiError(-151, "Only authenticated users can create submissions.")
    tracker = ctx.backend.legacy_tracker
    uuid = ctx.get("uuid") or new_uuid()
    if tracker.submission_by_uuid(uuid) is not None:
        raise ApiError(-150, "That uuid is already in use.")
    row = tracker.create_submission(as_int(producer_id), ctx.get("name") or "", uuid)
    return {
        "_id": row["submission_id"],
        "_type": "Tracker_Submission",
        "submission_id": row["submission_id"],
        "producer_id": row["producer_id"],
        "name": row["name"],
        "uuid": row["uuid"],
        "submit_time": row["submit_time"],
    }
