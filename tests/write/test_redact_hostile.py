"""Secrets that hid from redaction (issue 15): options in argv, prefixed keys in text, keys in
structures, the stderr handler; huge bytes cut first; API misuse never raising."""

from __future__ import annotations

import collections
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest
from _core_fixtures import traced_dir

import logtrace
from logtrace import testing
from logtrace.write.redact import REDACTED, Scrubber

SECRET = "Zq7wXv9kLmNp"


@pytest.mark.parametrize(
    "argv",
    [
        ["--password", SECRET],
        ["--password=" + SECRET],
        ["--token", SECRET],
        ["--token=" + SECRET],
        ["--api-key", SECRET],
        ["--api-key=" + SECRET],
        ["--client-secret", SECRET],
        ["--secret-key=" + SECRET],
        ["-password", SECRET],  # Go's flag package: single-dash long options
        ["--db-password", SECRET, "--verbose"],
    ],
)
def test_sensitive_options_in_argv_hide_their_value_in_both_forms(argv: list[str]) -> None:
    """`--opt X` and `--opt=X` of an option whose name holds a key fragment: the value hidden."""
    out = Scrubber().argv(["prog", *argv])
    assert SECRET not in " ".join(out) and REDACTED in " ".join(out)
    assert out[0] == "prog" and len(out) == len(argv) + 1


def test_short_options_and_other_arguments_are_left_alone() -> None:
    """`-p 5432` is a port in most programs: single-letter options are not judged by name."""
    argv = ["prog", "-p", "5432", "--port", "80", "input.txt", "--verbose"]
    assert Scrubber().argv(argv) == argv


def test_a_file_header_has_argv_redacted(tmp_path: Path) -> None:
    """The first line of a file (its argv) shows no value of `--password X`, `--api-key X`."""
    program = textwrap.dedent(
        """
        import sys, logtrace
        logtrace.configure(service="argv", directory=sys.argv[1], environ={})
        logtrace.shutdown()
        """
    )
    args = ["--password", SECRET, "--api-key", SECRET + "a", "--client-secret=" + SECRET + "b"]
    subprocess.run([sys.executable, "-c", program, str(tmp_path), *args], check=True)
    (header,) = [p.read_bytes().splitlines()[0] for p in tmp_path.rglob("*.jsonl")]
    argv = orjson.loads(header)["argv"]
    assert SECRET not in header.decode() and argv.count(REDACTED) == 2
    assert "--client-secret=" + REDACTED in argv


def test_a_file_header_keeps_its_fields_whatever_max_attributes_is(tmp_path: Path) -> None:
    """`max_attributes` limits a line's user fields: the header's own (format, host, argv,
    python) stay whole, argv still redacted."""
    program = textwrap.dedent(
        """
        import sys, logtrace
        logtrace.configure(service="few", directory=sys.argv[1], environ={}, max_attributes=0)
        with logtrace.span("s", a=1, b=2):
            pass
        logtrace.shutdown()
        """
    )
    subprocess.run([sys.executable, "-c", program, str(tmp_path), "--token", SECRET], check=True)
    (lines,) = [p.read_bytes().splitlines() for p in tmp_path.rglob("*.jsonl")]
    header, end = orjson.loads(lines[0]), orjson.loads(lines[-1])
    assert {"format", "host", "argv", "python"} <= header.keys(), header
    assert "attributes_dropped" not in header and header["argv"][-1] == REDACTED
    assert end["attributes_dropped"] == 2 and "a" not in end


def test_a_file_header_field_under_a_secret_key_is_hidden(tmp_path: Path) -> None:
    """A key the program names secret (`redact_keys=["host"]`) is hidden on logtrace's own lines
    too, as on every other line."""
    program = textwrap.dedent(
        """
        import sys, logtrace
        logtrace.configure(service="hid", directory=sys.argv[1], environ={}, redact_keys=["host"])
        logtrace.shutdown()
        """
    )
    subprocess.run([sys.executable, "-c", program, str(tmp_path)], check=True)
    (header,) = [orjson.loads(p.read_bytes().splitlines()[0]) for p in tmp_path.rglob("*.jsonl")]
    assert header["host"] == REDACTED and "python" in header


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"GET /cb?access_token={SECRET}&state=1", "&state=1"),
        (f"POST /t&refresh_token={SECRET}", "refresh_token="),
        (f"GET /cb?id_token={SECRET}", "id_token="),
        (f"aws_secret_access_key={SECRET}", "aws_secret_access_key="),
        (f'reply {{"access_token": "{SECRET}", "expires": 3600}}', '"expires": 3600'),
        (f"Model(user_password='{SECRET}', name='bob')", "name='bob'"),
        (f"password=correct horse {SECRET} user=bob", "user=bob"),
        (f"DB_PASSWORD: {SECRET}", "DB_PASSWORD:"),
        (f"x-api-key: {SECRET}", "x-api-key:"),
    ],
)
def test_pairs_in_text_match_keys_by_fragment_like_fields(text: str, kept: str) -> None:
    """A key holding a fragment (`access_token`, `user_password`) hides its value in text."""
    out = Scrubber().text(text)
    assert SECRET not in out and REDACTED in out and kept in out


def test_pairs_in_text_use_the_configured_extra_keys() -> None:
    """`keys=("pin",)` makes `card_pin=1234…` a secret in text as in fields."""
    out = Scrubber(keys=("pin",)).text(f"checking card_pin={SECRET}")
    assert out == "checking card_pin=" + REDACTED


def test_ordinary_text_with_colons_and_equals_is_unchanged() -> None:
    """Text with `=` and `:` but no sensitive key is left as it was."""
    text = "retry=3 at 12:30:01, host=db.example.com:5432 user=bob"
    assert Scrubber().text(text) == text


