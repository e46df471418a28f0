"""Helpers shared by the tests (not product code): the emulator-backed cluster, fixed key sources."""
