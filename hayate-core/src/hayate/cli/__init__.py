"""The ``hayate`` command line."""
