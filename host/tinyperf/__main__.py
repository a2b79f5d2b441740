"""`python -m tinyperf`: the same CLI as the `tinyperf` command."""

from tinyperf.cli.app import app

if __name__ == "__main__":
    app()
