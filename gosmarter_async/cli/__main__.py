"""`python -m gosmarter_async.cli`: the same as the `gosmarter` console script."""

from . import main

main()
