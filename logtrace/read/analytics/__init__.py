"""Analytics over traces: critical path, self time, comparison, alert checks, time series."""
