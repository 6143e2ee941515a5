"""Redaction and limits: secrets never reach disk, lines stay bounded."""

from __future__ import annotations

import dataclasses
import enum
import logging
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson
import pytest
import structlog
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

import logtrace
from logtrace import testing
from logtrace.write.pipeline import render
from logtrace.write.redact import REDACTED, Scrubber
from logtrace.write.redact_values import VALUE_RULES, may_hold_a_secret
from logtrace.write.stamper import Stamper

RULES = [(re.compile(pattern), replacement, detect) for pattern, replacement, detect in VALUE_RULES]

NON_HEX = "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ"


def scrub(**fields: object) -> dict[str, object]:
    """Run the default scrubber over a line of user fields."""
    return Scrubber()(None, "info", {"event": "x", **fields})


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "PASSWORD",
        "db_password",
        "Api-Key",
        "apikey",
        "x_auth_token",
        "Authorization",
        "cookie",
        "session_id",
        "private_key",
        "credentials",
        "client_secret",
        "passwd",
    ],
)
def test_sensitive_keys_are_redacted_case_insensitively(key: str) -> None:
    """Fields whose names contain a sensitive word are replaced whatever their value."""
    assert scrub(**{key: "hunter2hunter2"})[key] == REDACTED
    assert scrub(**{key: {"nested": 1}})[key] == REDACTED


# Letters that case-fold to ASCII ones: the long s, the Kelvin sign, the dotted and dotless i,
# the sharp s and the Latin ligatures (``ß`` is ``ss``, ``ﬆ`` is ``st``).
_FOLDED_LETTERS = {
    "s": ("\u017f",),
    "k": ("\u212a",),
    "i": ("\u0131", "\u0130"),
    "ss": ("\u00df", "\u1e9e"),
    "st": ("\ufb05", "\ufb06"),
    "ff": ("\ufb00",),
    "fi": ("\ufb01",),
    "fl": ("\ufb02",),
    "ffi": ("\ufb03",),
    "ffl": ("\ufb04",),
}
FOLDED_KEYS = [
    "pa\u017f\u017fword",  # the long s
    "\u017fecret",
    "api_\u212aEY",  # Kelvin sign
    "AUTHOR\u0130ZATION",  # dotted capital I
    "author\u0131zation",  # dotless i
    "pa\u00dfwd",  # sharp s
    "user_SE\u017f\u017fION_id",
    "to\u212aen",
]


@pytest.mark.parametrize("key", FOLDED_KEYS)
def test_keys_that_case_fold_to_sensitive_ones_never_reach_the_file(
    key: str, tmp_path: Path
) -> None:
    """A key spelled with letters that fold to ASCII ones (``password`` with the long s,
    ``api_KEY`` with the Kelvin sign) hides its value wherever the scrubber reads keys: span
    attributes, log fields, nested keys, header pairs, pairs in messages and exceptions, int
    messages, argv."""
    secret = "Zq7wXv9kLmNp"
    logtrace.configure(service="t", directory=tmp_path, environ={})
    try:
        log = logging.getLogger("app")
        with logtrace.span("login", **{key: secret + "A"}) as span:
            span.set(**{key: secret + "B"})
            extra = {key: secret + "C", "form": {key: secret + "D"}, "hdrs": [(key, secret + "E")]}
            log.warning("stdlib", extra=extra)
            structlog.get_logger("app").warning("structlog", **{key: secret + "F"})
            log.warning(f"login {key}={secret}G ok")
            log.warning(f'body {{"{key}": "{secret}H"}}')
            log.warning(f"{key}=%d", 4242424242)
            try:
                raise ValueError(f"bad {key}={secret}I")
            except ValueError:
                log.exception("failed")
        logtrace.flush()
    finally:
        logtrace.shutdown()
    text = "".join(p.read_text() for p in tmp_path.rglob("*.jsonl"))
    assert "stdlib" in text and "failed" in text
    assert secret not in text and "4242424242" not in text
    assert Scrubber().argv(["prog", f"--{key}", secret]) == ["prog", f"--{key}", REDACTED]


WORD_KEYS = ["auth", "X-Auth", "basic_auth", "auth.token", "PASS", "db_pass", "gpg_passphrase"]


