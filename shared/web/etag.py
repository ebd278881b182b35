"""Entity tags and ``If-Match`` (RFC 9110 §8.8.3 and §13.1.1) for versioned records.

A versioned record is served with a strong ``ETag: "<version>"``. ``If-Match`` is evaluated with
the strong comparison: ``*`` matches any current record, a list of tags matches when one strong tag
names the current version, and a weak tag (``W/"3"``) never matches — a client that only holds a
weak validator must read the record again. A header that cannot be parsed matches nothing (412).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Response

from shared.versions import Precondition

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE ; etagc = %x21 / %x23-7E / obs-text
_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')
_VERSION = re.compile(r"\d{1,18}")


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def parse_if_match(header: str | None) -> Precondition:
    """The versions an ``If-Match`` header allows; absent or ``*`` allows any."""
    if header is None or header.strip() == "*":
        return Precondition.any()
    versions: set[int] = set()
    rest = header
    while rest.strip():
        match = _ENTITY_TAG.match(rest)
        if match is None:
            return Precondition(frozenset())
        weak, opaque = match.groups()
        if not weak and _VERSION.fullmatch(opaque):
            versions.add(int(opaque))
        rest = rest[match.end() :]
        if rest.strip():
            if not rest.lstrip().startswith(","):
                return Precondition(frozenset())
            rest = rest.lstrip()[1:]
    return Precondition(frozenset(versions))


async def _if_match(
    if_match: Annotated[
        str | None,
        Header(description='the ETag read from the record, e.g. "3" (strong comparison; * for any version)'),
    ] = None,
) -> Precondition:
    return parse_if_match(if_match)


IfMatch = Annotated[Precondition, Depends(_if_match)]
"""A route parameter: the precondition stated by the request's ``If-Match``."""
