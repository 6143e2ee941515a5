"""The keep-errors buffer: an unsampled trace's ended spans, written only if one of them fails.

With ``keep_errors`` on, the local root of an unsampled trace holds a ``TailBuffer`` that its
spans (and theirs, in this process) share. A span that ends successfully is held there; when
one fails (or is slower than ``slow_ms``) the spans held are written, and so is every span of
the trace that ends later, as it ends. When the local root ends with nothing failed, the
buffer is emptied and nothing of the trace is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from logtrace.format import fields as f
from logtrace.write.durations import rounded_ms
from logtrace.write.span_notes import report_dropped
from logtrace.write.tracer import tracer

if TYPE_CHECKING:
    from logtrace.write.span import Span


class TailBuffer(list["Span"]):
    """Ended spans of an unsampled trace's local root, written only if one of them fails.

    ``keep`` turns true when one fails (or is slow): the buffer is written then, and every
    span of the trace that ends later is written as it ends. ``dropped`` counts the spans
    past ``tail_limit``. Both live in the instance's dict once set: a buffer is made for every
    unsampled trace, and most never set either. (A list, not a deque, for the same reason: a
    deque allocates its first block of 64 entries when made.)
    """

    keep = False
    dropped = 0

    def span_ended(self, span: Span) -> None:
        """``span``, of this buffer's trace and recording, has ended: hold it, write it (and
        the spans held, if it failed or was slow), or forget the trace (its local root)."""
        slow_ms = tracer.slow_ms
        if slow_ms is None and span.depth == 0 and span.status == f.STATUS_OK and not self.keep:
            self.clear()  # the trace ends here in this process, and nothing in it failed
            return
        span._duration_ms = rounded_ms(tracer.monotonic_ns() - span._start_mono)
        span._end_wall = tracer.wall_ns()
        slow = slow_ms is not None and span._duration_ms >= slow_ms
        if self.keep:
            span._write_end()
        elif span.status == f.STATUS_ERROR or slow:
            self.keep = True
            # Spans other threads buffer meanwhile are written too. Another thread may drain
            # the same buffer at once (two failures): pop(0) on the emptied list ends it.
            while True:
                try:
                    held = self.pop(0)
                except IndexError:
                    break
                held._write_end()
            span._write_end()
            if self.dropped:
                report_dropped(self.dropped, "keep_errors_buffer_full")
        elif span.depth == 0:
            pass  # the trace ends here in this process, and nothing in it failed
        elif len(self) < tracer.tail_limit:
            self.append(span)
        else:
            self.dropped += 1
        if span.depth == 0 and not self.keep:
            self.clear()
