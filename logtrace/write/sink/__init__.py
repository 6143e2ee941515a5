"""The file sink: a bounded queue, the writer thread, live files, rotation and retention."""