@pytest.mark.parametrize("key", WORD_KEYS)
def test_auth_and_pass_as_words_of_a_key_never_reach_the_file(key: str, tmp_path: Path) -> None:
    """``auth`` and ``pass`` are secret as a whole word of a key (``X-Auth``, ``db_pass``), in
    every place the scrubber reads keys: attributes, log fields, nested keys, header pairs, pairs
    in messages, argv; ``passphrase`` is a fragment like ``password``."""
    secret = "Zq7wXv9kLmNp"
    logtrace.configure(service="t", directory=tmp_path, environ={})
    try:
        log = logging.getLogger("app")
        with logtrace.span("login", **{key: secret + "A"}):
            extra = {key: secret + "C", "form": {key: secret + "D"}, "hdrs": [(key, secret + "E")]}
            log.warning("stdlib", extra=extra)
            structlog.get_logger("app").warning("structlog", **{key: secret + "F"})
            log.warning(f"login {key}={secret}G ok")
            log.warning(f'body {{"{key}": "{secret}H"}}')
        logtrace.flush()
    finally:
        logtrace.shutdown()
    text = "".join(p.read_text() for p in tmp_path.rglob("*.jsonl"))
    assert "stdlib" in text and "structlog" in text
    assert secret not in text
    assert Scrubber().argv(["prog", f"--{key}", secret]) == ["prog", f"--{key}", REDACTED]


@pytest.mark.parametrize("key", ["author", "passport", "bypass", "compass", "authority"])
def test_words_that_hold_auth_or_pass_inside_are_kept(key: str) -> None:
    """``author=Tolkien`` is no secret: the two words are secret whole, not as fragments."""
    line = scrub(**{key: "Tolkien"}, msg=f"{key}=Tolkien")
    assert line[key] == "Tolkien" and line["msg"] == f"{key}=Tolkien"
    assert Scrubber().argv(["prog", f"--{key}", "x"]) == ["prog", f"--{key}", "x"]


def test_short_pairs_are_hidden_wherever_text_is_written(tmp_path: Path) -> None:
    """A pair shorter than 8 characters (``pwd=S3C``) is searched too: as a %-argument of a
    stdlib message, a message of its own, a span attribute's value, a span name, a field."""
    logtrace.configure(service="t", directory=tmp_path, environ={})
    try:
        log = logging.getLogger("app")
        with logtrace.span("pwd=S3C", note="pwd=S3D"):
            log.warning("%s", "pwd=S3E")
            log.warning("pwd=S3F")
            structlog.get_logger("app").warning("pwd=S3G", field="pwd=S3H")
        with logtrace.span("outer"), logtrace.span("pwd=S3I"):
            pass
        logtrace.flush()
    finally:
        logtrace.shutdown()
    text = "".join(p.read_text() for p in tmp_path.rglob("*.jsonl"))
    assert re.findall(r"S3[C-I]", text) == []
    assert "outer" in text and text.count("pwd=[REDACTED]") >= 9


def _judged(scrubber: Scrubber, key: str) -> tuple[bool, ...]:
    """Whether the value under ``key`` is hidden: as a field, nested, a pair in text (bare and
    JSON), an option, and whether an int message of it is searched."""
    value = "hunter2hunter2"
    line = scrubber(None, "info", {"event": "x", key: value, "n": {key: value}})
    return (
        line[key] == REDACTED,
        line["n"][key] == REDACTED,
        value not in scrubber.text(f"a {key}={value} b", remember=False),
        value not in scrubber.text(f'{{"{key}": "{value}"}}', remember=False),
        value not in scrubber.argv(["prog", f"--{key}", value]),
        not scrubber.int_format_is_clean(f"{key}=%d"),
    )


# No piece makes text a value rule finds (``sk_``, ``AKIA``…): those rules are about values,
# case-sensitive, and judge an int format too.
_KEY_PIECES = st.sampled_from(
    ["password", "Passwd", "SECRET", "token", "api_key", "Session", "access_key", "signature",
     "trust", "user", "id", "first", "ss", "ki", "fi", "x", "_", "-", ".", "K"]
)  # fmt: skip


