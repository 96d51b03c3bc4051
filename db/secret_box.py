"""Encryption of secret values at rest: AES-256-GCM from `cryptography`.

The key is 32 random bytes, configured as 44 characters of base64 (standard
or URL-safe alphabet: the form Fernet keys take), GATEWAY_SECRETS_KEY. A
value is stored as one version byte, a random 96-bit nonce, then the
ciphertext with its 128-bit tag. The associated data binds each ciphertext to
what it belongs to (a secret's id): copied onto another row, it does not
decrypt. GCM is authenticated, so a wrong key or a changed byte is an error,
never garbage.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_VARIABLE = "GATEWAY_SECRETS_KEY"
_FORMAT = 1
_NONCE_BYTES = 12
_KEY_TEXT = re.compile(r"[A-Za-z0-9+/_-]{43}=")
# what the key check holds, encrypted (db/secret_keys.py)
_CHECK_TEXT = b"envgraph secrets key check"
_CHECK_DATA = b"envgraph:secrets-key-check"


class WrongKey(Exception):
    """The ciphertext was not made with this key (or was changed)."""


def parse_key(text: str) -> bytes:
    """The 32 bytes of a key written in base64 (ValueError, without the text, if not)."""
    text = text.strip()
    if not _KEY_TEXT.fullmatch(text):
        raise ValueError(
            "takes 32 random bytes in base64: 44 characters ending in '=' "
            "(e.g. from `python -m gateway generate-secrets-key`)"
        )
    try:
        key = base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_"))
    except binascii.Error:
        raise ValueError("is not valid base64") from None
    if len(key) != 32:
        raise ValueError("must decode to 32 bytes")
    return key


def generate_key() -> str:
    """A fresh key, as GATEWAY_SECRETS_KEY takes it (URL-safe base64)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


class SecretBox:
    """Encrypts and decrypts with one key."""

    __slots__ = ("_aead", "_opened")

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        # the last stored check value this key opened (`opens_check`)
        self._opened: bytes | None = None

    def __repr__(self) -> str:
        return "SecretBox(<key not shown>)"

    def seal(self, plaintext: str, associated: bytes) -> bytes:
        """The stored form of `plaintext`, bound to `associated`."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), associated)
        return bytes([_FORMAT]) + nonce + sealed

    def open(self, stored: bytes, associated: bytes) -> str:
        """The plaintext of `stored`; WrongKey when this key (and `associated`) did not
        make it."""
        if len(stored) < 1 + _NONCE_BYTES + 16 or stored[0] != _FORMAT:
            raise WrongKey("not a ciphertext of this format")
        nonce, sealed = stored[1 : 1 + _NONCE_BYTES], stored[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, associated).decode("utf-8")
        except InvalidTag:
            raise WrongKey("the key (or the data) does not match") from None

    def check_value(self) -> bytes:
        """A known text sealed with this key: stored once, it tells later which key
        the secrets were encrypted under."""
        return self.seal(_CHECK_TEXT.decode(), _CHECK_DATA)

    def opens_check(self, stored: bytes) -> bool:
        """Whether `stored` (a check value) was made with this key."""
        if stored == self._opened:
            return True
        try:
            opens = self.open(stored, _CHECK_DATA) == _CHECK_TEXT.decode()
        except WrongKey:
            return False
        if opens:
            self._opened = stored
        return opens

    def opened_check(self) -> bytes | None:
        """The last stored check value this key opened (None: none yet). A write that
        finds the stored one still equal to it knows the key is still this one, with
        no decryption (db/secrets.py)."""
        return self._opened
