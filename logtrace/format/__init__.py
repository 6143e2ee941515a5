"""What both halves share: the event format's field names and values, file naming, folders."""
