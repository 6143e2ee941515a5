"""Text of the log files made safe to print on a terminal: :func:`visible`.

Anything a program logs (span names, services, attributes, messages, exception text) reaches
the CLI's output. Raw, an ESC there starts a terminal escape sequence (retitle the window,
clear the screen, recolour what follows), a newline or carriage return forges output lines,
and a bidi override reorders what the terminal shows (Trojan Source, CVE-2021-42574). Rich
drops BEL and CR, not ESC. ``--json``, ``cat`` and ``tail --json`` stay exact data: JSON
escapes control characters itself.
"""

from __future__ import annotations

import re

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}

# C0 controls (tab included: it breaks the columns), DEL, C1 controls, and the bidi embeddings,
# overrides and isolates. Precompiled: most text has none of them and is returned as it is.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible(text: str) -> str:
    r"""``text`` with its control characters and bidi controls shown as escapes.

    ESC becomes the four characters ``\x1b``, a newline ``\n``, a tab ``\t``, U+202E
    ``\u202e``; everything else, backslashes included, is left as it is.
    """
    if _CONTROLS.search(text) is None:
        return text
    return _CONTROLS.sub(_escape, text)
