"""Per-benchmark knowledge: input conversion, firmware result format, scoring."""
