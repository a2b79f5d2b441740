"""What runs leave behind and what is made of it: the SQLite results store, headline figures, HTML
reports, comparisons and gates, readable logs, and MLPerf Tiny submission trees and their checks."""
