"""tinyperf: an open, scriptable TinyML benchmark runner (MLPerf Tiny / EEMBC protocol)."""

__version__ = "0.1.0"