@settings(max_examples=500)
@given(st.lists(_KEY_PIECES, min_size=1, max_size=4).map("".join), st.randoms())
def test_a_key_is_judged_as_its_ascii_spelling_is(key: str, rng: random.Random) -> None:
    """Spelling some of a key's letters with ones that case-fold to them (the long s, the
    Kelvin sign, the dotless i, ``ß``, ``ﬆ``…) changes nothing: every rule that reads keys
    judges it as the ASCII key."""
    spelled, i = "", 0
    while i < len(key):
        for n in (3, 2, 1):
            variants = _FOLDED_LETTERS.get(key[i : i + n].lower())
            if variants and rng.random() < 0.5:
                spelled, i = spelled + rng.choice(variants), i + n
                break
        else:
            spelled, i = spelled + key[i], i + 1
    scrubber = Scrubber(keys=["trust"])
    assert _judged(scrubber, spelled) == _judged(scrubber, key), spelled


_KEY_WORDS = st.sampled_from(
    ["access", "Key", "api", "card", "Number", "private", "pass", "word", "id", "x", "_", "-", "."]
)


@settings(max_examples=500)
@given(st.lists(_KEY_WORDS, min_size=1, max_size=5).map("".join))
def test_a_key_hidden_as_a_pair_in_text_is_hidden_as_a_field(key: str) -> None:
    """The field rule reads keys as the pair rule does, a fragment's ``_`` optional: whatever
    the key, its value is hidden as a field, nested, a pair in text and an option alike."""
    judged = _judged(Scrubber(keys=["trust", "card_number"]), key)
    assert len(set(judged[:5])) == 1, (key, judged)


@pytest.mark.parametrize("key", ["accessKey", "accessKeyId", "access-key", "cardNumber"])
def test_a_fragment_written_without_its_underscore_is_hidden(key: str) -> None:
    """``access_key`` (a default) and a key of your own (``card_number``) catch the camelCase
    and dashed spellings, as fields and as options, as they already did as pairs in text."""
    scrubber = Scrubber(keys=["card_number"])
    assert _judged(scrubber, key) == (True,) * 6


def test_sensitive_keys_at_any_depth_of_dicts_and_lists() -> None:
    """Nested dicts and lists are searched; the user's own objects are not modified."""
    payload = {"user": {"name": "bob", "credentials": {"pin": "1234"}}, "items": [{"token": "t"}]}
    out = scrub(request=payload)["request"]
    assert out == {"user": {"name": "bob", "credentials": REDACTED}, "items": [{"token": REDACTED}]}
    assert payload["items"] == [{"token": "t"}]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer qwertyuiopasdfghjkl", "qwertyuiopasdfghjkl"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4fwpM", "SflKxwRJSMeKKF"),
        ("key AKIAIOSFODNN7EXAMPLE in use", "IOSFODNN7EXAMPLE"),
        ("postgres://admin:s3cretpass@db:5432/x", "s3cretpass"),
        ("login password=hunter2xyz ok", "hunter2xyz"),
        ('{"api_key": "zzyyxxwwvv"}', "zzyyxxwwvv"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
            "MIIE",
        ),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnop"),
        ("Bearer XXXXpassword=secretvalue", "secretvalue"),
        # Found by a hostile-input review: each was written whole, or its end was.
        ("mysql://app:p@ssZq9Xw7Vb@db/prod", "ssZq9Xw7Vb"),
        ("{'password' => 'Xsecret1x'}", "Xsecret1x"),  # Ruby's, Perl's, PHP's dumps
        ('{\\"password\\": \\"Zsecret3z\\"}', "Zsecret3z"),  # JSON inside a JSON string
        ('{"b": "{\\"token\\": \\"a\\\\\\"Wsecret4w\\"}"}', "Wsecret4w"),  # its escapes
        ("password => Ysecret2y and more", "Ysecret2y"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnop"),
        ("key sk-proj-abc_DEF-ghiJKLmnoPQRstuVWX here", "ghiJKLmnoPQRstu"),
        (
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF0sKVsBCAC\n"
            "-----END PGP PRIVATE KEY BLOCK-----",
            "lQOYBF0sKVsBCAC",
        ),
    ],
)
def test_credential_shaped_values_are_redacted(text: str, secret: str) -> None:
    """Bearer tokens, JWTs, AWS keys, URL passwords, key=value pairs and PEM keys are found."""
    out = scrub(note=text)
    assert secret not in str(out["note"]) and REDACTED in str(out["note"])
    line = Scrubber()(None, "info", {"event": text})
    assert secret not in str(line["event"])


