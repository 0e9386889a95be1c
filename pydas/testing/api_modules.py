"""Module API methods of the emulator (midas-web-api.md §4.2, §4.9-4.13).

``mfa``
    ``otp.login``: exchanges the ``mfa_token_id`` of ``midas.login`` and the
    one-time password set with :meth:`MidasServer.set_otp` for the real token.
``dicomextractor``
    ``extract``: reads DICOM header tags of the head revision's files
    (:mod:`pydas.testing.dicom`) and stores them as metadata ``DICOM.<Keyword>``.
``thumbnailcreator``
    ``create.big.thumbnail`` / ``create.small.thumbnail``: record a thumbnail
    bitstream for the item. No image is processed: the thumbnail record points
    to the source file's content.
``solr``
    ``search.advanced``: a deliberately small query language instead of Lucene:
    whitespace-separated terms, all of which must match (``AND`` between terms
    is allowed and ignored). A term is ``field:value`` or a bare ``value``;
    values may be double-quoted to contain spaces; ``*`` matches anything.
    Fields: ``name``, ``description``, ``text`` (name or description), and any
    metadata of the head revision as ``element`` or ``element.qualifier``. A
    bare value means ``text``. Matching is a case-insensitive substring test.
    ``OR``, ``NOT``, parentheses and unbalanced quotes are syntax errors.
``tracker`` (1.2.x)
    ``scalar.add``, ``results.upload.json``, ``item.associate``,
    ``submission.add``. (``submission.create``, which old clients call, does not
    exist and answers -101 like the real server.)
``batchmake``
    ``add.condor.dag`` / ``add.condor.job`` on tasks made with
    :meth:`MidasServer.create_batchmake_task`.
"""

import calendar
import json
import re
import time
from typing import Any, Dict, List, Optional

from pydas.testing.dicom import read_dicom_tags
from pydas.testing.dispatch import Context, module_method
from pydas.testing.envelope import ApiError
from pydas.testing.model import ADMIN, READ, WRITE, Model, Row, as_int, new_uuid
from pydas.testing.store import CHUNK_SIZE
from pydas.testing.values import timestamp

__all__: List[str] = []

_NO_WRITE = "You didn't log in or you don't have the write permission for the given item."
_ITEM_POLICY_ERROR = "Error in parameter itemdao or policy when checking Item policy."
#: Largest JSON document ``results.upload.json`` accepts.
_MAX_JSON_BODY = 64 * 1024 * 1024


def _require(ctx: Context, *names: str) -> List[str]:
    return ctx.require(*names, code=-1, template="Parameter {} must be set.")


# -- mfa ------------------------------------------------------------------------------------


@module_method("mfa", "otp.login", authenticates=False)
def mfa_otp_login(ctx: Context) -> Any:
    """Exchange an MFA token id and a one-time password for the real token."""
    otp, mfa_token_id = _require(ctx, "otp", "mfaTokenId")
    pending = ctx.db.one("SELECT * FROM mfa_token WHERE mfa_token_id = ?", (as_int(mfa_token_id),))
    if pending is None:
        raise ApiError(-1, "Invalid MFA token id")
    ctx.db.run("DELETE FROM mfa_token WHERE mfa_token_id = ?", (pending["mfa_token_id"],))
    token = ctx.db.one("SELECT * FROM token WHERE token_id = ? AND expires > ?",
                       (pending["token_id"], time.time()))
    if token is None:
        raise ApiError(-1, "Corresponding api token no longer exists")
    user = ctx.model.user(pending["user_id"])
    if user is None or not user["otp"]:
        raise ApiError(-1, "User does not have an OTP device")
    if otp != user["otp"]:
        raise ApiError(-1, "Incorrect OTP")
    return {"token": token["token"]}


# -- dicomextractor ---------------------------------------------------------------------------


