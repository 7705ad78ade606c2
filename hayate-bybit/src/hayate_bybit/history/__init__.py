"""Bybit's public history archives: download them, keep a local catalog, replay by name.

- :mod:`.layout`: where Bybit publishes each daily file and what it is called locally;
- :mod:`.listing`: the archive's HTML directory listings, read tolerantly;
- :mod:`.plan`: which files a request needs, and why a day cannot be had;
- :mod:`.fetch` / :mod:`.integrity`: one file, resumed and retried, checked end to end;
- :mod:`.download`: the whole request, in parallel, into the catalog;
- :mod:`.catalog`: the local index of what is on disk;
- :mod:`.rules`: the instrument rules snapshot saved beside the data;
- :mod:`.dataset`: a dataset name and a date range, resolved to files for ``bybit.replay``.

See docs/data.md.
"""
