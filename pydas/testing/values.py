"""Values the server generates: random strings and timestamps."""

import secrets
import string
import time
from typing import Optional

__all__ = ["random_string", "timestamp"]

_ALNUM = string.ascii_letters + string.digits


def random_string(length: int) -> str:
    """Return ``length`` random characters from ``[0-9a-zA-Z]``.

    :param length: number of characters.
    :returns: the random string.
    """
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def timestamp(when: Optional[float] = None) -> str:
    """Format a time as the server does: ``YYYY-MM-DD HH:MM:SS`` in UTC.

    :param when: seconds since the epoch; now if omitted.
    :returns: the formatted time.
    """
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when))