def _writable_item(ctx: Context, item_id: Any) -> Row:
    model = ctx.model
    user = ctx.user()
    item = model.item(item_id)
    if item is None:
        raise ApiError(0, _ITEM_POLICY_ERROR)
    if user is None or model.item_level(item["item_id"], user) < WRITE:
        raise ApiError(-151, _NO_WRITE)
    return item


@module_method("dicomextractor", "extract")
def dicom_extract(ctx: Context) -> Any:
    """Store DICOM header tags of the head revision's files as metadata."""
    from pydas.testing.api_core import set_metadata

    (item_id,) = ctx.require("item")
    item = _writable_item(ctx, item_id)
    model = ctx.model
    head = model.head_revision(item["item_id"])
    if head is None:
        raise ApiError(-151, "The item has no revisions")
    for bitstream in model.bitstreams(head["itemrevision_id"]):
        if bitstream["mimetype"] == "url":
            continue
        for keyword, value in read_dicom_tags(ctx.db.asset_path(bitstream["checksum"])).items():
            set_metadata(model, head, "DICOM", value, keyword)
    inner: Dict[str, Any] = {"_model": "ItemRevision", "_key": "itemrevision_id", "saved": True}
    for key, value in model.revision_dict(head).items():
        if value is not None:
            inner[key] = str(value)
    return json.dumps(inner, separators=(",", ":"))


# -- thumbnailcreator ---------------------------------------------------------------------------


def _thumbnail_item(ctx: Context) -> Row:
    if not ctx.has("itemId") and not ctx.has("id"):
        raise ApiError(-150, "Parameter id is not defined")
    return _writable_item(ctx, ctx.get("itemId", ctx.get("id")))


def _thumbnail_bitstream(ctx: Context, source: Optional[Row], name: str) -> int:
    if source is None or source["mimetype"] == "url":
        raise ApiError(-100, "Could not create thumbnail from the bitstream")
    return ctx.db.insert(
        "bitstream", itemrevision_id=-1, name=name, mimetype="image/jpeg",
        sizebytes=source["sizebytes"], checksum=source["checksum"], path=source["path"],
        date=timestamp(),
    )


@module_method("thumbnailcreator", "create.big.thumbnail")
def create_big_thumbnail(ctx: Context) -> Any:
    """Record a big thumbnail of one bitstream for an item."""
    item = _thumbnail_item(ctx)
    # The server does not check bitstreamId; a missing one fails like an unknown one.
    source = ctx.db.one("SELECT * FROM bitstream WHERE bitstream_id = ?",
                        (as_int(ctx.get("bitstreamId")),))
    thumbnail_id = _thumbnail_bitstream(ctx, source, "big_thumbnail.jpeg")
    previous = ctx.db.one("SELECT * FROM itemthumbnail WHERE item_id = ?", (item["item_id"],))
    if previous is not None:
        ctx.db.run("DELETE FROM bitstream WHERE bitstream_id = ?", (previous["thumbnail_id"],))
        ctx.db.update("itemthumbnail", "itemthumbnail_id", previous["itemthumbnail_id"],
                      thumbnail_id=thumbnail_id)
        row_id = previous["itemthumbnail_id"]
    else:
        row_id = ctx.db.insert("itemthumbnail", item_id=item["item_id"],
                               thumbnail_id=thumbnail_id)
    return {"itemthumbnail_id": row_id, "item_id": item["item_id"], "thumbnail_id": thumbnail_id}


@module_method("thumbnailcreator", "create.small.thumbnail")
def create_small_thumbnail(ctx: Context) -> Any:
    """Record a small thumbnail of the head revision's first bitstream."""
    item = _thumbnail_item(ctx)
    model = ctx.model
    head = model.head_revision(item["item_id"])
    if head is None:
        raise ApiError(-151, "The head revision of the item does not contain any revisions")
    bitstreams = model.bitstreams(head["itemrevision_id"])
    if not bitstreams:
        raise ApiError(-151, "The head revision of the item does not contain any bitstreams")
    thumbnail_id = _thumbnail_bitstream(ctx, bitstreams[0], "thumbnail.jpeg")
    if item["thumbnail_id"] is not None:
        ctx.db.run("DELETE FROM bitstream WHERE bitstream_id = ?", (item["thumbnail_id"],))
    ctx.db.update("item", "item_id", item["item_id"], thumbnail_id=thumbnail_id)
    updated = model.item(item["item_id"])
    assert updated is not None
    return model.item_dict(updated)


