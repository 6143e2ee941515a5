"""Which values are secret: the value rules' patterns, and the cheap test that keeps almost
every string away from them.

A rule is (pattern, replacement, detect); the scrubber (redact.py) compiles the patterns and
runs them only on strings ``may_hold_a_secret`` lets through. Which keys are secret is
redact_keys.py's.
"""

from __future__ import annotations

from collections.abc import Callable

from logtrace.write.redact_keys import REDACTED, fold

__all__ = ["VALUE_RULES", "may_hold_a_secret"]


# (pattern, replacement, detect): a rule runs only on strings its cheap ``detect(value,
# lowered)`` accepts, because a case-insensitive alternation costs microseconds per string.
VALUE_RULES: tuple[tuple[str, str, Callable[[str, str], bool]], ...] = (
    (
        # PEM's "PRIVATE KEY", and OpenPGP's armour: "PGP PRIVATE KEY BLOCK".
        r"-----BEGIN[A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END[A-Z ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        REDACTED,
        lambda v, low: "-----BEGIN" in v,
    ),
    (
        # The password runs to the last "@" before the host (urllib splits there too): an "@"
        # in it (p@ss) would otherwise leave its rest on disk.
        r"(?i:\b([a-z][a-z0-9+.\-]*://[^:/@\s]*):[^/\s]+@)",
        r"\1:" + REDACTED + "@",
        lambda v, low: "://" in v and "@" in v,
    ),
    (
        # The credential runs to the end of its characters, ``=`` included: padding, and text
        # glued after it (``Bearer XXXXpassword=secret`` is one credential, not a key).
        r"(?i:\b(bearer|basic|token)\s+[A-Za-z0-9\-._~+/]{8,}[A-Za-z0-9\-._~+/=]*)",
        r"\1 " + REDACTED,
        lambda v, low: "bearer" in low or "basic" in low or "token" in low,
    ),
    (
        r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
        REDACTED,
        lambda v, low: "eyJ" in v,
    ),
    (
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b",
        REDACTED,
        lambda v, low: any(tail in v for tail in ("IA", "PA", "DA", "OA", "VA")),
    ),
    (r"\bgh[pousr]_[A-Za-z0-9]{20,}", REDACTED, lambda v, low: "_" in v and "gh" in v),
    # GitHub's fine-grained personal access tokens.
    (r"\bgithub_pat_[A-Za-z0-9_]{20,}", REDACTED, lambda v, low: "github_pat_" in v),
    (r"\bxox[abprs]-[A-Za-z0-9-]{10,}", REDACTED, lambda v, low: "xox" in v),
    (
        # Stripe's and OpenAI's (sk-proj-…, sk-svcacct-…, sk-admin-…, with - and _ inside).
        r"\bsk[_-](?:live[_-]|test[_-])?[A-Za-z0-9]{16,}"
        r"|\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{16,}",
        REDACTED,
        lambda v, low: "sk_" in v or "sk-" in v,
    ),
)


def may_hold_a_secret(value: str) -> bool:
    """False for almost every ordinary string, cheaply; True sends it through the rules.

    True whenever one of the rules' ``detect`` is (a test checks that). ``key=value`` pairs
    are the scrubber's own rule (its key fragments), tried on text with a ``=`` or ``:``.
    """
    if (
        "-----" in value
        or "eyJ" in value
        or "sk_" in value  # not "sk": task, disk, risk and ask would all take the slow way
        or "sk-" in value
        or "xox" in value
        or (
            "A" in value
            and ("IA" in value or "PA" in value or "DA" in value or "OA" in value or "VA" in value)
        )
        or ("gh" in value and "_" in value)
        or "github_pat_" in value
        or ("://" in value and "@" in value)
    ):
        return True
    # Folded: the rule's (?i) matches "basic" spelled with a long s (U+017F) or a dotless i.
    lowered = value.lower() if value.isascii() else fold(value)
    return "bearer" in lowered or "basic" in lowered or "token" in lowered
