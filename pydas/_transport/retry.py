"""The retry policy: when a failed request may be sent again, and how long to wait.

The decision (:meth:`RetryPolicy.should_retry`) and the pause
(:meth:`RetryPolicy.delay`) are separate from the loop that sends, so the
transport's calls and the transfer engine's resume loops follow one policy.
"""

import email.utils
import math
import random
import time
from typing import Any, Callable, Optional, Union

import requests

from pydas import exceptions
from pydas._transport.failures import nothing_sent

__all__ = [
    "LOST",
    "NOT_SENT",
    "REFUSED",
    "STATUS",
    "TIMED_OUT",
    "Outcome",
    "RetryPolicy",
    "parse_retry_after",
]

#: No connection could be opened: the request never left the client.
NOT_SENT = "not sent"
#: The connection broke after the request (or part of it) may have been sent.
LOST = "lost"
#: The request was sent but the answer did not come in time.
TIMED_OUT = "timed out"
#: The server answered with an HTTP status (see :attr:`Outcome.status`).
STATUS = "status"
#: A final answer: a Midas error envelope, a TLS failure, a bad request.
REFUSED = "refused"

#: Statuses after which any request may be repeated (it was not processed).
RETRY_ALWAYS_STATUSES = frozenset({429, 503})
#: Statuses after which only a repeatable request is repeated (a gateway may
#: have passed the request on before failing).
RETRY_REPEATABLE_STATUSES = frozenset({502, 504})


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Read a ``Retry-After`` header: delay-seconds or an HTTP date.

    :param value: the header value, or ``None``.
    :param now: the current time (``time.time()``), for tests.
    :returns: the seconds to wait (0 for a date in the past), or ``None`` when
        the header is missing or unreadable.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class Outcome:
    """How one attempt ended, as far as retrying is concerned.

    :param kind: :data:`NOT_SENT`, :data:`LOST`, :data:`TIMED_OUT`,
        :data:`STATUS` or :data:`REFUSED`.
    :param status: the HTTP status, for :data:`STATUS`.
    :param retry_after: seconds the server asked to wait (``Retry-After``).
    """

    __slots__ = ("kind", "status", "retry_after")

    def __init__(
        self, kind: str, status: Optional[int] = None, retry_after: Optional[float] = None
    ) -> None:
        self.kind = kind
        self.status = status
        self.retry_after = retry_after

    @classmethod
    def of(cls, value: Union["Outcome", requests.Response, BaseException]) -> "Outcome":
        """Classify what an attempt produced.

        :param value: an :class:`Outcome`; a :class:`requests.Response`; an
            exception raised by :mod:`requests`; or a pydas exception, as the
            transfer engine sees them:
            :class:`~pydas.exceptions.CannotConnect` is :data:`NOT_SENT`,
            :class:`~pydas.exceptions.TimedOut` is :data:`TIMED_OUT`, another
            :class:`~pydas.exceptions.RequestError` and
            :class:`~pydas.exceptions.UploadFailed` (the server got fewer
            bytes than announced: the body was cut) are :data:`LOST`, an
            error made from an HTTP status is :data:`STATUS`, and every other
            error (a Midas error envelope, a TLS failure) is :data:`REFUSED`.
        """
        if isinstance(value, Outcome):
            return value
        if isinstance(value, requests.Response):
            return cls._of_response(value)
        if isinstance(value, exceptions.PydasException):
            return cls._of_pydas(value)
        if isinstance(value, requests.RequestException):
            if nothing_sent(value):
                return cls(NOT_SENT)
            if isinstance(value, requests.exceptions.SSLError):
                return cls(REFUSED)
            if isinstance(value, requests.exceptions.Timeout):
                return cls(TIMED_OUT)
            if isinstance(
                value,
                (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError),
            ):
                return cls(LOST)
        return cls(REFUSED)

    @classmethod
    def _of_response(cls, response: requests.Response) -> "Outcome":
        return cls(
            STATUS,
            response.status_code,
            parse_retry_after(response.headers.get("Retry-After")),
        )

    @classmethod
    def _of_pydas(cls, error: exceptions.PydasException) -> "Outcome":
        if isinstance(error, exceptions.CannotConnect):
            return cls(NOT_SENT)
        if isinstance(error, exceptions.SSLVerificationFailed):
            return cls(REFUSED)
        if isinstance(error, exceptions.TimedOut):
            return cls(TIMED_OUT)
        if isinstance(error, (exceptions.RequestError, exceptions.UploadFailed)):
            return cls(LOST)
        response = error.response
        status = getattr(response, "status_code", None)
        if isinstance(status, int) and status >= 400 and error.code == status:
            return cls._of_response(response)
        return cls(REFUSED)

    def __repr__(self) -> str:
        return f"Outcome({self.kind!r}, status={self.status}, retry_after={self.retry_after})"