# -- solr -----------------------------------------------------------------------------------------

_TERM = re.compile(r'\s*(?:([A-Za-z_][\w.]*):)?("(?:[^"]*)"|[^\s"()]+)')


def parse_query(query: str) -> List[tuple]:
    """Parse the emulator's simple Solr query into ``(field, value)`` terms.

    :param query: the query text.
    :returns: the terms, field ``text`` for bare values.
    :raises ApiError: -1 ``Syntax error in query`` for anything outside the language.
    """
    terms = []
    position = 0
    text = query.strip()
    if not text:
        raise ApiError(-1, "Syntax error in query")
    while position < len(text):
        match = _TERM.match(text, position)
        if match is None or match.end() == position:
            raise ApiError(-1, "Syntax error in query")
        field, value = match.group(1), match.group(2)
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
        if field is None and value in ("OR", "NOT", "||", "!"):
            raise ApiError(-1, "Syntax error in query")
        if field is None and value in ("AND", "&&"):
            continue
        terms.append(((field or "text").lower(), value.strip('"').lower()))
    return terms


def _item_matches(model: Model, item: Row, terms: List[tuple]) -> bool:
    metadata: Dict[str, List[str]] = {}
    head = model.head_revision(item["item_id"])
    if head is not None:
        for row in model.db.all(
            "SELECT m.element, m.qualifier, v.value FROM metadatavalue v "
            "JOIN metadata m ON m.metadata_id = v.metadata_id WHERE v.itemrevision_id = ?",
            (head["itemrevision_id"],),
        ):
            element = row["element"].lower()
            value = (row["value"] or "").lower()
            metadata.setdefault(element, []).append(value)
            if row["qualifier"]:
                metadata.setdefault(f"{element}.{row['qualifier'].lower()}", []).append(value)
    name = (item["name"] or "").lower()
    description = (item["description"] or "").lower()
    for field, value in terms:
        if field == "name":
            candidates = [name]
        elif field == "description":
            candidates = [description]
        elif field == "text":
            candidates = [name, description]
        else:
            candidates = metadata.get(field, [])
        if not any(value == "*" or value in candidate for candidate in candidates):
            return False
    return True


@module_method("solr", "search.advanced")
def solr_search_advanced(ctx: Context) -> Any:
    """Search items with the emulator's simple query language (see the module docs)."""
    (query,) = _require(ctx, "query")
    limit = as_int(ctx.get("limit", "25"))
    if limit <= 0:
        limit = 25
    terms = parse_query(query)
    user = ctx.user()
    model = ctx.model
    results: List[Dict[str, Any]] = []
    for item in ctx.db.all("SELECT * FROM item ORDER BY item_id"):
        if len(results) >= limit:
            break
        if model.item_level(item["item_id"], user) < READ or not _item_matches(model, item, terms):
            continue
        entry: Dict[str, Any] = {
            "id": item["item_id"],
            "name": item["name"],
            "description": item["description"],
            "size": item["sizebytes"],
            "date_created": item["date_creation"],
            "date_updated": item["date_update"],
            "uuid": item["uuid"],
            "views": item["view"],
            "downloads": item["download"],
            "public": model.item_is_public(item["item_id"]),
        }
        folders = model.item_folders(item["item_id"])
        if folders:
            entry["folder_id"] = folders[0]["folder_id"]
        entry["revisions"] = [row["itemrevision_id"] for row in model.revisions(item["item_id"])]
        head = model.head_revision(item["item_id"])
        entry["bitstreams"] = (
            [] if head is None
            else [row["bitstream_id"] for row in model.bitstreams(head["itemrevision_id"])]
        )
        results.append(entry)
    return results


