"""Samplers: which new traces write their span lines.

The public face of ``logtrace.write.sampling``:

``logtrace.configure(sampler=logtrace.sampling.Ratio(0.1))``; see the module it re-exports for
how a sampler is called.
"""

from __future__ import annotations

from logtrace.write.sampling import (
    Adaptive,
    ParentBased,
    RateLimited,
    Ratio,
    Sampler,
    always,
    from_name,
    never,
)

__all__ = [
    "Adaptive",
    "ParentBased",
    "RateLimited",
    "Ratio",
    "Sampler",
    "always",
    "from_name",
    "never",
]
