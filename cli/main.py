from .._cli import _console, _open, _print_json, register, _now, parse_when  # noqa
