"""Users, their API keys, tokens and one-time-password logins."""

import time
from typing import TYPE_CHECKING, List, Optional

from pydas.testing.backend.access import ADMIN, ANONYMOUS, ANONYMOUS_GROUP, READ, Caller
from pydas.testing.backend.database import Database, Row
from pydas.testing.backend.values import (
    capitalize_first,
    hash_password,
    new_uuid,
    random_string,
    timestamp,
)

if TYPE_CHECKING:
    from pydas.testing.backend import Backend

__all__ = ["Users", "DEFAULT_LIFETIME"]

#: Token lifetime of the ``Default`` API key, in minutes.
DEFAULT_LIFETIME = 100

_USER_WITH_GROUPS = (
    "SELECT u.*, (SELECT group_concat(group_id) FROM group_user g WHERE g.user_id = u.user_id) "
    "AS group_list FROM user u"
)
#: The user of a valid token, with the ids of its groups as text.
_USER_OF_TOKEN = (
    f"{_USER_WITH_GROUPS} JOIN token t ON u.user_id = t.user_id "
    "WHERE t.token = ? AND t.expires > ?"
)
_USER_BY_ID = f"{_USER_WITH_GROUPS} WHERE u.user_id = ?"


class Users:
    """User accounts and their credentials.

    :param db: the database.
    :param backend: the whole backend (for home folders and policies).
    """

    def __init__(self, db: Database, backend: "Backend") -> None:
        self.db = db
        self.backend = backend

    # -- lookups ------------------------------------------------------------------------------

    def get(self, user_id: int) -> Optional[Row]:
        """Return the user with this id, or ``None``."""
        return self.db.one("SELECT * FROM user WHERE user_id = ?", (user_id,))

    def by_email(self, email: str) -> Optional[Row]:
        """Return the user with this exact (stored lower-case) e-mail, or ``None``."""
        return self.db.one("SELECT * FROM user WHERE email = ?", (email,))

    def by_uuid(self, uuid: str) -> Optional[Row]:
        """Return the user with this uuid, or ``None``."""
        return self.db.one("SELECT * FROM user WHERE uuid = ?", (uuid,))

    def by_name(self, firstname: Optional[str], lastname: Optional[str]) -> Optional[Row]:
        """Return the first user with this first and last name, or ``None``."""
        return self.db.one(
            "SELECT * FROM user WHERE firstname = ? AND lastname = ? ORDER BY user_id",
            (firstname, lastname),
        )

    def public(self) -> List[Row]:
        """Return the users with a public profile ordered by last name."""
        return self.db.all("SELECT * FROM user WHERE privacy = 0 ORDER BY lastname, user_id")

    def matching(self, pattern: str, limit: int) -> List[Row]:
        """Return public users whose first or last name is LIKE ``pattern``."""
        return self.db.all(
            "SELECT * FROM user WHERE privacy = 0 AND (firstname LIKE ? OR lastname LIKE ?) "
            "LIMIT ?",
            (pattern, pattern, limit),
        )

    def caller(self, token: Optional[str]) -> Optional[Caller]:
        """Return the caller a token identifies (anonymous for no token).

        :param token: the API token, or ``None``.
        :returns: the caller; ``None`` for an unknown or expired token.
        """
        if token is None:
            return ANONYMOUS
        return self._caller(self.db.one(_USER_OF_TOKEN, (token, time.time())))

    def caller_by_id(self, user_id: int) -> Optional[Caller]:
        """Return the user with this id as a caller (with its groups), or ``None``."""
        return self._caller(self.db.one(_USER_BY_ID, (user_id,)))

    @staticmethod
    def _caller(row: Optional[Row]) -> Optional[Caller]:
        if row is None:
            return None
        groups = [int(text) for text in (row["group_list"] or "").split(",") if text]
        return Caller(row, (ANONYMOUS_GROUP, *groups))

    def check_password(self, user: Row, password: str) -> bool:
        """Tell whether a password is the user's."""
        return bool(hash_password(password, user["salt"]) == user["password_hash"])

    # -- accounts -----------------------------------------------------------------------------

    def create(self, email: str, password: str, firstname: str, lastname: str,
               admin: bool = False) -> Row:
        """Create an account with its home folders and ``Default`` API key.

        :returns: the user row.
        :raises ValueError: if the e-mail is already registered.
        """
        email = email.lower()
        if self.by_email(email) is not None:
            raise ValueError(f"a user with e-mail {email} already exists")
        folders, policies = self.backend.folders, self.backend.policies
        salt = random_string(16)
        user_id = self.db.insert(
            "user", email=email, password_hash=hash_password(password, salt), salt=salt,
            firstname=capitalize_first(firstname), lastname=capitalize_first(lastname),
            creation=timestamp(), admin=1 if admin else 0, uuid=new_uuid(),
        )
        home = folders.create(f"user_{user_id}", -1)
        self.db.update("user", "user_id", user_id, folder_id=home)
        policies.grant("folder", home, ADMIN, user_id=user_id)
        for child in ("Private", "Public"):
            folder_id = folders.create(child, home)
            policies.grant("folder", folder_id, ADMIN, user_id=user_id)
            if child == "Public":
                policies.grant("folder", folder_id, READ, group_id=ANONYMOUS_GROUP)
        self.create_api_key(user_id, "Default", DEFAULT_LIFETIME)
        user = self.get(user_id)
        assert user is not None
        return user

    def set_otp(self, user_id: int, otp: Optional[str]) -> None:
        """Give a user a one-time-password device that accepts ``otp`` (any when ``None``).

        The ``otp`` column is ``NULL`` without a device, ``''`` for a device that
        accepts any password.
        """
        self.db.update("user", "user_id", user_id, otp=otp or "")

    def join_group(self, group_id: int, user_id: int) -> None:
        """Make a user a member of a group (no-op if already)."""
        self.db.run("INSERT OR IGNORE INTO group_user VALUES (?, ?)", (group_id, user_id))

    # -- API keys and tokens ------------------------------------------------------------------

    def create_api_key(self, user_id: int, application: str, lifetime: int) -> str:
        """Create an API key for an application.

        :returns: the 32-character key.
        """
        key = random_string(32)
        self.db.insert("apikey", user_id=user_id, application=application, apikey=key,
                       lifetime=lifetime)
        return key

    def default_api_key(self, user_id: int) -> Optional[str]:
        """Return the user's ``Default`` key, or ``None``."""
        row = self.db.one(
            "SELECT apikey FROM apikey WHERE user_id = ? AND application = 'Default' "
            "ORDER BY apikey_id LIMIT 1",
            (user_id,),
        )
        return None if row is None else str(row["apikey"])

    def api_key(self, user_id: int, application: str, key: str) -> Optional[Row]:
        """Return the API key row matching user, application and key, or ``None``."""
        return self.db.one(
            "SELECT * FROM apikey WHERE user_id = ? AND application = ? AND apikey = ?",
            (user_id, application, key),
        )

    def issue_token(self, user_id: int, apikey_row: Row) -> Row:
        """Return the still-valid token of an API key, or a new one.

        :returns: the token row.
        """
        now = time.time()
        row = self.db.one(
            "SELECT * FROM token WHERE apikey_id = ? AND expires > ? ORDER BY token_id DESC",
            (apikey_row["apikey_id"], now),
        )
        if row is not None:
            return row
        token_id = self.db.insert(
            "token", user_id=user_id, apikey_id=apikey_row["apikey_id"],
            token=random_string(32), expires=now + 60 * apikey_row["lifetime"],
        )
        row = self.db.one("SELECT * FROM token WHERE token_id = ?", (token_id,))
        assert row is not None
        return row

    def valid_token(self, token_id: int) -> Optional[Row]:
        """Return a token row by id if it has not expired, or ``None``."""
        return self.db.one("SELECT * FROM token WHERE token_id = ? AND expires > ?",
                           (token_id, time.time()))

    def expire_tokens(self, user_id: Optional[int] = None) -> None:
        """Make every token (or a user's) expire now."""
        past = time.time() - 1
        if user_id is None:
            self.db.run("UPDATE token SET expires = ?", (past,))
        else:
            self.db.run("UPDATE token SET expires = ? WHERE user_id = ?", (past, user_id))

    # -- second factor ------------------------------------------------------------------------

    def start_mfa(self, user_id: int, token_id: int) -> int:
        """Record a login waiting for its one-time password.

        :returns: the ``mfa_token_id``.
        """
        return self.db.insert("mfa_token", user_id=user_id, token_id=token_id)

    def take_mfa(self, mfa_token_id: int) -> Optional[Row]:
        """Remove a waiting login and return it, or ``None`` if there is none."""
        row = self.db.one("SELECT * FROM mfa_token WHERE mfa_token_id = ?", (mfa_token_id,))
        if row is not None:
            self.db.run("DELETE FROM mfa_token WHERE mfa_token_id = ?", (mfa_token_id,))
        return row
