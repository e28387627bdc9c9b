"""Benchmarks (issue 5): `python -m tests.bench [--quick] [--out DIR]`.

Every server runs in its own process, so that the client process's CPU time is the
client's alone. No file here starts with `test_` except the smoke test, so pytest
never collects the long runs.
"""