_SECRET_PIECES = st.sampled_from(
    [
        "Bearer ", "basic ", "TOKEN ", "eyJ", "AKIA", "ASIA", "sk_", "sk-live-", "xoxb-", "ghp_",
        "://", "db://u:", "pw@h", "@", ":", "=", "password", "Session", "api-key",
        "-----BEGIN RSA PRIVATE KEY-----",
        "task", "disk", "a", "Z", "0", " ", ".", "_", "-", "abcdefghijklmnopqrstuvwxyz0123",
        "ba\u017fic ", "BAS\u0130C ", "bas\u0131c ", "to\u212aen ", "\u212a",
    ]
)  # fmt: skip


@settings(max_examples=2000)
@given(st.lists(_SECRET_PIECES, max_size=8).map("".join))
def test_the_cheap_precheck_never_hides_a_secret_from_the_rules(text: str) -> None:
    """Whatever a redaction rule would change, the cheap check sends through the rules."""
    changed = any(pattern.sub(replacement, text) != text for pattern, replacement, _ in RULES)
    if changed:
        assert may_hold_a_secret(text)


@settings(max_examples=2000)
@given(
    st.lists(_SECRET_PIECES, max_size=6).map("".join),
    st.sampled_from(["=", ": ", ":", " = ", '="', "='"]),
)
def test_a_password_pair_is_hidden_whatever_is_glued_before_it(before: str, sep: str) -> None:
    """``password=<secret>`` after any text, a token glued to the key included (``Bearer
    XXXXpassword=secret``, where the bearer rule took the key and left the value)."""
    out = Scrubber().text(f"{before}password{sep}Qv7canaryQv7 tail")
    assert "canary" not in out


def test_keys_that_are_str_subclasses_are_judged_by_their_text() -> None:
    """A StrEnum key is redacted or renamed like its value, and never changes how the plain
    string key is judged afterwards."""

    class Field(enum.StrEnum):
        password = enum.auto()
        trace_id = enum.auto()

    scrubber = Scrubber()
    first = scrubber(
        None, "info", {"event": "x", Field.password: "a", "form": {Field.password: "b"}}
    )
    out: dict[str, object] = {}
    scrubber.copy_fields(out, {Field.trace_id: "t"}, rename=True)
    later = scrubber(None, "info", {"event": "x", "password": "c", "form": {"password": "d"}})
    assert first["password"] == REDACTED and first["form"] == {"password": REDACTED}
    assert out == {"trace_id_": "t"}
    assert later["password"] == REDACTED and later["form"] == {"password": REDACTED}


def test_enum_members_are_judged_by_the_value_orjson_writes(tmp_path: Path) -> None:
    """orjson writes an Enum member (as a value or a key) as its value: a member whose value
    holds a secret, or a key that is a member valued ``"password"``, is hidden like that value;
    so is a key orjson cannot write (a tuple), judged by the text it is written as."""

    class Setting(enum.Enum):
        DSN = "postgres://bob:Hunter2Hunter2@db/x"
        HEADERS = (("authorization", "Hunter3Hunter3"),)
        PASSWORD = "password"

    logtrace.configure(service="t", directory=tmp_path, environ={})
    try:
        with logtrace.span("op", dsn=Setting.DSN, headers=Setting.HEADERS):
            structlog.get_logger("app").info("x", by_key={Setting.PASSWORD: "Hunter4Hunter4"})
            logging.getLogger("app").info("y", extra={"t": {("password",): "Hunter5Hunter5"}})
        logtrace.flush()
    finally:
        logtrace.shutdown()
    text = "".join(p.read_text() for p in tmp_path.rglob("*.jsonl"))
    assert re.findall(r"Hunter[2-5]", text) == [] and text.count(REDACTED) >= 4
    assert '"password":"[REDACTED]"' in text


def test_redaction_extends_with_keys_patterns_and_a_callable() -> None:
    """Extra key fragments, regular expressions and a callable all apply."""
    scrubber = Scrubber(
        keys=["ssn"],
        patterns=[r"\bACCT-\d{6}\b"],
        redactor=lambda key, value: "[hidden]" if key == "email" else value,
    )
    out = scrubber(
        None, "info", {"event": "x", "user_ssn": "1", "ref": "ACCT-123456 ok", "email": "a@b"}
    )
    assert (
        out["user_ssn"] == REDACTED
        and out["ref"] == f"{REDACTED} ok"
        and out["email"] == "[hidden]"
    )


