"""Encryption at rest for the local data folder: SQLCipher for the database, AES-256-GCM for blob files.

``policy`` decides from the settings (and the folder's ``encryption.json``) whether a key is used, before
anything is opened; ``keys`` holds the key and its subkeys; ``blob_format`` and ``sqlcipher`` apply it;
``migrate`` encrypts an existing plain folder in place.
"""

from backend.adapters.crypto.blob_format import BlobCipher
from backend.adapters.crypto.errors import DataKeyError, TamperedFile
from backend.adapters.crypto.keys import DataKey
from backend.adapters.crypto.policy import Encryption, resolve_encryption

__all__ = ["BlobCipher", "DataKey", "DataKeyError", "Encryption", "TamperedFile", "resolve_encryption"]
