"""``python -m logtrace``: the ``logtrace`` command."""

from __future__ import annotations

from logtrace.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