class RetryPolicy:
    """When to repeat a failed request, and how long to wait before doing so.

    The decision is :meth:`should_retry`, the pause :meth:`delay` (then
    ``sleep``). Both the transport (for every call) and the transfer engine
    (for resuming uploads and downloads) use the policy of the communicator,
    ``communicator.retry``, like this::

        for attempt in itertools.count(1):
            try:
                return do_one_attempt()
            except PydasException as error:
                outcome = Outcome.of(error)
                if not policy.should_retry(attempt, outcome, repeatable, rewindable):
                    raise
                policy.sleep(policy.delay(attempt, outcome.retry_after))

    A request is repeated only when repeating cannot do harm:

    * the connection could not be opened (nothing was sent): always;
    * HTTP 429 or 503 (the server did not process the request): always;
    * HTTP 502 or 504, a connection lost after sending, or an answer that did
      not come in time: only for ``repeatable`` requests (a gateway, or the
      server, may have processed the first one);
    * a Midas error envelope, a TLS failure, any other status: never;
    * never when the request cannot be sent again as it was
      (``rewindable`` false), and never beyond ``attempts`` in all.

    The wait before retry ``n`` (1-based) is ``backoff * 2 ** (n - 1)``,
    capped at ``max_delay``, multiplied by a random factor between 0.5 and 1
    (so that parallel workers do not retry in lockstep). A ``Retry-After``
    header, in seconds or as an HTTP date, is honoured up to ``max_delay``.

    :param attempts: total number of attempts, the first one included.
    :param backoff: wait before the first retry, in seconds.
    :param max_delay: longest single wait, in seconds.
    :param sleep: the function used to wait (tests pass a recorder).
    :param random_source: returns a float in ``[0, 1)``; the jitter source.
    :raises ValueError: for fewer than one attempt, or negative or infinite waits.
    """

    def __init__(
        self,
        attempts: int = 4,
        backoff: float = 0.5,
        max_delay: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        random_source: Callable[[], float] = random.random,
    ) -> None:
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError("attempts must be an integer of at least 1")
        for name, value in (("backoff", backoff), ("max_delay", max_delay)):
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number of seconds >= 0")
        self.attempts = attempts
        self.backoff = backoff
        self.max_delay = max_delay
        self.sleep = sleep
        self.random_source = random_source

    def should_retry(
        self,
        attempt: int,
        outcome: Union[Outcome, requests.Response, BaseException],
        repeatable: bool,
        rewindable: bool,
    ) -> bool:
        """Decide whether to make another attempt.

        :param attempt: the number of the attempt that just ended (1-based).
        :param outcome: how it ended: an :class:`Outcome`, or what
            :meth:`Outcome.of` accepts (a response, a :mod:`requests` or a
            pydas exception).
        :param repeatable: whether the request may reach the server twice
            without harm (declared by each driver method: reads, and creations
            made idempotent by a ``uuid`` or ``reuseExisting``; a resumed
            transfer is repeatable since it continues from the server's offset).
        :param rewindable: whether the request can be sent again as it was
            (its body can be produced again, and no part of it can have been
            stored by the server).
        :returns: ``True`` to retry after :meth:`delay`.
        """
        if attempt >= self.attempts or not rewindable:
            return False
        result = Outcome.of(outcome)
        if result.kind == NOT_SENT:
            return True
        if result.kind in (LOST, TIMED_OUT):
            return repeatable
        if result.kind == STATUS:
            if result.status in RETRY_ALWAYS_STATUSES:
                return True
            return repeatable and result.status in RETRY_REPEATABLE_STATUSES
        return False

    def delay(self, retry: int, retry_after: Optional[float] = None) -> float:
        """Return the wait in seconds before retry number ``retry`` (1-based).

        :param retry: 1 for the first retry, and so on.
        :param retry_after: what the server asked for (``Retry-After``), if anything.
        """
        # an integer power is typed Any (a negative exponent makes a float)
        base: float = min(self.max_delay, self.backoff * 2 ** (retry - 1))
        wait = base * (0.5 + 0.5 * self.random_source())
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_delay))
        return wait

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(attempts={self.attempts}, backoff={self.backoff}, "
            f"max_delay={self.max_delay})"
        )


def describe(outcome: Any) -> str:
    """A short label of an outcome for log lines (``HTTP 503``, ``lost``...)."""
    result = Outcome.of(outcome)
    return f"HTTP {result.status}" if result.kind == STATUS else result.kind
