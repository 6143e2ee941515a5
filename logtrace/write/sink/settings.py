"""The sink's settings (``configure()`` fills them from its arguments and ``LOGTRACE_*``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class SinkSettings:
    """Where and how the sink writes; built by ``configure()`` from arguments and environment."""

    directory: Path
    service: str
    flush: Literal["interval", "always"] = "interval"
    flush_interval: float = 1.0
    queue_size: int = 100_000
    overflow: Literal["drop", "block"] = "drop"
    block_timeout: float = 0.1
    rotate_bytes: int = 64 * 1024 * 1024
    rotate_seconds: float = 3600.0
    retention_days: float = 7.0
    retention_bytes: int | None = None
    file_mode: int = 0o600
    dir_mode: int = 0o700

    def __post_init__(self) -> None:
        object.__setattr__(self, "directory", Path(self.directory))
        checks = {
            "flush": (self.flush in ("interval", "always"), "'interval' or 'always'"),
            "overflow": (self.overflow in ("drop", "block"), "'drop' or 'block'"),
            "flush_interval": (0 < self.flush_interval < math.inf, "seconds above 0"),
            "queue_size": (self.queue_size >= 1, "a whole number of at least 1"),
            "block_timeout": (0 <= self.block_timeout < math.inf, "seconds of at least 0"),
            "rotate_bytes": (self.rotate_bytes >= 1, "a whole number of at least 1"),
            "rotate_seconds": (self.rotate_seconds > 0, "seconds above 0"),
            "retention_days": (self.retention_days > 0, "days above 0"),
            "retention_bytes": (
                self.retention_bytes is None or self.retention_bytes >= 0,
                "a whole number of at least 0, or None",
            ),
            "file_mode": (0 <= self.file_mode <= 0o777, "permission bits from 0o000 to 0o777"),
            "dir_mode": (0 <= self.dir_mode <= 0o777, "permission bits from 0o000 to 0o777"),
        }
        for name, (ok, wanted) in checks.items():
            if not ok:
                value = getattr(self, name)
                shown = oct(value) if name.endswith("_mode") else repr(value)
                raise ValueError(f"SinkSettings.{name}={shown}: give {wanted}")
