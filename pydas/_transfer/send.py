"""The bytes of one file: a streamed upload that resumes from the server's offset."""

from __future__ import annotations

import logging

from pydas import exceptions
from pydas._transfer.local import LocalFile
from pydas._transfer.options import Transfer

__all__ = ["MAX_ATTEMPTS", "send_file"]

logger = logging.getLogger("pydas")

#: How many times one file transfer is attempted before giving up.
MAX_ATTEMPTS = 5


def _resumable(error: Exception) -> bool:
    """Whether an upload that failed this way may hold a usable prefix on the server.

    A lost connection, a short body (-105) and an HTTP 5xx status from a proxy
    qualify; an answer of the Midas API itself (permissions, bad token) does not.
    """
    if isinstance(error, (exceptions.RequestError, exceptions.UploadFailed)):
        return True
    return isinstance(error, exceptions.InternalError) and (error.code or 0) >= 500


def send_file(
    transfer: Transfer, upload_token: str, local: LocalFile, new_revision: bool = False
) -> None:
    """Stream one file for an upload token, resuming from the server's offset after a failure.

    :param transfer: the running transfer
    :param upload_token: from ``midas.upload.generatetoken``
    :param local: the file
    :param new_revision: make a new revision instead of adding to the head revision
    :raises pydas.exceptions.TransferError: when every attempt failed
    """
    communicator = transfer.communicator
    reporter = transfer.reporter
    counted = 0

    def count_bytes(nbytes: int) -> None:
        nonlocal counted
        counted += nbytes
        reporter.advance(nbytes)
        transfer.runner.check()

    held = 0  # bytes the server holds, as last reported
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            if attempt > 1:
                offset = communicator.get_upload_offset(upload_token)
                if offset is None:
                    # the token was consumed: the server finished the file
                    # although its answer was lost
                    break
                held = offset
                if held > local.size:
                    raise exceptions.TransferError(
                        f"upload of {local.path!r} failed: the server holds {held} bytes "
                        f"of a file of {local.size}"
                    )
                logger.info("Resuming upload of %s at byte %d of %d", local.path, held, local.size)
                reporter.advance(held - counted)
                counted = held
            communicator.perform_upload(
                upload_token,
                local.name,
                filepath=local.path,
                offset=held,
                progress=count_bytes,
                create_additional_revision=new_revision,
            )
            break
        except exceptions.PydasException as error:
            if not _resumable(error):
                raise
            if attempt == MAX_ATTEMPTS:
                hint = ""
                if local.size == 1 and held == 0:
                    hint = (
                        " (a Midas server stops reading an upload body that is the "
                        "single character '0', so such a file cannot be uploaded)"
                    )
                raise exceptions.TransferError(
                    f"upload of {local.path!r} failed after {attempt} attempts "
                    f"({held} of {local.size} bytes on the server): {error}{hint}"
                ) from error
    reporter.advance(local.size - counted)
    reporter.file_done()
