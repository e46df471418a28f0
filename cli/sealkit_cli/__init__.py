"""The `sealkit` command line: a thin click adapter over the core."""
