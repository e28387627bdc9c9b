"""Developer tasks: `nox -s tests`, `lint`, `typecheck`, `codegen`."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "codegen_check"]
nox.options.default_venv_backend = "venv"

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The quick suite: everything but the long chaos and benchmark runs."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-m", "not slow", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "gosmarter_async")


@nox.session(python=PYTHON)
def codegen(session: nox.Session) -> None:
    """Regenerate gosmarter_async/_generated from the spec."""
    session.install("-e", ".[dev]")
    session.run("python", "codegen/generate.py")


@nox.session(python=PYTHON)
def codegen_check(session: nox.Session) -> None:
    """Fail if the committed generated code differs from a fresh generation."""
    session.install("-e", ".[dev]")
    session.run("python", "codegen/generate.py", "--check")


@nox.session(python=PYTHON)
def chaos(session: nox.Session) -> None:
    """Every chaos scenario on 2,000 certificates, and the report table."""
    session.install("-e", ".[test]")
    session.run(
        "pytest",
        "tests/chaos",
        "-m",
        "slow",
        "-rA",
        *session.posargs,
        env={"GOSMARTER_CHAOS_REPORT": "tests/chaos/results/latest.md"},
    )


@nox.session(python=PYTHON)
def conformance(session: nox.Session) -> None:
    """The SDK through the Prism validation proxy, and schemathesis on the sandbox."""
    session.install("-e", ".[dev]")
    session.run("npm", "ci", "--prefix", "tests/conformance", external=True)
    session.run(
        "pytest",
        "tests/conformance",
        *session.posargs,
        env={"GOSMARTER_REQUIRE_PRISM": "1"},
    )


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """The benchmarks of issue 5 (about 15 min): tables, JSON, PNG, targets."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "tests.bench", *session.posargs)


@nox.session(python=PYTHON)
def bench_quick(session: nox.Session) -> None:
    """The benchmarks at small sizes, under a minute, no targets (CI smoke)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "tests.bench", "--quick", *session.posargs)
