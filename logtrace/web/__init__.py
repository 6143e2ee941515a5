"""The local web view (``logtrace ui``): a read-only server over the files, via ``open()``."""
