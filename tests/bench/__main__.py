"""`python -m tests.bench`: run the benchmarks and check the targets."""

from ._main import main

raise SystemExit(main())
