"""The ``tracker`` module 2.0.4, as on the real server (the default).

``submission.add`` creates a run (``communityId``, ``producerDisplayName``,
``producerRevision``, ``branch`` and ``submitTime``); ``scalar.add`` adds one
value to a trend and needs ``submissionUuid`` (the submission is created if the
producer has none of that uuid); ``item.associate`` attaches an item to a
submission; ``submission.validate`` stores a submission document;
``aggregatemetrics.update`` recomputes the aggregate metrics (the emulator has
no aggregate metric specs, so there are none). ``submission.create`` and
``results.upload.json`` do not exist in this version (-101).
"""

import calendar
import json
import re
import time
from typing import Any, Dict, Optional

from pydas.testing.answers import ApiError
from pydas.testing.backend import ADMIN, READ, WRITE, Row
from pydas.testing.backend.tracker import SCALAR_FIELDS, SUBMISSION_FIELDS
from pydas.testing.backend.values import as_int, new_uuid, timestamp
from pydas.testing.dispatch import Context, module_method
from pydas.testing.handlers.common import module_require

__all__ = ["parse_submit_time"]

_LAYOUTS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M",
            "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d")


def parse_submit_time(text: Optional[str]) -> str:
    """Read a submission time the way PHP's ``strtotime`` reads the usual forms.

    :param text: ``now``, ``@<seconds>``, or a date (and time) in a common layout.
    :returns: the time as ``YYYY-MM-DD HH:MM:SS``.
    :raises ApiError: -1 ``Invalid submitTime value: ...`` for anything else.
    """
    value = (text or "").strip()
    if value.lower() == "now":
        return timestamp()
    if re.fullmatch(r"@-?\d+", value):
        return timestamp(float(value[1:]))
    for layout in _LAYOUTS:
        try:
            return timestamp(calendar.timegm(time.strptime(value, layout)))
        except ValueError:
            continue
    raise ApiError(-1, f"Invalid submitTime value: {text or ''}")


def _writable_community(ctx: Context) -> Row:
    backend = ctx.backend
    community = backend.communities.get(as_int(ctx.get("communityId")))
    if community is None or backend.policies.community_level(community, ctx.caller()) < WRITE:
        raise ApiError(403, "Write permission required on community")
    return community


def _producer(ctx: Context, community: Row) -> int:
    name = (ctx.get("producerDisplayName") or "").strip()
    if not name:
        raise ApiError(-1, "Producer display name must not be empty")
    return ctx.backend.tracker.producer(community["community_id"], name)


def _dataset(ctx: Context, community: Row, prefix: str, label: str) -> Optional[int]:
    """An item given by ``<prefix>Id``, or found (anywhere) or created by ``<prefix>Name``."""
    backend = ctx.backend
    caller = ctx.caller()
    if ctx.has(f"{prefix}Id"):
        item = backend.items.get_for(as_int(ctx.get(f"{prefix}Id")), caller)
    elif ctx.has(f"{prefix}Name"):
        name = ctx.get(f"{prefix}Name") or ""
        named = backend.items.named(name)
        if named:
            item = backend.items.get_for(named[0]["item_id"], caller)
        else:
            folder = backend.communities.folder(community, "Private")
            if folder is None or folder["public"]:
                raise ApiError(
                    -1, "No private folder in the given community in which to create an item")
            item_id = backend.items.create(name, folder["folder_id"], None)
            item = backend.items.get_for(item_id, caller)
    else:
        return None
    if item is None or item["level"] < READ:
        raise ApiError(403, f"Read permission required on {label}")
    return int(item["item_id"])


@module_method("tracker", "scalar.add")
def tracker_scalar_add(ctx: Context) -> Any:
    """Add one value of a metric to a submission (created for its uuid if new)."""
    module_require(ctx, "communityId", "metricName", "producerDisplayName", "submissionUuid",
                   "value")
    community = _writable_community(ctx)
    producer_id = _producer(ctx, community)
    metric = (ctx.get("metricName") or "").strip()
    if not metric:
        raise ApiError(-1, "Metric name must not be empty")
    datasets = [_dataset(ctx, community, prefix, label) for prefix, label in (
        ("configItem", "config item"), ("testDataset", "test dataset item"),
        ("truthDataset", "truth dataset item"))]
    tracker = ctx.backend.tracker
    trendgroup_id = tracker.trendgroup(producer_id, *datasets)
    trend_id = tracker.trend(trendgroup_id, metric, ctx.get("unit") or "")
    value = _php_float(ctx.get("value") or "")
    submission_id = tracker.submission_of_producer(producer_id, ctx.get("submissionUuid") or "")
    scalar_id = tracker.add_scalar(trend_id, submission_id, value)
    # The answer is the new scalar as saved: the fields it takes from its
    # submission are not loaded yet.
    record: Dict[str, Any] = dict.fromkeys(SCALAR_FIELDS)
    record.update(scalar_id=scalar_id, trend_id=trend_id, submission_id=submission_id,
                  value=value)
    return record


