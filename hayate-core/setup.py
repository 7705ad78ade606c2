"""The optional C accelerator of the market-data path (``hayate._speedups``).

Everything else about the package is in pyproject.toml. The extension is optional: when
the machine has no C compiler (or ``HAYATE_NO_EXTENSIONS=1``) the build goes on without
it and ``hayate.book.accel`` runs the pure-Python twins, with identical results.
"""

import os

from setuptools import Extension, setup

extensions = []
if os.environ.get("HAYATE_NO_EXTENSIONS", "") in ("", "0"):
    extensions.append(Extension("hayate._speedups", ["src/hayate/_speedups.c"],
                                optional=True, extra_compile_args=["-O2"]))

setup(ext_modules=extensions)
