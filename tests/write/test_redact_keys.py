"""Which keys are secret: case folding, the key flags, pairs in folded text."""

from __future__ import annotations

import re

from logtrace.write.redact_keys import (
    DEFAULT_KEYS,
    SENSITIVE,
    fold,
    folded_pairs,
    key_flags,
    normal_key,
    pair_rule,
)


def test_every_letter_the_pair_rule_reads_as_an_ascii_one_folds_to_it() -> None:
    """The pair rule's case-insensitive expression matches the long s as ``s``, the Kelvin sign
    as ``k``, the dotless and dotted i as ``i``: ``fold`` reads each as that same letter, so the
    quick check before the rule, and the key rule of fields, never read it otherwise."""
    any_ascii_letter = re.compile(r"(?i:[a-z])")
    found = {}
    for code in range(0x80, 0x20000):  # no letter past the Adlam block (U+1E900) has a case
        char = chr(code)
        if any_ascii_letter.fullmatch(char):
            found[char] = fold(char)
            assert re.fullmatch(f"(?i:{fold(char)})", char), char
    assert found == {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}


def test_fold_is_casefold_with_the_i_letters_and_lower_for_ascii() -> None:
    """ASCII text is lowered; other text case-folded (``ß`` is ``ss``, ``ﬆ`` is ``st``)."""
    assert fold("API_Key-1") == "api_key-1"
    assert fold("Pa\u00dfwd \ufb06 \u0130\u0131") == "passwd st ii"
    assert normal_key("X-Api-\u212aey") == "x_api_key"


def test_a_key_folding_to_a_fragment_is_flagged_sensitive() -> None:
    """``key_flags`` reads the key folded: the long s, the sharp s, the dotted capital I."""
    sensitive = tuple(normal_key(k) for k in DEFAULT_KEYS)
    for key in ("pa\u017f\u017fword", "pa\u00dfwd", "AUTHOR\u0130ZATION", "db_password"):
        flags = key_flags(key, sensitive, frozenset(), redact=True, include_payloads=False)
        assert flags & SENSITIVE, key
    assert not key_flags("user", sensitive, frozenset(), redact=True, include_payloads=False)


def test_folded_pairs_cut_the_text_as_written() -> None:
    """Pairs found in the folded text are replaced in the user's text, whose other letters
    (``Straße``, ligatures in values) stay as they were, even where folding changes lengths."""
    rule, words = pair_rule(normal_key(k) for k in DEFAULT_KEYS)
    text = "Stra\u00dfe pa\u00dfword=\ufb06uff user=b\u00f6b \u017fecret='a \ufb01 b' end"
    assert folded_pairs(text, rule, words) == (
        "Stra\u00dfe pa\u00dfword=[REDACTED] user=b\u00f6b \u017fecret='[REDACTED]' end"
    )
    assert folded_pairs("caf\u00e9 id=1", rule, words) == "caf\u00e9 id=1"