def test_payloads_are_left_out_unless_included() -> None:
    """Fields named like payloads are omitted by default and kept with include_payloads."""
    assert scrub(payload={"a": 1})["payload"] == "[payload omitted]"
    assert Scrubber(include_payloads=True)(None, "i", {"payload": {"a": 1}})["payload"] == {"a": 1}


def test_dataclasses_and_objects_are_redacted_through_their_fields_and_repr() -> None:
    """A dataclass is searched by field name; other objects through their repr."""

    @dataclasses.dataclass
    class Login:
        user: str
        password: str

    class Conn:
        def __repr__(self) -> str:
            return "Conn(dsn='mysql://root:toor1234@h/db')"

    out = scrub(login=Login("bob", "pw-secret-value"), conn=Conn())
    assert out["login"] == {"user": "bob", "password": REDACTED}
    assert "toor1234" not in str(out["conn"])


class _BadIter(list):  # type: ignore[type-arg]
    def __iter__(self) -> Any:
        raise RuntimeError("no iter")


def test_a_value_that_fails_while_walked_becomes_a_marker_not_an_exception() -> None:
    """A list whose iteration raises, at the top or nested: the stamper (which structlog calls
    in the user's thread) writes a marker for it and keeps the rest, and shows no repr."""
    fields = {"event": "x", "bad": _BadIter(["password=hunter22"]), "d": {"ok": 1}}
    fields["d"]["bad"] = _BadIter([1])  # type: ignore[index]
    out = Stamper("svc")(None, "info", fields)
    assert out["bad"] == "<unwalkable _BadIter: RuntimeError>"
    assert out["d"] == {"ok": 1, "bad": "<unwalkable _BadIter: RuntimeError>"}


def test_a_redactor_that_raises_hides_the_value_instead() -> None:
    """A user's redactor that raises: the field is written as [REDACTED], nothing raises."""

    def redactor(key: str, value: Any) -> Any:
        raise RuntimeError("broken redactor")

    out = Stamper("svc", scrubber=Scrubber(redactor=redactor))(None, "info", {"card": "4111"})
    assert out["card"] == REDACTED


def test_long_strings_are_truncated_with_a_marker() -> None:
    """Strings past max_string are cut and say how much was cut."""
    out = Scrubber(max_string=10)(None, "i", {"event": "e" * 25, "f": "x" * 30})
    assert out["f"] == "x" * 10 + "…[truncated 20 chars]"
    assert out["event"] == "e" * 10 + "…[truncated 15 chars]"


def test_attributes_past_the_limit_are_dropped_and_counted() -> None:
    """A line keeps max_attributes user fields and counts the rest in attributes_dropped."""
    stamper = Stamper("svc", scrubber=Scrubber(max_attributes=3))
    event_dict = {"event": "x", "attributes_dropped": "user's", **{f"k{i}": i for i in range(10)}}
    out = orjson.loads(render(None, "info", stamper(None, "info", event_dict)))
    assert [k for k in out if k.startswith("k")] == ["k0", "k1"]
    assert out["attributes_dropped_"] == "user's" and out["attributes_dropped"] == 8


def test_deep_and_cyclic_structures_are_cut() -> None:
    """Nesting past max_depth is replaced by a marker; cycles cannot loop."""
    cyclic: dict[str, object] = {}
    cyclic["self"] = cyclic
    out = orjson.dumps(Scrubber(max_depth=4)(None, "i", {"event": "x", "c": cyclic}))
    assert b"[nested too deep]" in out


def test_lines_over_max_line_keep_logtrace_fields_and_say_so() -> None:
    """A line bigger than max_line keeps its ids and event and records its original size."""
    from logtrace.write.render import limits

    saved, limits.max_line = limits.max_line, 2000
    try:
        with testing.capture_events() as events, logtrace.span("big", blob=["y" * 900] * 5) as span:
            pass
    finally:
        limits.max_line = saved
    start = events[0]
    assert start["span_id"] == span.span_id and start["name"] == "big" and "blob" not in start
    assert start["line_truncated"] > 2000