def _php_float(text: str) -> float:
    """PHP's ``(float)`` cast: the leading number of a text, ``0`` if there is none."""
    match = re.match(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text)
    return float(match.group(0)) if match else 0.0


@module_method("tracker", "submission.add")
def tracker_submission_add(ctx: Context) -> Any:
    """Create a submission: a run of a producer at a revision, branch and time."""
    ctx.require("communityId", "producerDisplayName", "producerRevision", "branch")
    caller = ctx.caller()
    if caller.user is None:
        raise ApiError(-151, "Only authenticated users can create submissions.")
    community = _writable_community(ctx)
    if not (ctx.get("producerDisplayName") or "").strip():
        raise ApiError(-1, "Producer display name must not be empty")
    if not (ctx.get("branch") or "").strip():
        raise ApiError(-1, "Branch must not be empty")
    producer_id = _producer(ctx, community)
    tracker = ctx.backend.tracker
    record: Dict[str, Any] = dict.fromkeys(SUBMISSION_FIELDS)
    record.update(
        producer_id=producer_id, name=ctx.get("name") or "",
        uuid=ctx.get("uuid") or new_uuid(),
        build_results_url=ctx.get("buildResultsUrl") or "",
        reproduction_command=ctx.get("reproductionCommand") or "",
        branch=ctx.get("branch"), producer_revision=(ctx.get("producerRevision") or "").strip(),
        submit_time=parse_submit_time(ctx.get("submitTime")),
    )
    for name in ("user_id", "official", "document"):  # taken from the call, as the server does
        if ctx.has(name):
            record[name] = ctx.get(name)
    if ctx.has("extraUrls"):
        record["extra_urls"] = _json(ctx.get("extraUrls"))
    if tracker.submission(record["uuid"]) is not None:
        raise ApiError(-150, "That uuid is already in use")
    stored = {name: value for name, value in record.items()
              if name != "submission_id" and value is not None}
    record["submission_id"] = tracker.create_submission(stored)
    params = _json(ctx.get("params")) if ctx.has("params") else None
    if isinstance(params, dict):
        tracker.add_params(record["submission_id"], params)
    return {"_id": record["submission_id"], "_type": "Tracker_Submission", **record}


def _json(text: Optional[str]) -> Any:
    try:
        return json.loads(text or "")
    except ValueError:
        return None


def _submission(ctx: Context, key: str) -> Row:
    (uuid,) = module_require(ctx, key)
    submission = ctx.backend.tracker.submission(uuid)
    if submission is None:
        raise ApiError(403 if key == "uuid" else 404, "The submission does not exist"
                       if key == "uuid" else f"Invalid submission uuid: {uuid}")
    return submission


@module_method("tracker", "item.associate")
def tracker_item_associate(ctx: Context) -> Any:
    """Attach an item to a submission under a label."""
    module_require(ctx, "submissionUuid", "itemId", "label")
    backend = ctx.backend
    caller = ctx.caller()
    item = backend.items.get_for(as_int(ctx.get("itemId")), caller)
    if item is None:
        raise ApiError(404, "Invalid itemId")
    if item["level"] < READ:
        raise ApiError(403, "Read permission on the item required")
    submission = _submission(ctx, "submissionUuid")
    tracker = backend.tracker
    community = tracker.community_of_producer(submission["producer_id"])
    if community is None or backend.policies.community_level(community, caller) < WRITE:
        raise ApiError(403, "Write permission on the community required")
    datasets = [as_int(ctx.get(name)) if ctx.has(name) else None
                for name in ("configItemId", "testDatasetId", "truthDatasetId")]
    trendgroup_id = tracker.trendgroup(submission["producer_id"], *datasets)
    tracker.associate(submission["submission_id"], item["item_id"], ctx.get("label") or "",
                      trendgroup_id)
    return None


@module_method("tracker", "submission.validate")
def tracker_submission_validate(ctx: Context) -> Any:
    """Store a submission's JSON ``submissionDocument`` (schemas are not checked)."""
    submission = _submission(ctx, "uuid")
    document = ctx.get("submissionDocument")
    if document is not None and isinstance(_json(document), dict):
        community = ctx.backend.tracker.community_of_producer(submission["producer_id"])
        if community is None or ctx.backend.policies.community_level(
                community, ctx.caller()) < WRITE:
            raise ApiError(403, "Write permission on the producer required")
        ctx.backend.tracker.set_document(submission["submission_id"], document)
    return None


@module_method("tracker", "aggregatemetrics.update")
def tracker_aggregatemetrics_update(ctx: Context) -> Any:
    """Recompute a submission's aggregate metrics (Admin on its community)."""
    submission = _submission(ctx, "uuid")
    community = ctx.backend.tracker.community_of_producer(submission["producer_id"])
    if community is None or ctx.backend.policies.community_level(community,
                                                                  ctx.caller()) < ADMIN:
        raise ApiError(403, "The associated community does not exist or you do not Admin "
                            "access to the community")
    return ctx.backend.tracker.aggregate_metrics(submission["submission_id"])
