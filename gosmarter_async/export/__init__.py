"""Bulk export of mill certifications: resumable, atomic, bounded in memory.

`export_certificates` writes one directory per certificate, a journal that makes a
rerun resume where an interrupted run stopped, and at the end a sorted manifest and a
JSONL of the details; `verify` re-checks an export against its manifest.
"""

from ._errors import ExportError, ExportInterruptedError
from ._files import FileRecord
from ._journal import CertificateRecord
from ._layout import ALL_KINDS, DETAILS_NAME, JOURNAL_NAME, MANIFEST_NAME
from ._manifest import VerifyReport, verify
from ._pipeline import ExportProgress, ExportResult, export_certificates
from ._policy import BULK_RETRY, BULK_TOKEN_RETRY

__all__ = [
    "ALL_KINDS",
    "BULK_RETRY",
    "BULK_TOKEN_RETRY",
    "DETAILS_NAME",
    "JOURNAL_NAME",
    "MANIFEST_NAME",
    "CertificateRecord",
    "ExportError",
    "ExportInterruptedError",
    "ExportProgress",
    "ExportResult",
    "FileRecord",
    "VerifyReport",
    "export_certificates",
    "verify",
]
