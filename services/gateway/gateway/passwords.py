"""Password hashing with argon2id, off the event loop and bounded in memory.

Each verification costs ~0.1 s and 64 MiB, so it runs in a worker thread and at most a few run
at once. An unknown user is checked against a throw-away hash of the same cost, so a wrong
username and a wrong password take the same time.
"""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 256


class Passwords:
    def __init__(self, concurrency: int = 4) -> None:
        self._hasher = PasswordHasher()
        self._slots = asyncio.Semaphore(concurrency)
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with no stored hash, spend the same time and say no."""
        async with self._slots:
            return await asyncio.to_thread(self._verify, stored_hash, password[:MAX_LENGTH])

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            matched = self._hasher.verify(stored_hash or self._decoy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return matched and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)
