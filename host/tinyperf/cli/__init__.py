"""The `tinyperf` command: one thin module per command group (`app.py` assembles them). Each turns
options into a request for the packages below and their results into lines, tables and exit codes."""
