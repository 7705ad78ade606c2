"""``python -m hayate`` is the ``hayate`` command."""

from hayate.cli.app import main

main()