CANARY_PROGRAM = """
import json, logging, random, sys, structlog, logtrace
secrets = json.load(open(sys.argv[1]))
logtrace.configure(service="canary", directory="out", rotate_bytes=2048, environ={})
log = logging.getLogger("app")
slog = structlog.get_logger("app")
s = secrets
with logtrace.span("login", password=s["attr_password"], api_key=s["attr_api_key"],
                   request={"user": {"credentials": {"secret": s["nested"]}},
                            "items": [{"session": s["nested_list"]}]},
                   url="https://bob:" + s["url_attr"] + "@db.example.com/x") as span:
    slog.info("structlog call", token=s["log_token"])
    log.info("stdlib call", extra={"authorization": "Bearer " + s["bearer"]})
    log.info("connecting with password=" + s["message_password"])
    log.info("fetching %s", "https://bob:" + s["url_message"] + "@db.example.com/x")
    slog.info("note", jwt=s["jwt"], aws=s["aws"], pem=s["pem"])
    slog.info({"password": s["dict_message"], "user": "bob"})  # a message that is not text
    for n in range(60):
        log.info("filler line %d to force rotation", n)
    try:
        raise ValueError("login failed for token=" + s["exception"])
    except ValueError:
        log.exception("handled")
    try:
        with logtrace.span("inner"):
            raise PermissionError("denied, api_key=" + s["span_exception"])
    except PermissionError:
        pass
logtrace.shutdown()
"""


def _random_secret(rng: random.Random, n: int = 24) -> str:
    return "".join(rng.choice(NON_HEX) for _ in range(n))


def test_canary_no_secret_nor_any_4_char_piece_reaches_any_file(tmp_path: Path) -> None:
    """Secrets in attributes, fields, payloads, messages, exceptions, URLs, argv never hit disk."""
    rng = random.Random(20261124)
    secrets = {
        name: _random_secret(rng)
        for name in [
            "attr_password",
            "attr_api_key",
            "nested",
            "nested_list",
            "url_attr",
            "log_token",
            "bearer",
            "message_password",
            "url_message",
            "exception",
            "span_exception",
            "argv",
            "dict_message",
        ]
    }
    secrets["jwt"] = (
        "eyJ" + _random_secret(rng, 20) + "." + _random_secret(rng) + "." + _random_secret(rng)
    )
    secrets["aws"] = "AKIA" + "".join(rng.choice("GHJKLMNPQRSTUVWXYZ") for _ in range(16))
    pem_body = _random_secret(rng, 64)
    secrets["pem"] = f"-----BEGIN PRIVATE KEY-----\n{pem_body}\n-----END PRIVATE KEY-----"
    (tmp_path / "secrets.json").write_text(orjson.dumps(secrets).decode())
    subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(CANARY_PROGRAM),
            "secrets.json",
            "--token=" + secrets["argv"],
        ],
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    texts: list[str] = []
    for path in (tmp_path / "out").rglob("*"):
        if path.name.endswith(".jsonl"):
            texts.append(path.read_text())
        elif path.name.endswith(".jsonl.zst"):
            texts.append(
                zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes()).decode()
            )
    assert any(p.name.endswith(".zst") for p in (tmp_path / "out").rglob("*")), "no rotated file"
    everything = "\n".join(texts)
    assert everything.count(REDACTED) >= 13 and "filler line 59" in everything
    sensitive = {
        name: value for name, value in secrets.items() if name not in ("pem", "aws", "jwt")
    }
    sensitive["pem"] = pem_body
    sensitive["aws"] = secrets["aws"][4:]
    sensitive["jwt"] = secrets["jwt"][3:]
    for name, secret in sensitive.items():
        for i in range(len(secret) - 3):
            piece = secret[i : i + 4]
            assert piece not in everything, f"piece {piece!r} of {name} found on disk"
    assert not re.search(r"AKIA[G-Z]{16}", everything)


_PREFIXES = [
    "sk",
    "sk_live_",
    "AKIA",
    "ghp_",
    "xoxb-",
    "eyJ",
    "Bearer ",
    "password=",
    "-----",
    "https://u:",
    "token:",
    "task ",
    "",
    "id=",
    "  ",
    "%%",
    "ASIA",
    "to",
    "ken abcdefgh",
    "----",
    "BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----",
]


