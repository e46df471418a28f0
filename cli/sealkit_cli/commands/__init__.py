"""One module per top-level command, imported only when that command runs."""
