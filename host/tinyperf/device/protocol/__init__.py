"""Protocols spoken to devices: the legacy EEMBC/MLPerf Tiny text protocol."""
