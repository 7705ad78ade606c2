"""``python -m hayate`` is the ``hayate`` command."""

from hayate.cli.app import main

if __name__ == "__main__":
    main()
