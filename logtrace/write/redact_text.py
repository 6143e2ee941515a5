"""Secrets by key inside text, and in a program's command line: the rules the scrubber builds.

A field is sensitive when its name *contains* one of the key fragments (``db_password``,
``x-api-key``); text is searched the same way: ``user_password='x'``, ``?access_token=x``,
``{"aws_secret_access_key": "x"}`` and ``password=correct horse battery`` are all pairs whose
key contains a fragment, so their value is replaced. A quoted value is replaced up to its closing
quote; an unquoted one up to the end of the line, a separator (``,`` ``;`` ``&`` a quote) or the
next ``key=`` of the text, so a password of several words goes whole.

Command lines (each file's first line records ``argv``): ``--password X``, ``--api-key=X``,
``-client-secret X`` (Go's flags) — an option of two or more letters whose name contains a
fragment hides its value, in both forms. Single-letter options (``-p X``) are left alone: ``-p``
is a port, a pid or ``--parents`` in most programs, and a password only in a few (mysql,
sshpass); the value rules still apply to every argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

REDACTED = "[REDACTED]"

# The characters of a key: a word with dots and dashes (``aws.secret-key``, ``user_password``).
_KEY_CHARS = r"[A-Za-z0-9_.\-]"
# An unquoted value's characters: not a space, a quote or a separator of pairs.
_BARE = r"[^\s\"',;&]"


def fragment_pattern(fragment: str) -> str:
    """A key fragment as a regular expression: ``api_key`` matches ``api_key``, ``api-key``,
    ``apikey`` (case is ignored by the caller)."""
    parts = [re.escape(part) for part in re.split(r"[_\-]", fragment) if part]
    return r"[_\-]?".join(parts)


def pair_rule(fragments: Iterable[str]) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """The ``key=value`` rule for these key fragments, and the words that must be in the lowered
    text for the rule to be worth running (one per fragment: its longest part)."""
    fragments = sorted({f for f in fragments if f}, key=len, reverse=True)
    alternatives = "|".join(fragment_pattern(f) for f in fragments)
    rule = re.compile(
        rf"(?i:(?<![A-Za-z0-9_.\-])({_KEY_CHARS}*?(?:{alternatives}){_KEY_CHARS}*)"
        r"(\"?'?\s*[=:]\s*)"
        r"(?:\"(?:[^\"\\\n]|\\.)*(?:\"|$)"  # a double-quoted value, escapes allowed
        r"|'[^'\n]*(?:'|$)"  # a single-quoted value
        rf"|{_BARE}+(?:[ \t]+(?!{_KEY_CHARS}+\s*[=:]){_BARE}+)*))",  # bare words
        re.MULTILINE,
    )
    words = {max(re.split(r"[_\-]", f), key=len) for f in fragments}
    return rule, tuple(sorted(w for w in words if w))


def pair_replacement(match: re.Match[str]) -> str:
    """What a pair becomes: its key and separator, then the marker (in the value's quotes)."""
    value = match.group(0)[match.end(2) - match.start(0) :]
    if value[:1] in ("'", '"'):
        quote = value[0]
        closing = quote if len(value) > 1 and value.endswith(quote) else ""
        return f"{match[1]}{match[2]}{quote}{REDACTED}{closing}"
    return f"{match[1]}{match[2]}{REDACTED}"


def redact_argv(argv: Sequence[str], sensitive: Iterable[str]) -> list[str]:
    """``argv`` with the values of sensitive options replaced (see the module's docstring).

    Args:
        argv: the command line (``sys.argv``).
        sensitive: key fragments, normalised (lower case, ``-`` as ``_``).
    """
    fragments = tuple(sensitive)
    out: list[str] = []
    hide_next = False
    for arg in argv:
        arg = str(arg)
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        name, equals, _value = arg.partition("=")
        option = name.lstrip("-")
        if arg.startswith("-") and len(option) >= 2 and not option[0].isdigit():
            normal = option.lower().replace("-", "_")
            if any(fragment in normal for fragment in fragments):
                if equals:
                    out.append(f"{name}={REDACTED}")
                else:
                    out.append(arg)
                    hide_next = True
                continue
        out.append(arg)
    return out
