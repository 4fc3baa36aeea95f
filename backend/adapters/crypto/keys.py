"""The data key: 32 random bytes, written as 43 characters of unpadded base64url.

One master key protects a data folder. Each use gets its own subkey (HKDF-SHA256 with a distinct label), so
the database, the blob files and the public key id never share key material. The key id is a fingerprint
that may be written beside the data (it tells a wrong key from a damaged file) without revealing the key.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backend.adapters.crypto.errors import DataKeyError

KEY_BYTES = 32
_TEXT_LENGTH = 43  # base64url of 32 bytes without padding
_LABEL = b"clinical-copilot data key v1: "
BAD_KEY_TEXT = (
    "COPILOT_DATA_KEY is not a data key (expected the 43 characters printed by `python -m backend keys create`). "
    "Nothing was opened."
)


def derive(master: bytes, label: str, length: int = 32, salt: bytes | None = None) -> bytes:
    """A subkey of ``master`` for one purpose (HKDF-SHA256; ``label`` keeps purposes apart)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=_LABEL + label.encode()).derive(master)


@dataclass(frozen=True)
class DataKey:
    """A data folder's master key and the subkeys derived from it."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise DataKeyError(BAD_KEY_TEXT)

    @classmethod
    def generate(cls) -> DataKey:
        """A new random key from the operating system's CSPRNG."""
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def parse(cls, text: str) -> DataKey:
        """The key written as :meth:`text` (surrounding blanks ignored).

        Raises:
            DataKeyError: ``text`` is not 43 characters of base64url.
        """
        text = text.strip()
        if len(text) != _TEXT_LENGTH:
            raise DataKeyError(BAD_KEY_TEXT)
        try:
            raw = base64.urlsafe_b64decode(text + "=")
        except (binascii.Error, ValueError) as e:
            raise DataKeyError(BAD_KEY_TEXT) from e
        if base64.urlsafe_b64encode(raw).decode().rstrip("=") != text:  # refuse look-alikes (+ / or stray bits)
            raise DataKeyError(BAD_KEY_TEXT)
        return cls(raw)

    def text(self) -> str:
        """The key as a setting value (what ``keys create`` prints)."""
        return base64.urlsafe_b64encode(self.secret).decode().rstrip("=")

    @property
    def key_id(self) -> str:
        """A public fingerprint (16 hex digits): the same key always has the same id."""
        return derive(self.secret, "key id", 8).hex()

    def database_key(self) -> bytes:
        """SQLCipher's raw 256-bit key (used as given, so opening a connection costs no key stretching)."""
        return derive(self.secret, "sqlcipher database")

    def blob_key(self) -> bytes:
        """The root of the blob files' per-file keys."""
        return derive(self.secret, "blob files")

    def mac(self, data: bytes) -> str:
        """An HMAC-SHA256 of ``data`` (hex), e.g. to make a backup manifest tamper-evident."""
        return hmac.new(derive(self.secret, "manifest mac"), data, "sha256").hexdigest()
