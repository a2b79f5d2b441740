"""`python -m tinyperf.cli`: the same CLI as the `tinyperf` command."""

import sys

from tinyperf.cli.app import app

if __name__ == "__main__":
    sys.exit(app())