# -- tracker ----------------------------------------------------------------------------------


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


def _community_for_tracker(ctx: Context, official: bool) -> Row:
    model = ctx.model
    community = model.community(ctx.get("communityId"))
    needed = WRITE if official else READ
    if community is None or model.community_level(community, ctx.user()) < needed:
        raise ApiError(403, "Write permission required on community")
    return community


def _dataset_item(ctx: Context, community: Row, label: str, prefix: str) -> Optional[int]:
    model = ctx.model
    user = ctx.user()
    if ctx.has(f"{prefix}Id"):
        item = model.item(ctx.get(f"{prefix}Id"))
        if item is None or model.item_level(item["item_id"], user) < READ:
            raise ApiError(403, f"Read permission required on {label}")
        return int(item["item_id"])
    if ctx.has(f"{prefix}Name"):
        folder = model.community_folder(community, "Private")
        if folder is None:
            raise ApiError(
                -1, "No private folder in the given community in which to create an item"
            )
        name = ctx.get(f"{prefix}Name") or ""
        for item in model.child_items(folder["folder_id"]):
            if item["name"] == name:
                return int(item["item_id"])
        return model.create_item(name, folder["folder_id"], user["user_id"] if user else None)
    return None


def _trend(ctx: Context, community: Row, metric: str, unit: Optional[str]) -> int:
    producer_name = ctx.get("producerDisplayName") or ""
    producer = ctx.db.one(
        "SELECT * FROM tracker_producer WHERE community_id = ? AND display_name = ?",
        (community["community_id"], producer_name),
    )
    producer_id = (
        producer["producer_id"] if producer is not None
        else ctx.db.insert("tracker_producer", community_id=community["community_id"],
                           display_name=producer_name)
    )
    config = _dataset_item(ctx, community, "config item", "configItem")
    test = _dataset_item(ctx, community, "test dataset", "testDataset")
    truth = _dataset_item(ctx, community, "truth dataset", "truthDataset")
    trend = ctx.db.one(
        "SELECT trend_id FROM tracker_trend WHERE producer_id = ? AND metric_name = ? "
        "AND unit IS ? AND config_item_id IS ? AND test_dataset_id IS ? "
        "AND truth_dataset_id IS ?",
        (producer_id, metric, unit, config, test, truth),
    )
    if trend is not None:
        return int(trend["trend_id"])
    return ctx.db.insert("tracker_trend", producer_id=producer_id, metric_name=metric, unit=unit,
                         config_item_id=config, test_dataset_id=test, truth_dataset_id=truth)


def _scalar_dict(row: Row) -> Dict[str, Any]:
    return {
        "scalar_id": row["scalar_id"],
        "trend_id": row["trend_id"],
        "user_id": row["user_id"],
        "submission_id": row["submission_id"],
        "official": row["official"],
        "build_results_url": row["build_results_url"],
        "extra_urls": row["extra_urls"],
        "branch": row["branch"],
        "submit_time": row["submit_time"],
        "value": row["value"],
        "producer_revision": row["producer_revision"],
        "reproduction_command": row["reproduction_command"],
    }


