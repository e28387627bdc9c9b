"""The GoSmarter sandbox: a local emulator of the token endpoint and the gateway.

It serves, on one loopback port, an Entra External ID-style token endpoint (with
OIDC discovery and JWKS) and every operation of `openapi/gosmarter-gateway.yaml`
over an in-memory store seeded from real mill-certificate data, with optional fault
injection. It imports nothing from the SDK's client side: it is a server the client
is tested against.

    async with Sandbox(seed=0, faults=Faults(error_rate=0.1)) as sandbox:
        settings = sandbox.settings   # ready for the SDK

Run it as a process with `python -m gosmarter_async.sandbox --help`.
"""

from ._faults import Faults, RateLimit
from ._server import Sandbox, export_lines, serve
from ._state import SandboxStats
from ._tokens import Credentials

__all__ = [
    "Credentials",
    "Faults",
    "RateLimit",
    "Sandbox",
    "SandboxStats",
    "export_lines",
    "serve",
]
