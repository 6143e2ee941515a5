"""The ``logtrace`` command: argument parsing, one module per command group, rendering, the demo.
Nothing else in the package imports it."""
