"""pydantic's shape errors (a missing field, a wrong type, a bound broken) in the caller's language.

pydantic words its errors in English only; each error also carries a stable ``type`` and the values
of its template in ``ctx``, which is what this table translates from (the approach pydantic's
documentation gives for custom messages). English keeps pydantic's own sentence; a type missing from
the table keeps it in Italian too. A validator of ours that raises ``ValueError(Said(...))`` is
answered in the language asked for, and any other custom message is passed through as written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from shared.i18n import Said

Ctx = Mapping[str, Any]


def _value(value: Any) -> str:
    """A bound from ``ctx`` as Italian writes it (``0,5``, ``2026-12-05``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value).replace(".", ",")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).replace(".", ",") if isinstance(value, Decimal) else str(value)


def _choices(expected: Any) -> str:
    """pydantic's ``'a', 'b' or 'c'`` with Italian's ``o``."""
    text = str(expected)
    head, sep, last = text.rpartition(" or ")
    return f"{head} o {last}" if sep else text


def _count(n: Any, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


DATE = "deve essere una data valida, scritta AAAA-MM-GG"
DATETIME = "deve essere una data e ora ISO 8601 valida, per esempio 2026-12-05T10:00:00+01:00"
INTEGER = "deve essere un numero intero"
NUMBER = "deve essere un numero"
BOOLEAN = "deve essere vero o falso (true o false)"
OBJECT = "deve essere un oggetto JSON (tra graffe)"
LIST = "deve essere un elenco (tra parentesi quadre)"
UUID = "deve essere un UUID valido"
URL = "deve essere un indirizzo web (URL) valido"

ITALIAN: dict[str, Callable[[Ctx], str]] = {
    "missing": lambda c: "campo obbligatorio",
    "extra_forbidden": lambda c: "campo non previsto",
    "string_type": lambda c: "deve essere un testo",
    "string_too_short": lambda c: f"deve avere almeno {_count(c['min_length'], 'carattere', 'caratteri')}",
    "string_too_long": lambda c: f"può avere al massimo {_count(c['max_length'], 'carattere', 'caratteri')}",
    "string_pattern_mismatch": lambda c: f"non ha la forma richiesta (deve corrispondere a {c['pattern']!r})",
    "too_short": lambda c: f"deve avere almeno {_count(c['min_length'], 'elemento', 'elementi')}",
    "too_long": lambda c: f"può avere al massimo {_count(c['max_length'], 'elemento', 'elementi')}",
    "greater_than": lambda c: f"deve essere maggiore di {_value(c['gt'])}",
    "greater_than_equal": lambda c: f"deve essere maggiore o uguale a {_value(c['ge'])}",
    "less_than": lambda c: f"deve essere minore di {_value(c['lt'])}",
    "less_than_equal": lambda c: f"deve essere minore o uguale a {_value(c['le'])}",
    "multiple_of": lambda c: f"deve essere un multiplo di {_value(c['multiple_of'])}",
    "int_type": lambda c: INTEGER,
    "int_parsing": lambda c: INTEGER,
    "int_from_float": lambda c: f"{INTEGER}, senza parte decimale",
    "int_parsing_size": lambda c: f"{INTEGER} più piccolo",
    "float_type": lambda c: NUMBER,
    "float_parsing": lambda c: NUMBER,
    "finite_number": lambda c: "deve essere un numero finito",
    "decimal_type": lambda c: NUMBER,
    "decimal_parsing": lambda c: NUMBER,
    "bool_type": lambda c: BOOLEAN,
    "bool_parsing": lambda c: BOOLEAN,
    "enum": lambda c: f"deve essere uno di questi valori: {_choices(c['expected'])}",
    "literal_error": lambda c: f"deve essere {_choices(c['expected'])}",
    "date_type": lambda c: DATE,
    "date_parsing": lambda c: DATE,
    "date_from_datetime_parsing": lambda c: DATE,
    "date_from_datetime_inexact": lambda c: "deve essere una data, senza ora",
    "date_past": lambda c: "deve essere una data passata",
    "date_future": lambda c: "deve essere una data futura",
    "datetime_type": lambda c: DATETIME,
    "datetime_parsing": lambda c: DATETIME,
    "datetime_from_date_parsing": lambda c: DATETIME,
    "datetime_object_invalid": lambda c: DATETIME,
    "datetime_past": lambda c: "deve essere un momento passato",
    "datetime_future": lambda c: "deve essere un momento futuro",
    "timezone_aware": lambda c: "deve indicare il fuso orario (per esempio +01:00 o Z)",
    "timezone_naive": lambda c: "non deve indicare il fuso orario",
    "time_type": lambda c: "deve essere un'ora valida, scritta HH:MM",
    "time_parsing": lambda c: "deve essere un'ora valida, scritta HH:MM",
    "json_invalid": lambda c: "non è un JSON valido",
    "json_type": lambda c: "deve essere un testo JSON",
    "model_type": lambda c: OBJECT,
    "model_attributes_type": lambda c: OBJECT,
    "dict_type": lambda c: OBJECT,
    "mapping_type": lambda c: OBJECT,
    "dataclass_type": lambda c: OBJECT,
    "list_type": lambda c: LIST,
    "tuple_type": lambda c: LIST,
    "set_type": lambda c: LIST,
    "frozen_set_type": lambda c: LIST,
    "set_item_not_hashable": lambda c: "gli elementi di un insieme devono essere valori semplici",
    "none_required": lambda c: "deve essere null",
    "uuid_type": lambda c: UUID,
    "uuid_parsing": lambda c: UUID,
    "uuid_version": lambda c: f"{UUID} (versione {c['expected_version']})",
    "url_type": lambda c: URL,
    "url_parsing": lambda c: URL,
    "url_syntax_violation": lambda c: URL,
    "url_too_long": lambda c: f"{URL}, di al massimo {_count(c['max_length'], 'carattere', 'caratteri')}",
    "url_scheme": lambda c: f"deve essere un indirizzo {_choices(c['expected_schemes'])}",
    "union_tag_invalid": lambda c: f"{c['discriminator']} deve essere {_choices(c['expected_tags'])}",
    "union_tag_not_found": lambda c: f"manca il campo {c['discriminator']} che ne dice il tipo",
}


# pydantic's words before a validator's own message
CUSTOM = {"value_error": "Value error, ", "assertion_error": "Assertion failed, "}


def shape_message(error: Mapping[str, Any], language: str) -> str:
    """The message of one pydantic error (an item of ``ValidationError.errors()``) in ``language``."""
    kind, ctx, english = str(error.get("type", "")), error.get("ctx") or {}, str(error.get("msg", ""))
    if kind in CUSTOM and "error" in ctx:
        # a validator's own message: a Said in the language asked for, anything else as written
        custom = ctx["error"]
        said = custom.args[0] if isinstance(custom, Exception) and custom.args else None
        if isinstance(said, Said):
            return CUSTOM[kind] + said.en if language == "en" else said.it
        return english if language == "en" else str(custom)
    if language == "en" or kind not in ITALIAN:
        return english
    try:
        return ITALIAN[kind](ctx)
    except KeyError:  # a ctx without the value the sentence names: pydantic's own words
        return english
