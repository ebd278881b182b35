"""The web apps' texts: one table a language, each key once, and the same keys in Italian and English.

A key written twice in a JSON file silently keeps only its last text (a form once said a closure's
message where the weekly hours needed theirs), so duplicates fail here, as do keys one language lacks.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import gateway

I18N = Path(gateway.__file__).parent / "static" / "i18n"
JS = Path(gateway.__file__).parent / "static" / "js"


def _pairs(language: str) -> list[tuple[str, object]]:
    pairs: list[tuple[str, object]] = json.loads(
        (I18N / f"{language}.json").read_text(encoding="utf-8"), object_pairs_hook=lambda p: p
    )
    return pairs


def test_each_key_is_written_once_and_both_languages_have_the_same_keys() -> None:
    tables = {language: _pairs(language) for language in ("it", "en")}
    for language, pairs in tables.items():
        twice = sorted(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        assert not twice, f"{language}.json writes these keys more than once: {twice}"
    italian, english = ({key for key, _ in pairs} for pairs in tables.values())
    assert not italian - english, f"missing in English: {sorted(italian - english)}"
    assert not english - italian, f"missing in Italian: {sorted(english - italian)}"


def test_every_text_the_scripts_ask_for_by_name_exists() -> None:
    keys = {key for key, _ in _pairs("it")}
    asked = {
        key
        for script in JS.glob("*.js")
        for key in re.findall(r"\bt\(\s*'([a-z_]+\.[a-z0-9_.]+)'", script.read_text(encoding="utf-8"))
    }
    assert asked, "the scripts ask for their texts with t('section.key')"
    assert not asked - keys, f"texts the scripts ask for that no table has: {sorted(asked - keys)}"
