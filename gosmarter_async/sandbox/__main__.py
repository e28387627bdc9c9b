"""`python -m gosmarter_async.sandbox`: run the sandbox until SIGINT or SIGTERM.

It prints `export GOSMARTER_...=...` lines for the SDK and the CLI on stdout, then
serves; a note on stderr says where.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import Sequence

from ._faults import Faults, RateLimit
from ._server import Sandbox, serve

__all__ = ["build_parser", "main", "sandbox_from_args"]


def build_parser(
    prog: str = "python -m gosmarter_async.sandbox",
) -> argparse.ArgumentParser:
    """The command line: where to listen, the seed data, and the faults.

    Args:
        prog: The program name shown in usage and help (the CLI passes its own).
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run the GoSmarter sandbox (token endpoint + gateway).",
        epilog=(
            "The client secret is new on every start unless the environment sets "
            "GOSMARTER_SANDBOX_CLIENT_SECRET."
        ),
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to listen on (loopback)")
    add("--port", type=int, default=0, help="port, 0 for a free one (default)")
    add("--seed", type=int, default=0, help="seed of the data (default 0)")
    add("--companies", type=int, default=3, help="companies (default 3)")
    add("--certificates", type=int, default=40, help="certificates per company")
    add("--token-lifetime", type=int, default=3600, help="token lifetime, seconds")
    add("--strict-scope", action="store_true", help="only accept /.default scopes")
    add("--upload-delay", type=float, default=2.0, help="seconds until extracted")
    add("--rate-limit", type=float, default=1000.0, help="requests/s per client")
    add("--rate-burst", type=int, default=1000, help="burst per client")
    faults = parser.add_argument_group("faults (all off by default)")
    add = faults.add_argument
    add("--latency", type=float, default=0.0, help="seconds added to every answer")
    add("--latency-jitter", type=float, default=0.0, help="up to this much more")
    add("--error-rate", type=float, default=0.0, help="share of gateway 503s")
    add("--throttle-rate", type=float, default=0.0, help="share of gateway 429s")
    add("--retry-after", type=int, default=1, help="Retry-After of injected 429s")
    add("--drop-rate", type=float, default=0.0, help="share of dropped connections")
    add("--fault-token-lifetime", type=int, default=None,
        help="override the token lifetime, seconds (e.g. 2)")  # fmt: skip
    add("--token-outage", type=float, nargs=2, metavar=("START", "DURATION"),
        default=(0.0, 0.0), help="token endpoint 503s in this window")  # fmt: skip
    add("--token-throttle-rate", type=float, default=0.0, help="share of token 429s")
    add("--fault-seed", type=int, default=0, help="seed of the fault decisions")
    return parser


SECRET_ENV = "GOSMARTER_SANDBOX_CLIENT_SECRET"  # noqa: S105 (a variable name)


def sandbox_from_args(args: argparse.Namespace) -> Sandbox:
    """A (not yet started) sandbox configured from parsed arguments."""
    faults = Faults(
        latency=args.latency,
        latency_jitter=args.latency_jitter,
        error_rate=args.error_rate,
        throttle_rate=args.throttle_rate,
        retry_after=args.retry_after,
        drop_rate=args.drop_rate,
        token_lifetime=args.fault_token_lifetime,
        token_outage_start=args.token_outage[0],
        token_outage_duration=args.token_outage[1],
        token_throttle_rate=args.token_throttle_rate,
        seed=args.fault_seed,
    )
    return Sandbox(
        seed=args.seed,
        companies=args.companies,
        certificates_per_company=args.certificates,
        faults=faults,
        token_lifetime=args.token_lifetime,
        strict_scope=args.strict_scope,
        host=args.host,
        port=args.port,
        rate_limit=RateLimit(per_second=args.rate_limit, burst=args.rate_burst),
        upload_delay=args.upload_delay,
        # From the environment, not an option: arguments show in process lists.
        # Setting it lets a restarted sandbox accept the credentials it gave out.
        client_secret=os.environ.get(SECRET_ENV) or None,
    )


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Parse `argv`, run the sandbox until a signal, and return the exit code.

    Args:
        argv: The arguments, without the program name; None for `sys.argv`.
        prog: The program name for usage and errors, e.g. "gosmarter sandbox".

    Returns:
        0 after a clean stop (a usage error exits with 2 through argparse).
    """
    parser = build_parser(prog) if prog else build_parser()
    args = parser.parse_args(argv)
    try:
        sandbox = sandbox_from_args(args)
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    # KeyboardInterrupt arrives only where the loop has no signal handlers
    # (Windows); it is a clean stop there too.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(sandbox))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
