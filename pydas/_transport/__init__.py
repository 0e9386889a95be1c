"""The one part of pydas that speaks HTTP.

Everything that touches the network goes through a
:class:`~pydas._transport.transport.Transport`: the :class:`requests.Session`,
the settings (URL, :class:`Timeout`, verification, authentication), the
:class:`RetryPolicy`, the deadlines, the decoding of the Midas JSON envelope,
the streamed upload bodies and the streamed download. The drivers only
describe which API method to call with which parameters, and whether the call
may be repeated.

One module per job:

* :mod:`~pydas._transport.transport` -- the :class:`Transport` and its send loop;
* :mod:`~pydas._transport.timeouts` -- the :class:`Timeout` value type;
* :mod:`~pydas._transport.retry` -- :class:`RetryPolicy` and :class:`Outcome`;
* :mod:`~pydas._transport.deadlines` -- whole-call and stall deadlines;
* :mod:`~pydas._transport.envelope` -- size-capped reading, envelope decoding;
* :mod:`~pydas._transport.failures` -- connection failures in words;
* :mod:`~pydas._transport.bodies` -- raw, stream and multipart upload bodies;
* :mod:`~pydas._transport.downloads` -- the download chunk iterator, file names;
* :mod:`~pydas._transport.sessions` and :mod:`~pydas._transport.environment` --
  the session pydas makes, and the environment read once;
* :mod:`~pydas._transport.redaction` -- secrets out of messages and logs.
"""

from pydas._transport.bodies import CHUNK_SIZE, FileBody, MultipartFileBody, StreamBody
from pydas._transport.deadlines import Guard
from pydas._transport.downloads import ChunkIterator
from pydas._transport.envelope import DEFAULT_MAX_ANSWER_SIZE
from pydas._transport.environment import Environment
from pydas._transport.redaction import (
    SECRET_KEYS,
    SecretFilter,
    install_log_filter,
    scrub,
    scrub_parameters,
)
from pydas._transport.retry import Outcome, RetryPolicy, parse_retry_after
from pydas._transport.sessions import POOL_SIZE, new_session
from pydas._transport.timeouts import DEFAULT_TIMEOUT, Timeout, TimeoutLike
from pydas._transport.transport import API_SUFFIX, Transport

__all__ = [
    "API_SUFFIX",
    "CHUNK_SIZE",
    "DEFAULT_MAX_ANSWER_SIZE",
    "DEFAULT_TIMEOUT",
    "POOL_SIZE",
    "SECRET_KEYS",
    "ChunkIterator",
    "Environment",
    "FileBody",
    "Guard",
    "MultipartFileBody",
    "Outcome",
    "RetryPolicy",
    "SecretFilter",
    "StreamBody",
    "Timeout",
    "TimeoutLike",
    "Transport",
    "install_log_filter",
    "new_session",
    "parse_retry_after",
    "scrub",
    "scrub_parameters",
]