def test_structures_that_hide_their_keys_are_redacted() -> None:
    """namedtuple fields, bytes keys, (name, value) header pairs and secret-looking keys."""
    Login = collections.namedtuple("Login", "user password")
    scrubber = Scrubber()
    assert scrubber.value(Login("bob", SECRET)) == {"user": "bob", "password": REDACTED}
    assert scrubber.value({b"password": SECRET}) == {b"password": REDACTED}
    headers = [(b"x-api-key", SECRET.encode()), (b"host", b"example.com")]
    assert scrubber.value(headers) == [["x-api-key", REDACTED], ["host", "example.com"]]
    assert scrubber.value([["Authorization", SECRET]]) == [["Authorization", REDACTED]]
    key = "sk_live_" + SECRET + "abcdef"
    assert SECRET not in str(scrubber.value({"keys": {key: 1}}))


def test_structures_hide_secrets_on_disk_too(traced_dir: Path) -> None:
    """The same structures as span attributes: no secret in the file."""
    Login = collections.namedtuple("Login", "user password")
    with logtrace.span(
        "call", login=Login("bob", SECRET), headers=[(b"x-api-key", SECRET.encode())]
    ):
        logging.getLogger("app").info("made %s", {b"password": SECRET})
    logtrace.flush()
    text = "".join(p.read_text() for p in traced_dir.rglob("*.jsonl"))
    assert SECRET not in text and text.count(REDACTED) >= 3


def test_warnings_printed_to_stderr_are_redacted(tmp_path: Path) -> None:
    """Warnings and tracebacks printed to stderr when the program set no handler up are
    scrubbed."""
    program = textwrap.dedent(
        f"""
        import logging, sys, logtrace
        logtrace.configure(service="err", directory=sys.argv[1], environ={{}})
        log = logging.getLogger("app")
        log.warning("login with password={SECRET}")
        try:
            raise ValueError("token={SECRET}")
        except ValueError:
            log.exception("failed")
        logtrace.shutdown()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert "password=" + REDACTED in done.stderr and "ValueError: token=" in done.stderr
    assert SECRET not in done.stderr


def test_a_huge_non_utf8_bytes_value_is_cut_before_decoding() -> None:
    """100 MB of invalid UTF-8 becomes max_string characters and a marker, cheaply."""
    scrubber = Scrubber(max_string=1000)
    value = bytes(range(128, 256)) * (100 * 2**20 // 128)
    out = scrubber.value(value)
    assert len(out) < 1100 and out.endswith(f"…[truncated {len(value) - 1000} bytes]")


def test_a_huge_string_keeps_its_marker_and_secrets_at_the_cut_are_caught() -> None:
    """A string is cut before the rules run; a secret straddling max_string is still hidden."""
    scrubber = Scrubber(max_string=100)
    value = "x" * 95 + " password=" + SECRET + " " + "y" * 10_000_000
    out = scrubber.text(value)
    assert SECRET[:4] not in out and out.endswith(f"[truncated {len(value) - 100} chars]")


def test_record_exception_of_a_non_exception_records_and_warns_once() -> None:
    """record_exception("text") marks the span failed with the text, warns once, never raises."""
    with testing.capture_events() as events:
        for _ in range(3):
            with logtrace.span("job") as span:
                span.record_exception("not an exception")  # type: ignore[arg-type]
    ends = [e for e in events if e.get("span") == "end"]
    assert [e["status"] for e in ends] == ["error"] * 3
    assert ends[0]["error_message"] == "not an exception" and ends[0]["error_type"] == "str"
    warnings = [e for e in events if e["event"] == "logtrace.misuse"]
    assert len(warnings) <= 1  # once per process: an earlier test may have used it up


def test_set_status_accepts_otel_names_and_ignores_others_without_raising() -> None:
    """ "OK"/"ERROR"/"UNSET" work; an unknown status keeps the old one and does not raise."""
    with testing.capture_events() as events:
        with logtrace.span("a") as span:
            span.set_status("ERROR", "boom")
            span.set_status("bogus")
        with logtrace.span("b") as span:
            span.set_status("UNSET")
    ends = [e for e in events if e.get("span") == "end"]
    assert [e["status"] for e in ends] == ["error", "ok"]
    assert ends[0]["error_message"] == "boom"


def test_a_huge_nested_value_costs_a_bounded_walk_and_says_what_was_cut() -> None:
    """A field holding a dict of 200,000 keys, another a list of 200,000 items: the walk stops
    at MAX_ITEMS container items for the whole line and says how many were cut (the whole
    structure was scrubbed first, seconds in the log call, for a line max_line then threw
    away). A secret-named key within the walked part is still hidden."""
    from logtrace.write.redact_walk import ITEMS_CUT_KEY, MAX_ITEMS

    big = {"password": SECRET, **{f"k{i}": "v" for i in range(200_000)}}
    items = list(range(200_000))
    out: dict[str, object] = {}
    Scrubber().copy_fields(out, {"d": big, "l": items, "n": 1}, rename=True)
    walked = out["d"]
    assert isinstance(walked, dict) and walked["password"] == REDACTED
    assert len(walked) == MAX_ITEMS + 1
    assert (
        walked[ITEMS_CUT_KEY]
        == f"[{len(big) - MAX_ITEMS} more items cut: over {MAX_ITEMS} in this line]"
    )
    assert out["l"] == [f"[{len(items)} more items cut: over {MAX_ITEMS} in this line]"]
    assert out["n"] == 1 and SECRET not in orjson.dumps(out).decode()
    small = Scrubber().value({"a": [1, 2, {"b": 3}]})
    assert small == {"a": [1, 2, {"b": 3}]}