def _store_scalar(ctx: Context, trend_id: int, value: float, submit_time: str,
                  submission_id: int, extras: bool) -> Row:
    user = ctx.user()
    user_id = user["user_id"] if user else -1
    ctx.db.run(
        "DELETE FROM tracker_scalar WHERE trend_id = ? AND submit_time = ? AND user_id = ?",
        (trend_id, submit_time, user_id),
    )
    scalar_id = ctx.db.insert(
        "tracker_scalar", trend_id=trend_id, user_id=user_id, submission_id=submission_id,
        official=0 if ctx.has("unofficial") else 1,
        build_results_url=(ctx.get("buildResultsUrl") or "") if extras else "",
        extra_urls=(ctx.get("extraUrls") or "") if extras else "",
        branch=(ctx.get("branch") or "") if extras else "",
        submit_time=submit_time, value=value,
        producer_revision=ctx.get("producerRevision") or "",
        reproduction_command=ctx.get("reproductionCommand") or "",
        params=(ctx.get("params") or "") if extras else "",
    )
    row = ctx.db.one("SELECT * FROM tracker_scalar WHERE scalar_id = ?", (scalar_id,))
    assert row is not None
    return row


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


def _submission_id(ctx: Context, community: Row) -> int:
    if ctx.has("submissionId"):
        row = ctx.db.one("SELECT submission_id FROM tracker_submission WHERE submission_id = ?",
                         (as_int(ctx.get("submissionId")),))
        if row is None:
            raise ApiError(404, "Invalid submissionId")
        return int(row["submission_id"])
    if ctx.has("submissionUuid"):
        uuid = ctx.get("submissionUuid") or ""
        row = ctx.db.one("SELECT submission_id FROM tracker_submission WHERE uuid = ?", (uuid,))
        if row is not None:
            return int(row["submission_id"])
        return ctx.db.insert("tracker_submission", producer_id=None, name="", uuid=uuid,
                             submit_time=timestamp())
    return -1


@module_method("tracker", "scalar.add")
def tracker_scalar_add(ctx: Context) -> Any:
    """Add one scalar value to a trend (tracker 1.2.x)."""
    _require(ctx, "communityId", "producerDisplayName", "metricName", "value",
             "producerRevision", "submitTime")
    community = _community_for_tracker(ctx, official=not ctx.has("unofficial"))
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
    submission_id = _submission_id(ctx, community)
    return _scalar_dict(_store_scalar(ctx, trend_id, value, submit_time, submission_id, True))


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


@module_method("tracker", "results.upload.json", streams_body=True)
def tracker_results_upload_json(ctx: Context) -> Any:
    """Turn the numeric values of a JSON document (the raw body) into scalars.

    The body is read before the store is locked, so a slow sender blocks nobody.
    """
    raw = _read_body(ctx)
    with ctx.transaction():
        return _results_from_json(ctx, raw)


def _results_from_json(ctx: Context, raw: Optional[bytes]) -> Any:
    ctx.user()
    _require(ctx, "communityId", "producerDisplayName", "producerRevision")
    community = _community_for_tracker(ctx, official=not ctx.has("unofficial"))
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
            row = _store_scalar(ctx, trend_id, value, submit_time, -1, ctx.has("parentKeys"))
            scalars.append(_scalar_dict(row))
    return scalars


@module_method("tracker", "item.associate")
def tracker_item_associate(ctx: Context) -> Any:
    """Associate an item with scalars under a label."""
    scalar_ids, item_id, label = _require(ctx, "scalarIds", "itemId", "label")
    model = ctx.model
    user = ctx.user()
    item = model.item(item_id)
    if item is None:
        raise ApiError(404, "Invalid itemId")
    if model.item_level(item["item_id"], user) < READ:
        raise ApiError(403, "Read permission on the item required")
    for scalar_text in scalar_ids.split(","):
        scalar = ctx.db.one(
            "SELECT c.* FROM tracker_scalar s JOIN tracker_trend t ON t.trend_id = s.trend_id "
            "JOIN tracker_producer p ON p.producer_id = t.producer_id "
            "JOIN community c ON c.community_id = p.community_id WHERE s.scalar_id = ?",
            (as_int(scalar_text),),
        )
        if scalar is None:
            raise ApiError(404, f"Invalid scalarId: {scalar_text}")
        if model.community_level(scalar, user) < ADMIN:
            raise ApiError(403, "Admin permission on the community required")
        ctx.db.insert("tracker_scalar2item", scalar_id=as_int(scalar_text),
                      item_id=item["item_id"], label=label)
    return ""


