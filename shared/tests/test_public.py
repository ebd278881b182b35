"""``Public.of``: an answer read from a domain object's attributes, nested objects included."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from shared.i18n import Said
from shared.web.public import Public


@dataclass(frozen=True)
class Notice:
    code: str
    tags: tuple[str, ...]
    said: Said | None
    from_status: str

    @property
    def label(self) -> str:
        return f"{self.code} ({len(self.tags)})"


class SaidPublic(BaseModel):
    it: str
    en: str


class NoticePublic(Public[Notice]):
    model_config = ConfigDict(serialize_by_alias=True)

    code: str
    tags: list[str]
    said: SaidPublic | None
    label: str
    from_: str = Field(validation_alias=AliasChoices("from", "from_status"), serialization_alias="from")


def test_reads_fields_properties_aliases_and_nested_objects() -> None:
    notice = Notice("closing", ("x", "y"), Said(it="chiuso", en="closed"), "open")

    assert NoticePublic.of(notice).model_dump(mode="json") == {
        "code": "closing",
        "tags": ["x", "y"],
        "said": {"it": "chiuso", "en": "closed"},
        "label": "closing (2)",
        "from": "open",
    }


def test_a_missing_nested_object_stays_missing() -> None:
    assert NoticePublic.of(Notice("quiet", (), None, "open")).said is None


def test_an_object_lacking_a_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="code"):
        NoticePublic.of(Said(it="ciao", en="hello"))  # type: ignore[arg-type]
