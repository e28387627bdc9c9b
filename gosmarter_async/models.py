"""The gateway's data models, generated from openapi/gosmarter-gateway.yaml.

Import them from here (`from gosmarter_async.models import MillCertification`); the
generated package they live in is private and may be laid out differently after a
regeneration.
"""

from ._generated.models import *  # noqa: F403 (the generated __all__ is the list)
from ._generated.models import __all__ as _generated_all

__all__ = list(_generated_all)