@module_method("tracker", "submission.add")
def tracker_submission_add(ctx: Context) -> Any:
    """Create a submission for a producer (tracker 1.2.x)."""
    (producer_id,) = _require(ctx, "producer_id")
    if ctx.user() is None:
        raise ApiError(-151, "Only authenticated users can create submissions.")
    uuid = ctx.get("uuid") or new_uuid()
    if ctx.db.one("SELECT 1 FROM tracker_submission WHERE uuid = ?", (uuid,)) is not None:
        raise ApiError(-150, "That uuid is already in use.")
    submission_id = ctx.db.insert("tracker_submission", producer_id=as_int(producer_id),
                                  name=ctx.get("name") or "", uuid=uuid, submit_time=timestamp())
    row = ctx.db.one("SELECT * FROM tracker_submission WHERE submission_id = ?", (submission_id,))
    assert row is not None
    return {
        "_id": submission_id,
        "_type": "Tracker_Submission",
        "submission_id": submission_id,
        "producer_id": row["producer_id"],
        "name": row["name"],
        "uuid": row["uuid"],
        "submit_time": row["submit_time"],
    }


# -- batchmake --------------------------------------------------------------------------------


def _owned_task(ctx: Context, task_id: str, what: str) -> Row:
    user = ctx.user()
    if user is None:
        raise ApiError(-151, f"Anonymous users may not add condor {what}")
    task = ctx.db.one("SELECT * FROM batchmake_task WHERE batchmake_task_id = ?",
                      (as_int(task_id),))
    if task is None:
        raise ApiError(-150, "Invalid batchmaketaskid specified")
    if task["user_id"] != user["user_id"]:
        raise ApiError(-151, "You are not the owner of this batchmake task")
    return task


@module_method("batchmake", "add.condor.dag")
def batchmake_add_condor_dag(ctx: Context) -> Any:
    """Add a Condor DAG to a BatchMake task."""
    task_id, dag_filename, out_filename = _require(ctx, "batchmaketaskid", "dagfilename",
                                                   "outfilename")
    task = _owned_task(ctx, task_id, "dags")
    dag_id = ctx.db.insert("condor_dag", batchmake_task_id=task["batchmake_task_id"],
                           out_filename=out_filename, dag_filename=dag_filename)
    return {"condor_dag_id": dag_id, "batchmake_task_id": task["batchmake_task_id"],
            "out_filename": out_filename, "dag_filename": dag_filename}


@module_method("batchmake", "add.condor.job")
def batchmake_add_condor_job(ctx: Context) -> Any:
    """Attach a Condor job to the first DAG of a BatchMake task."""
    names = ("batchmaketaskid", "jobdefinitionfilename", "outputfilename", "errorfilename",
             "logfilename", "postfilename")
    values = dict(zip(names, _require(ctx, *names)))
    task = _owned_task(ctx, values["batchmaketaskid"], "jobs")
    dag = ctx.db.one(
        "SELECT condor_dag_id FROM condor_dag WHERE batchmake_task_id = ? "
        "ORDER BY condor_dag_id LIMIT 1",
        (task["batchmake_task_id"],),
    )
    if dag is None:
        raise ApiError(-150, "There is no condor dag for this batchmaketaskid")
    job = {
        "jobdefinition_filename": values["jobdefinitionfilename"],
        "output_filename": values["outputfilename"],
        "error_filename": values["errorfilename"],
        "log_filename": values["logfilename"],
        "post_filename": values["postfilename"],
    }
    job_id = ctx.db.insert("condor_job", condor_dag_id=dag["condor_dag_id"], **job)
    return {"condor_job_id": job_id, "condor_dag_id": dag["condor_dag_id"], **job}
