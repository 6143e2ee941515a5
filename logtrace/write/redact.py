"""Redaction and limits: one pass over each line before it is rendered.

Secrets are found two ways: by key (a field or nested key whose name contains ``password``,
``token``, ``secret``… — case-folded, at any depth of dicts and lists) and by value (bearer
tokens, JWTs, AWS access key ids, PEM private keys, passwords inside URLs, ``password=…`` pairs
in free text). Either way the secret is replaced by ``[REDACTED]``, which holds no part of it.
The message is searched by value too, and so are error messages and tracebacks (by the stamper,
through ``text``, when it adds them).

Limits bound what one line can cost: strings are truncated with a marker, fields past
``max_attributes`` are dropped and counted on the line, structures deeper than ``max_depth``
are cut. Nothing here raises: a failure replaces the user's fields instead of leaking them.

Here: the ``Scrubber`` (its text rules, the copy of a line's fields); the walk over a value's
structure (dicts, lists, dataclasses, bytes…) is ``redact_walk``'s, which it inherits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

from logtrace.format import fields as f
from logtrace.write.redact_keys import (
    DEFAULT_KEYS,
    DEFAULT_PAYLOAD_KEYS,
    HIDDEN,
    RESERVED_KEY,
    SENSITIVE,
    SKIP,
    SKIPPED_AND_EVENT,
    fold,
    folded_pairs,
    hidden_leftovers,
    in_or_writable,
    key_flags,
    key_text,
    normal_key,
    pair_replacement,
    pair_rule,
    redact_argv,
)
from logtrace.write.redact_keys import REDACTED as REDACTED
from logtrace.write.redact_values import VALUE_RULES, may_hold_a_secret
from logtrace.write.redact_walk import (
    MAX_ITEMS,
    PAYLOAD_OMITTED,
    PLAIN_VALUES,
    SCAN_MARGIN,
    SCANNED_FROM,
    TOO_DEEP,
    Walk,
)

__all__ = ["PAYLOAD_OMITTED", "PLAIN_VALUES", "REDACTED", "SCANNED_FROM", "TOO_DEEP", "Scrubber"]

# A %-format each of whose conversions writes an int whole, as decimal digits (with a sign,
# spaces or zeros): d, i, u with flags, width and precision, s and r with flags and width (a
# precision would cut the text: ``%.0s`` writes nothing, ``%.1s`` of -5 a bare ``-``); no ``*``,
# no mapping keys.
_DIGITS_ONLY_FORMAT = re.compile(r"(?:[^%]|%%|%[-+ 0#]*[0-9]*(?:(?:\.[0-9]+)?[diu]|[sr]))*")

# The cache of strings found clean: at most this many, of at most this many characters each.
_CLEAN_MAX_ENTRIES = 4096
_CLEAN_MAX_CHARS = 256

_EVENT = f.EVENT
_PLAIN = PLAIN_VALUES


class Scrubber(Walk):
    """Redaction and limits: used by logtrace's stamper, or as a processor of your own chain.

    Args:
        redact: replace secrets (on by default in ``configure()``).
        keys: extra key fragments to treat as sensitive.
        patterns: extra regular expressions; each match is replaced by ``[REDACTED]``.
        redactor: called as ``redactor(key, value)`` for each top-level user field after the
            built-in rules; its return value is written instead.
        include_payloads: keep fields named like payloads (``payload``, ``body``…).
        max_string: longest string kept whole, in characters.
        max_attributes: most user fields on one line.
        max_depth: deepest nesting of dicts and lists kept.
    """

    __slots__ = (
        "_clean",
        "_extra",
        "_int_formats",
        "_key_flags",
        "_pair_rule",
        "_pair_words",
        "_payload_keys",
        "_rules",
        "_sensitive",
        "include_payloads",
        "max_attributes",
        "max_depth",
        "max_string",
        "redact",
        "redactor",
    )

    def __init__(
        self,
        *,
        redact: bool = True,
        keys: Iterable[str] = (),
        patterns: Iterable[str | re.Pattern[str]] = (),
        redactor: Callable[[str, Any], Any] | None = None,
        include_payloads: bool = False,
        payload_keys: Iterable[str] = DEFAULT_PAYLOAD_KEYS,
        max_string: int = 16_384,
        max_attributes: int = 128,
        max_depth: int = 16,
    ) -> None:
        self.redact = redact
        self.redactor = redactor
        self.include_payloads = include_payloads
        self.max_string = max_string
        self.max_attributes = max_attributes
        self.max_depth = max_depth
        self._sensitive = tuple(normal_key(k) for k in (*DEFAULT_KEYS, *keys))
        self._payload_keys = frozenset(normal_key(k) for k in payload_keys)
        self._rules = tuple((re.compile(p), r, detect) for p, r, detect in VALUE_RULES)
        self._extra = tuple(re.compile(p) if isinstance(p, str) else p for p in patterns)
        self._pair_rule, self._pair_words = pair_rule(self._sensitive)
        self._key_flags: dict[Any, int] = {}
        # Strings ``text`` found nothing to change in (secrets are never added).
        self._clean: set[str] = set()
        # stdlib formats judged by ``int_format_is_clean``: format -> verdict.
        self._int_formats: dict[str, bool] = {}

    def _flags(self, key: Any) -> int:
        """What a key is (``redact_keys.key_flags``); 0 for a key that is not a ``str``.

        Judged on the key's text, so a ``StrEnum`` member is what its value is. Cached for
        plain ``str`` keys only: anything else may compare equal to a string while judged
        otherwise, and the cache would then answer for that string.
        """
        flags = self._key_flags.get(key) if type(key) is str else None
        if flags is not None:
            return flags
        flags = 0
        if isinstance(key, str):
            flags = key_flags(
                str.__str__(key),
                self._sensitive,
                self._payload_keys,
                redact=self.redact,
                include_payloads=self.include_payloads,
            )
            if type(key) is str and len(self._key_flags) < 4096:
                self._key_flags[key] = flags
        return flags

    def text(self, value: str, remember: bool = True) -> str:
        """``value`` with secrets replaced (if redacting) and cut to ``max_string``.

        A string found clean is remembered (the next time costs one set lookup) unless
        ``remember`` is false: for text made anew each time, a formatted message say.
        """
        clean = self._clean
        if value in clean:
            return value
        original = value
        limit = self.max_string
        if len(value) > limit + SCAN_MARGIN:
            # Cut before the rules, so a line costs the same whatever the value's size; the
            # margin lets a secret that straddles the cut still match whole.
            value = value[: limit + SCAN_MARGIN]
        if self.redact and value:
            before = value
            # The value rules' secrets are 8 characters or more; a pair may be 5 (``pwd=x``).
            if len(value) >= 8 and may_hold_a_secret(value):
                lowered = fold(value)
                for rule, replacement, detect in self._rules:
                    if detect(value, lowered):
                        value = rule.sub(replacement, value)
                        lowered = fold(value)
            if "=" in value or ":" in value:
                # Keys are read folded (the long s of "pa\u017f\u017fword="); ASCII text
                # lowered is that, inline.
                if value.isascii():
                    lowered = value.lower()
                    if any(word in lowered for word in self._pair_words):
                        value = self._pair_rule.sub(pair_replacement, value)
                else:
                    value = folded_pairs(value, self._pair_rule, self._pair_words)
            if value is not before and ("=" in before or ":" in before):
                # A rule may have taken a pair's key (``Bearer password: x``, ``k:password: x``).
                value = hidden_leftovers(self._pair_rule, before, value)
            for pattern in self._extra:
                value = pattern.sub(REDACTED, value)
        if len(original) > limit and len(value) > limit:
            cut = len(original) - limit
            value = f"{value[:limit]}…[truncated {cut} chars]"
        elif len(value) > limit:
            value = f"{value[:limit]}…[truncated {len(value) - limit} chars]"
        elif remember and value is original and self.redact and len(value) <= _CLEAN_MAX_CHARS:
            # Messages and values repeat: the next time, one set lookup instead of the rules.
            if len(clean) >= _CLEAN_MAX_ENTRIES:
                clean.clear()
            clean.add(value)
        return value

    def int_format_is_clean(self, fmt: str) -> bool:
        """Whether ``text(fmt % ints)`` is ``fmt % ints`` for every tuple of ``int``s (within
        ``max_string``): then a stdlib message made so need not be searched. Remembered.

        Ints write digits and at most a sign, spaces and zeros, none of which begins a secret:
        every rule needs text an int cannot write (``-----BEGIN``, ``://`` and ``@``, ``bearer``,
        ``eyJ``, ``AKIA``…, ``gh?_``, ``xox``, ``sk_``, a key word and ``=`` or ``:``), which
        would then be in ``fmt`` itself, whole, for the checks below to find. The one exception is
        ``sk-`` (``sk%d`` of a negative int), hence no ``sk%``; user ``patterns`` may match
        anything, hence none; and user ``keys`` whose word an int may write part of
        (``x509_key``: ``x%d_key=…`` of 509), hence none of those with a ``=`` or ``:``.
        """
        verdict = self._int_formats.get(fmt)
        if verdict is not None:
            return verdict
        words = self._pair_words
        verdict = not self.redact or (
            not self._extra
            and _DIGITS_ONLY_FORMAT.fullmatch(fmt) is not None
            and "sk%" not in fmt
            and not may_hold_a_secret(fmt)
            and not (("=" in fmt or ":" in fmt) and any(in_or_writable(w, fmt) for w in words))
        )
        if len(self._int_formats) >= _CLEAN_MAX_ENTRIES:
            self._int_formats.clear()
        self._int_formats[fmt] = verdict
        return verdict

    def hidden_args(self, args: Any) -> Any:
        """``%``-format arguments given as a mapping (``log.info("%(password)s", {...})``),
        the values of its secret- and payload-named keys replaced as fields' are; any other
        arguments as they are. The mapping itself is never modified."""
        if not isinstance(args, Mapping):
            return args
        hidden: dict[Any, Any] | None = None
        try:
            for key in args:
                flags = self._flags(key_text(key))
                if flags & HIDDEN:
                    if hidden is None:
                        hidden = dict(args)
                    hidden[key] = REDACTED if flags & SENSITIVE else PAYLOAD_OMITTED
        except Exception:
            return {}  # a mapping that fails to be read: formatting it fails the same way
        return args if hidden is None else hidden

    def argv(self, argv: Iterable[Any]) -> list[str]:
        """A command line with the values of sensitive options hidden (``--password X`` and
        ``--password=X`` alike; see ``logtrace.write.redact_keys``), each argument scrubbed too."""
        args = [str(arg) for arg in argv]
        if self.redact:
            args = redact_argv(args, self._sensitive)
        return [self.text(arg) for arg in args]

    def copy_fields(
        self,
        out: MutableMapping[Any, Any],
        fields: Mapping[Any, Any],
        rename: bool,
        skip: bool = True,
    ) -> None:
        """Copy the user fields of ``fields`` into ``out``, scrubbed and within the limits.

        ``event`` and the event dict's internal keys are left out (``skip``); without ``skip``
        (a span's attributes, where ``event="signup"`` is the user's) they are renamed as
        logtrace's own are. With ``rename``, a field named like one of logtrace's own gets a
        trailing underscore. Fields past ``max_attributes`` are left out and counted in
        ``attributes_dropped``.
        """
        known = self._key_flags
        redactor = self.redactor
        limit = self.max_attributes
        if redactor is None and len(fields) <= limit:
            # The common case: no field can be past the limit, no redactor to call, and a
            # plain key (flags 0: not hidden, not ours, not skipped) needs its value alone.
            budget = None  # the line's container items left to walk: made when first needed
            for key, value in fields.items():
                flags = known.get(key) if type(key) is str else None
                if flags is None:
                    flags = self._flags(key)
                if flags:
                    if flags & SKIP:
                        if skip:
                            continue
                        flags |= RESERVED_KEY
                    if flags & HIDDEN:
                        value = REDACTED if flags & SENSITIVE else PAYLOAD_OMITTED
                    elif type(value) is str:
                        if len(value) >= SCANNED_FROM:
                            value = self.text(value)
                    elif not isinstance(value, _PLAIN):
                        if budget is None:
                            budget = [MAX_ITEMS]
                        value = self.value(value, 0, budget)
                    if flags & RESERVED_KEY and rename:
                        key = str.__str__(key) + "_"
                elif type(value) is str:
                    if len(value) >= SCANNED_FROM:
                        value = self.text(value)
                elif not isinstance(value, _PLAIN):
                    if budget is None:
                        budget = [MAX_ITEMS]
                    value = self.value(value, 0, budget)
                out[key] = value
            return
        self._copy_within(out, fields, rename, skip, limit)

    def own_fields(self, out: MutableMapping[Any, Any], fields: Mapping[Any, Any]) -> None:
        """Copy logtrace's own fields of a line it writes about itself (a file's header, a drop
        or write-error notice) into ``out``, scrubbed and redacted as ``copy_fields`` does, but
        never cut by ``max_attributes``, the limit of the user's fields (a header without its
        ``argv`` and ``python`` says less about its file)."""
        self._copy_within(out, fields, False, True, len(fields))

    def _copy_within(
        self,
        out: MutableMapping[Any, Any],
        fields: Mapping[Any, Any],
        rename: bool,
        skip: bool,
        limit: int,
    ) -> None:
        """``copy_fields`` the long way: every field judged, the ``redactor`` called, fields
        past ``limit`` left out and counted."""
        known = self._key_flags
        redactor = self.redactor
        count = dropped = 0
        budget = [MAX_ITEMS]  # the line's container items left to walk
        for key, value in fields.items():
            flags = known.get(key) if type(key) is str else None
            if flags is None:
                flags = self._flags(key)
            if flags & SKIP:
                if skip:
                    continue
                flags |= RESERVED_KEY
            count += 1
            if count > limit:
                dropped += 1
                continue
            if flags & HIDDEN:
                value = REDACTED if flags & SENSITIVE else PAYLOAD_OMITTED
            elif type(value) is str:
                if len(value) >= SCANNED_FROM:
                    value = self.text(value)
            elif not isinstance(value, _PLAIN):
                value = self.value(value, 0, budget)
            if flags & RESERVED_KEY and rename:
                key = str.__str__(key) + "_"
            if redactor is not None:
                try:
                    value = redactor(key, value)
                except Exception:
                    value = REDACTED  # it may have been meant to hide this value: hide it
            out[key] = value
        if dropped:
            out[f.ATTRIBUTES_DROPPED] = dropped

    def __call__(self, logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        """For structlog chains of your own: a scrubbed copy of ``event_dict``."""
        try:
            out = {key: event_dict[key] for key in SKIPPED_AND_EVENT if key in event_dict}
            event = out.get(_EVENT)
            if isinstance(event, str):
                out[_EVENT] = self.text(event)
            self.copy_fields(out, event_dict, rename=False)
            return out
        except Exception:
            # Never let a failure here write the unscrubbed fields.
            return {_EVENT: "logtrace.redaction_error"}
