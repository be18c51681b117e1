"""Encryption at rest for free-text case data (needs notes, goals, reviews, consultation notes).

Fernet (AES-128-CBC with HMAC-SHA256) from ``cryptography``. The configuration holds one or more
keys, newest first: new texts are encrypted with the first, every listed key can still decrypt,
so a key rotation is: put a new key first, run ``wegweiser keys rotate``, then drop the old key.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class KeyMissing(RuntimeError):
    """No case-data key is configured; case texts cannot be stored or read."""


class UnreadableText(ValueError):
    """A stored text could not be decrypted with any configured key."""


def new_key() -> str:
    """A new random key for ``WEGWEISER_CASE_DATA_KEY``."""
    return Fernet.generate_key().decode("ascii")


class CaseCipher:
    """Encrypts and decrypts case texts with the configured keys (the first one encrypts)."""

    def __init__(self, keys: Sequence[str]):
        keys = [key.strip() for key in keys if key and key.strip()]
        if not keys:
            raise KeyMissing("set WEGWEISER_CASE_DATA_KEY (generate one with `wegweiser keys new`)")
        try:
            self._fernet = MultiFernet([Fernet(key.encode("ascii")) for key in keys])
        except (ValueError, TypeError):
            raise KeyMissing(
                "WEGWEISER_CASE_DATA_KEY must be Fernet keys (32 url-safe base64 bytes), separated by commas"
            ) from None

    def encrypt(self, text: str | None) -> str | None:
        """The text encrypted with the newest key (``None`` stays ``None``)."""
        if text is None:
            return None
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str | None) -> str | None:
        """The text, decrypted with whichever configured key fits."""
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise UnreadableText("a case text cannot be decrypted with the configured keys") from None

    def rotate(self, token: str | None) -> str | None:
        """The same text, encrypted with the newest key."""
        if token is None:
            return None
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise UnreadableText("a case text cannot be decrypted with the configured keys") from None
