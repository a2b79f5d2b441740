"""`python -m tinyperf`: the same CLI as the `tinyperf` command."""

from tinyperf.cli import app

if __name__ == "__main__":
    app()
