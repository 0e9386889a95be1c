"""One file into one item: sent, resumed, verified against the server's record, repaired.

An upload is done only when the server's record of it — the new bitstream of
that name in the revision it went into — has the local file's size and MD5
(:mod:`pydas._transfer.verify`). Until then:

* a cut connection is resumed with ``midas.upload.getoffset``, but only from
  an offset that has stopped moving: a real server keeps appending the bytes
  it had buffered for a while after the client saw the cut, and a resume from
  an offset read in that window corrupts the stored file
  (midas-web-api.md §6.4). Whether to try again, and the pauses, come from
  the communicator's retry policy (``should_retry``, backoff with jitter,
  its injectable ``sleep``), and a refusal that moved nothing (a ``-105``
  without progress) is not retried;
* a file the server's stream mode cannot take (see :func:`needs_multipart`)
  is sent in its multipart mode, whole;
* an upload token left by an earlier, interrupted run of the same upload is
  taken from the :mod:`~pydas._transfer.journal` and resumed;
* a wrong stored copy is repaired: deleted (``midas.bitstream.delete``) and
  uploaded again into the same revision, which leaves the item as if the
  upload had gone right at once. Where the server refuses the deletion (no
  admin permission on the item, or a server without that method), the file
  goes into a new revision instead, together with the other files of the
  wrong revision, so that the wrong copy is no longer the item's current
  content; a warning says where it stays. After :data:`REPAIR_ROUNDS` the
  upload fails with a :class:`~pydas.exceptions.TransferError` that names
  the file and what the server holds.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

from pydas import exceptions
from pydas._transfer import answers
from pydas._transfer.answers import Bitstream, Item, Revision, token_item_id
from pydas._transfer.digests import Digest, SendingFile
from pydas._transfer.journal import Claim
from pydas._transfer.local import LocalFile
from pydas._transfer.names import name_key, repair_text
from pydas._transfer.options import Transfer
from pydas._transfer.record import LocalState, Sighting
from pydas._transfer.remote import transient
from pydas._transfer.verify import matches
from pydas._transport import Outcome, Timeout

__all__ = ["REPAIR_ROUNDS", "SETTLE_PAUSE", "NewItem", "Upload", "needs_multipart", "put_file"]

logger = logging.getLogger("pydas")

#: How many times one file is stored before its upload is given up as unverifiable.
REPAIR_ROUNDS = 3
#: Seconds between two ``midas.upload.getoffset`` answers that must agree.
SETTLE_PAUSE = 0.2
#: The pieces in which PHP reads an upload body (``php://input``).
_PHP_PIECE = 8192
#: Most ``getoffset`` questions asked to let one offset settle.
_SETTLE_POLLS = 1000

#: A bitstream and the revision holding it.
_Copy = Tuple[Revision, Bitstream]


def needs_multipart(local: LocalFile) -> bool:
    """Whether the server's stream mode cannot take this file (its multipart mode can).

    PHP reads an upload body in pieces of 8192 bytes and Midas stops reading
    at a piece that is the single character ``0`` (it takes the piece for
    "false"). A file whose last piece is exactly that byte — a 1-byte file
    ``0``, or any file of 8192·n + 1 bytes ending in ``0`` — can therefore
    never be completed in stream mode.
    """
    if local.size % _PHP_PIECE != 1:
        return False
    try:
        with open(local.path, "rb") as handle:
            handle.seek(local.size - 1)
            return handle.read(1) == b"0"
    except OSError:
        return False  # unreadable now: sending it fails with a TransferError that says so


@dataclass(frozen=True)
class NewItem:
    """An item that the first upload token creates (``generatetoken`` with ``folderid``).

    :param folder_id: the folder that receives it
    :param name: its name (the server adds a suffix if the folder holds one already)
    """

    folder_id: Any
    name: str


class Upload:
    """The upload of one file into one item, until verified.

    :meth:`start` sends the file (it is then on the server, not yet checked);
    :meth:`finish` verifies it against the server's record and repairs it.
    Between the two the caller may do other work: an item read late enough
    after its last change gives a re-run record that can be trusted (see
    :mod:`pydas._transfer.record`).

    :param transfer: the running transfer
    :param target: the item's id, or a :class:`NewItem` made by the first token
    :param local: the file
    :param md5: its MD5, or ``None`` to hash it while it is sent
    :param new_revision: start a new revision of the item
    :param before: the item before this upload (``None``: known to be empty)
    """

    def __init__(
        self,
        transfer: Transfer,
        target: Any,
        local: LocalFile,
        md5: Optional[str],
        new_revision: bool = False,
        before: Optional[Item] = None,
    ) -> None:
        self.transfer = transfer
        self.remote = transfer.remote
        self.communicator = transfer.communicator
        self.new_item = target if isinstance(target, NewItem) else None
        self.item_id: Optional[str] = None if self.new_item else str(target)
        self.local = local
        self.md5 = md5
        self.digest = Digest(local.path, local.state) if md5 is None else None
        self.key = name_key(local.name)
        self.claim = Claim(None, {})
        self.new_revision = new_revision
        self.revision: Optional[int] = None  # a revision number to upload into (repairs)
        self.known = before.bitstream_ids() if before is not None else frozenset()
        self.carry: List[Bitstream] = []  # files to add to a replacement revision
        self.multipart = needs_multipart(local)
        self.shown = 0  # bytes of this file the progress bar counts
        self.resumed = False
        self.repaired = False
        #: answers that showed the item (``upload.perform``), with their arrival times
        self.sightings: List[Sighting] = []
        #: client times around the ``item.get`` that verified the upload
        self.read_at: Tuple[float, float] = (0.0, 0.0)
        self.sent_at = 0.0  # client time when the first sending ended
        self.item: Optional[Item] = None  # the verified item, once finished

    # -- the whole story -----------------------------------------------------

    @contextlib.contextmanager
    def claimed(self) -> Iterator[None]:
        """Hold this file's journal entry (for a known item) while tokens are used."""
        journal = self.transfer.journal
        if journal is None or self.item_id is None:
            yield
            return
        with journal.claim(self.communicator.url, self.item_id, self.local.path) as claim:
            self.claim = claim
            try:
                yield
            finally:
                self.claim = Claim(None, {})

    def start(self) -> None:
        """Send the file once: resume an earlier run's upload, or make a token and send."""
        if self.new_item is not None:
            token = self.remote.new_item_token(self.new_item.folder_id, self.new_item.name)
            self.item_id = token_item_id(token)
            with self.claimed():
                self.claim.record(token)  # the item is known before a byte is sent
                self.send(token, 0)
        else:
            with self.claimed():
                journaled, offset = self.journaled()
                if journaled is None:
                    journaled, offset = self.new_token(dedupe=not self.new_revision), 0
                if journaled:
                    self.send(journaled, offset)
        self.sent_at = time.time()

    def finish(self) -> Item:
        """Verify the upload against the server's record, repairing it if needed.

        :returns: the item as read by the ``item.get`` that verified the upload
        :raises pydas.exceptions.TransferError: when the file could not be
            stored intact; the message says what the server holds
        """
        with self.claimed():
            self.item = self.verified()
        return self.item

    def verified(self) -> Item:
        after: Optional[Item] = None
        for round_number in range(1, REPAIR_ROUNDS + 1):
            if round_number > 1:
                token = self.new_token(dedupe=False)
                if token:
                    self.send(token, 0)
            if self.md5 is None and self.digest is not None:
                self.md5 = self.hashed()
            after = self.read_item()
            good, bad = self.ours(after)
            if bad:
                self.check_unchanged()
                self.repaired = True
                refused = self.discard(bad)
                if refused:
                    self.replace_revision(refused, after)
                    good = []
                elif good:
                    after = self.read_item()
                else:
                    self.revision = bad[0][0].number
            if good:
                self.discard(good[1:])  # the same content twice: keep one
                if self.carry:
                    after = self.carry_files()
                self.check_unchanged()
                return self.done(after)
            self.check_unchanged()
            self.show(-self.shown)
        raise exceptions.TransferError(self.describe(after))

    def read_item(self) -> Item:
        """The item now (``midas.item.get``), noting when it was asked and answered."""
        if self.item_id is None:
            raise exceptions.TransferError(
                f"upload of {self.local.path!r} cannot be verified: the server did not say "
                "which item it went into"
            )
        asked = time.time()
        item = self.remote.item(self.item_id)
        self.read_at = (asked, time.time())
        return item

    def done(self, after: Item) -> Item:
        reporter = self.transfer.reporter
        reporter.advance(self.local.size - self.shown)
        reporter.file_done()
        self.transfer.summary.add(
            uploaded=1, resumed=int(self.resumed), repaired=int(self.repaired)
        )
        return after

    # -- tokens ----------------------------------------------------------------

    def journaled(self) -> Tuple[Optional[str], int]:
        """The token and settled offset an earlier run left for this file, if usable."""
        token = self.claim.token
        if token is None:
            return None, 0
        offset = self.settle(token)
        if offset is None or offset > self.local.size:
            self.claim.forget()
            return None, 0
        logger.info("Resuming upload of %s at byte %d of %d (from an earlier run)",
                    self.local.path, offset, self.local.size)
        self.resumed = self.resumed or offset > 0
        return token, offset

    def new_token(self, dedupe: bool) -> str:
        token = self.remote.upload_token(self.item_id, self.local.name,
                                         self.md5 if dedupe else None)
        if token:
            self.claim.record(token)
        return token

    # -- sending ---------------------------------------------------------------

    def settle(self, token: str) -> Optional[int]:
        """Ask for the offset until two answers :data:`SETTLE_PAUSE` apart agree.

        :returns: the offset, or ``None`` when the token is unknown or used,
            or its offset kept moving for longer than the read timeout
        """
        communicator = self.communicator
        sleep = communicator.retry.sleep
        deadline = time.monotonic() + Timeout.coerce(communicator.timeout).read
        # the communicator hands the call to its driver, which checks the answer
        last: Optional[int] = communicator.get_upload_offset(token)
        for _ in range(_SETTLE_POLLS):
            if last is None:
                return None
            sleep(SETTLE_PAUSE)
            now: Optional[int] = communicator.get_upload_offset(token)
            if now == last:
                return now
            last = now
            if time.monotonic() > deadline:
                break
        logger.info("The server's offset for %s kept moving; starting again", self.local.path)
        return None

    def show(self, nbytes: int) -> None:
        """Count ``nbytes`` more (or, negative, fewer) bytes of this file on the progress bar."""
        self.shown += nbytes
        self.transfer.reporter.advance(nbytes)

    def perform_arguments(self) -> Dict[str, Any]:
        where: Dict[str, Any] = ({"revision": self.revision} if self.revision is not None
                                 else {"create_additional_revision": self.new_revision})
        if self.multipart:
            where["mode"] = "multipart"
        return where

    def performed(self, answer: Any) -> None:
        """Take the item an ``upload.perform`` answered with: its id, and when it was seen."""
        item = answers.uploaded_item(answer)
        self.item_id = item["item_id"]
        self.sightings.append((item, time.time()))

    def send_whole(self, token: str) -> None:
        """Send the file in one multipart request (no resume: verification decides)."""
        self.claim.forget()  # a multipart upload does not use the token's partial data
        try:
            self.performed(self.communicator.perform_upload(
                token, self.local.name, filepath=self.local.path, progress=self.sent,
                **self.perform_arguments()))
        except exceptions.InvalidParameter as error:
            raise exceptions.TransferError(
                f"upload of {self.local.path!r} failed: the server's stream mode cannot take "
                "this file (it ends in a piece that is the single character '0'), and its "
                f"multipart mode refused it ({error}); the server's PHP upload size limit may "
                "be smaller than the file"
            ) from error
        except exceptions.PydasException as error:
            if not transient(self.communicator.retry, error):
                raise

    def perform(self, token: str, offset: int) -> None:
        """One ``upload.perform`` in stream mode: the file from ``offset`` as a ``PUT`` body.

        The pieces read for sending are hashed too (when the MD5 is not known
        yet), so the file is read once.
        """
        parameters: Dict[str, Any] = {"uploadtoken": token, "filename": self.local.name,
                                      "length": self.local.size}
        if self.revision is not None:
            parameters["revision"] = self.revision
        elif not self.new_revision:
            parameters["revision"] = "head"
        with SendingFile(self.local.path, offset, self.local.size, self.digest,
                         self.sent) as body:
            answer = self.remote.perform(parameters, body)
        self.performed(answer)

    def hashed(self) -> str:
        """The MD5 of the file, completed from what sending read."""
        assert self.digest is not None
        try:
            return self.digest.finish()
        except OSError as error:
            raise exceptions.TransferError(
                f"upload of {self.local.path!r} failed: the file could not be read to "
                f"the end ({error})"
            ) from error

    def send(self, token: str, offset: int) -> None:
        """Send the file from ``offset`` until the server has it (or the token is spent).

        A failure the communicator's retry policy takes for a passing one (a
        cut, a short body, a gateway error, also while asking for the offset)
        is retried, within the policy's attempts, from the settled offset.
        The token is forgotten once it is used or useless; it stays in the
        journal when the upload stops with the token still good, so that the
        next run resumes it.
        """
        if self.multipart:
            self.send_whole(token)
            return
        policy = self.communicator.retry
        self.show(offset - self.shown)
        failure: Optional[exceptions.PydasException] = None  # of the last perform
        attempt = 0
        while True:
            attempt += 1
            try:
                if attempt > 1:
                    held = self.settle(token)
                    if held is None or held > self.local.size:
                        break  # spent or spoiled: the verification tells what is stored
                    if isinstance(failure, exceptions.UploadFailed) and held <= offset:
                        self.claim.forget()
                        raise exceptions.TransferError(
                            f"upload of {self.local.path!r} was refused: the server took "
                            f"none of the {self.local.size - offset} bytes from byte "
                            f"{offset} on ({failure})"
                        ) from failure
                    if held != offset:
                        logger.info("Resuming upload of %s at byte %d of %d",
                                    self.local.path, held, self.local.size)
                    self.resumed = self.resumed or held > 0
                    self.show(held - self.shown)
                    offset, failure = held, None
                self.perform(token, offset)
                break
            except exceptions.InvalidUploadToken:
                break  # used by an attempt whose answer was lost, or gone: verify
            except exceptions.PydasException as error:
                if not transient(policy, error):
                    raise
                if not policy.should_retry(attempt, error, repeatable=True, rewindable=True):
                    raise exceptions.TransferError(
                        f"upload of {self.local.path!r} failed after {attempt} attempts "
                        f"({offset} of {self.local.size} bytes on the server): {error}"
                    ) from error
                if error.method == "midas.upload.perform":
                    failure = error
                policy.sleep(policy.delay(attempt, Outcome.of(error).retry_after))
            except OSError as error:
                raise exceptions.TransferError(
                    f"upload of {self.local.path!r} failed: the file could not be read to "
                    f"the end ({error})"
                ) from error
        self.claim.forget()

    def sent(self, nbytes: int) -> None:
        """Called by the transport with every piece sent."""
        self.show(nbytes)
        self.transfer.summary.add(bytes_sent=nbytes)
        self.transfer.runner.check()

    # -- verification and repair -----------------------------------------------

    def ours(self, item: Item) -> Tuple[List[_Copy], List[_Copy]]:
        """This upload's bitstreams in ``item``: those matching the file, and the others.

        Ours are the bitstreams with the file's name that were not in the item
        before this upload began.
        """
        good: List[_Copy] = []
        bad: List[_Copy] = []
        md5 = self.md5 if self.md5 is not None else self.hashed()
        for revision in item.revisions:
            for bitstream in revision.bitstreams:
                if bitstream.id in self.known or name_key(bitstream.name) != self.key:
                    continue
                right = matches(bitstream.size, bitstream.checksum, self.local.size, md5)
                (good if right else bad).append((revision, bitstream))
        good.sort(key=lambda pair: int(pair[1].id) if pair[1].id.isdigit() else 0)
        return good, bad

    def check_unchanged(self) -> None:
        """Stop when the local file changed since it was scanned (its content may differ).

        Size, modification time, inode and device are compared: a change of
        the status time alone (``chmod``, a new hard link) is not a new content.
        """
        try:
            now = LocalState.of(self.local.path)
        except OSError:
            now = None
        was = self.local.state
        if now is None or (now.size, now.mtime_ns, now.inode, now.device) != (
                was.size, was.mtime_ns, was.inode, was.device):
            raise exceptions.TransferError(
                f"upload of {self.local.path!r} failed: the file changed while it was "
                "being uploaded; upload it again once it is complete"
            )

    def discard(self, pairs: List[_Copy]) -> List[_Copy]:
        """Delete copies this upload made; returns those the server refuses to delete."""
        refused = []
        for revision, bitstream in pairs:
            try:
                self.remote.delete_bitstream(bitstream.id)
            except (exceptions.InvalidPolicy, exceptions.UnknownMethod,
                    exceptions.MethodNotAllowed):
                refused.append((revision, bitstream))
            except exceptions.InvalidParameter:
                pass  # already gone
        return refused

    def replace_revision(self, refused: List[_Copy], item: Item) -> None:
        """Upload into a new revision, carrying the other files of the wrong one along."""
        revision = refused[0][0]
        self.known = self.known | {b.id for b in revision.bitstreams}
        self.carry = [b for b in revision.bitstreams if name_key(b.name) != self.key]
        self.revision = None
        self.new_revision = True
        self.transfer.reporter.warn(
            f"Replacing revision {revision.number} of item {repair_text(item.name)}: the "
            f"server's copy of {self.local.path} was wrong and may not be deleted; it stays "
            "in that revision, the new revision holds the right one"
        )

    def carry_files(self) -> Item:
        """Add the carried files, by checksum, to the revision just made; check them."""
        for bitstream in self.carry:
            token = self.remote.upload_token(self.item_id, bitstream.name, bitstream.checksum)
            if token:
                raise exceptions.TransferError(
                    f"upload of {self.local.path!r}: its new revision lacks "
                    f"{repair_text(bitstream.name)!r}, whose content the server no longer "
                    "has; the previous revision still holds it"
                )
        after = self.remote.item(self.item_id)
        head = after.head
        have = {(b.name, b.size, b.checksum) for b in head.bitstreams} if head else set()
        for bitstream in self.carry:
            if (bitstream.name, bitstream.size, bitstream.checksum) not in have:
                raise exceptions.TransferError(
                    f"upload of {self.local.path!r}: {repair_text(bitstream.name)!r} could "
                    "not be added to its new revision; the previous revision still holds it"
                )
        self.carry = []
        return after

    def describe(self, item: Optional[Item]) -> str:
        """The error text after the last round: the file, and what the server holds."""
        text = (f"upload of {self.local.path!r} ({self.local.size} bytes, MD5 {self.md5}) "
                f"could not be verified after {REPAIR_ROUNDS} attempts: ")
        good, bad = self.ours(item) if item is not None else ([], [])
        if not bad:
            return text + f"item {self.item_id} holds no copy of it"
        copies = "; ".join(
            f"bitstream {b.id} in revision {r.number} has {b.size} bytes, MD5 {b.checksum}"
            for r, b in bad
        )
        return text + f"item {self.item_id} holds a wrong copy ({copies})"


def put_file(
    transfer: Transfer,
    target: Any,
    local: LocalFile,
    md5: Optional[str],
    *,
    new_revision: bool = False,
    before: Optional[Item] = None,
) -> Upload:
    """Upload one file into an item and verify it against the server's record.

    :param transfer: the running transfer
    :param target: the item receiving the file, or a :class:`NewItem` that
        the upload creates
    :param local: the file
    :param md5: its MD5 if known beforehand; ``None`` hashes it while it is sent
        (and sends no checksum to ``generatetoken``: no de-duplication)
    :param new_revision: start a new revision of the item instead of adding the
        file to its head revision (or to revision 1 of an item without one);
        the server's de-duplication by checksum is only used without it
    :param before: the item as it was before this upload (``None`` for an
        item known to be empty); bitstreams in it are not this upload's
    :returns: the upload, finished: :attr:`Upload.item` is the item after it, verified
    :raises pydas.exceptions.TransferError: when the file could not be stored
        intact; the message says what the server holds
    """
    upload = Upload(transfer, target, local, md5, new_revision, before)
    upload.start()
    upload.finish()
    return upload
