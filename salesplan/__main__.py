"""``python -m salesplan``: the ``salesplan`` command line."""

from salesplan.api.cli import run

if __name__ == "__main__":
    run()