@settings(max_examples=400)
@given(
    parts=st.lists(st.sampled_from(_PREFIXES), min_size=1, max_size=4),
    specs=st.lists(
        st.sampled_from(["%d", "%s", "%r", "%i", "%05d", "%-3d", "%+d", "%.9d", "%.0s", "%.1r"]),
        min_size=1,
        max_size=4,
    ),
    ints=st.lists(st.integers(min_value=-(10**30), max_value=10**30), min_size=4, max_size=4),
)
def test_a_format_judged_clean_gives_messages_the_rules_leave_as_they_are(
    parts: list[str], specs: list[str], ints: list[int]
) -> None:
    """A stdlib format judged clean for int arguments is never one whose message hides a secret."""
    scrubber = Scrubber()
    fmt = "".join(p + s for p, s in zip(parts, specs, strict=False)) + " done"
    message = fmt % tuple(ints[: fmt.replace("%%", "").count("%")])
    if scrubber.int_format_is_clean(fmt):
        assert scrubber.text(message, remember=False) == message


def test_formats_that_ints_could_complete_into_a_secret_are_searched() -> None:
    """``sk%d`` (a negative int makes ``sk-…``), ``AKIA%d``, ``%x`` and user patterns: searched."""
    scrubber = Scrubber()
    assert scrubber.int_format_is_clean("task %d done in %5.3d ms")
    cut = ("to%.0sken abcdefgh", "%.1s----BEGIN RSA PRIVATE KEY")
    for fmt in ("sk%d", "AKIA%d", "ghp_%d", "password=%d", "job %x", "%(n)d", "%*d", *cut):
        assert not scrubber.int_format_is_clean(fmt), fmt
    assert not Scrubber(patterns=[r"\d{4}"]).int_format_is_clean("task %d done")
    assert scrubber.text(f"sk{-(10**20)}") != f"sk{-(10**20)}"


def test_stdlib_messages_of_ints_are_still_redacted_by_the_rules(tmp_path: Path) -> None:
    """A secret an int completes (``sk%d``, ``AKIA%d``) never reaches the file."""
    import logging

    logtrace.configure(service="t", directory=tmp_path, environ={})
    try:
        log = logging.getLogger("t")
        log.warning("task %d done", 7)
        log.warning("key sk%d", -(10**20))
        log.warning("key AKIA%d", 1234567890123456)
        logtrace.flush()
    finally:
        logtrace.shutdown()
    text = "".join(p.read_text() for p in tmp_path.rglob("*.jsonl"))
    assert "task 7 done" in text
    assert str(10**20) not in text and "1234567890123456" not in text


def test_user_keys_an_int_writes_part_of_are_searched_in_int_messages(tmp_path: Path) -> None:
    """A key word with digits (``x509_key``, ``2fa``) may be made by an int argument."""
    import logging

    for keys, fmt, args in (
        (("x509_key",), "x%d_key=%d", (509, 424242)),
        (("2fa",), "%dfa=%d", (2, 424242)),
    ):
        scrubber = Scrubber(keys=keys)
        assert not scrubber.int_format_is_clean(fmt), fmt
        assert scrubber.text(fmt % args) != fmt % args
    assert Scrubber(keys=("x509_key",)).int_format_is_clean("task %d done")
    logtrace.configure(service="t", directory=tmp_path, environ={}, redact_keys=("x509_key",))
    try:
        logging.getLogger("t").warning("x%d_key=%d", 509, 424242)
        logtrace.flush()
    finally:
        logtrace.shutdown()
    text = "".join(p.read_text() for p in tmp_path.rglob("*.jsonl"))
    assert "x509_key=" in text and "424242" not in text


def test_int_messages_of_a_record_class_formatting_otherwise_are_searched(tmp_path: Path) -> None:
    """A record class whose getMessage is not ``msg % args`` (``str.format``, whose ``{:c}`` and
    ``{:X}`` write letters from ints): its messages are searched."""
    import logging

    class BraceRecord(logging.LogRecord):
        def getMessage(self) -> str:
            return str(self.msg).format(*self.args)

    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(BraceRecord)
    logtrace.configure(service="t", directory=tmp_path, environ={})
    try:
        logging.getLogger("t").warning("{:c}{:c}{:c}{:c}{:X}", 65, 75, 73, 65, 0x1234567890ABCDEF)
        logtrace.flush()
    finally:
        logtrace.shutdown()
        logging.setLogRecordFactory(factory)
    text = "".join(p.read_text() for p in tmp_path.rglob("*.jsonl"))
    assert "1234567890ABCDEF" not in text and REDACTED in text
