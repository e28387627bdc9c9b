"""The spec's JSON shapes, built from the store's records.

Field names and nullability follow `openapi/gosmarter-gateway.yaml` exactly; the
tests validate every shape against the spec's schemas.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ._store import CertRecord, Company, Store, extraction_of, iso, pages_of

__all__ = [
    "FEATURES",
    "api_key_metadata",
    "detail_json",
    "entitlements_json",
    "feature_access_json",
    "summary_json",
]

# The real certificate was issued by the Diler mill (the ground truth's file name);
# the extractions do not name a supplier, so the mill is shown as both.
_MILL = "Diler"

# The feature catalogue: (id, key, name, description, category, requiresUnlock).
FEATURES = (
    (1, "mill-certs", "Mill certifications", "Extract and approve mill certificates.",
     "Quality", False),
    (2, "traceability", "Traceability", "Trace deliveries to heats.", "Quality",
     False),
    (3, "inventory", "Inventory", "Stock by heat and location.", "Operations", True),
    (4, "analytics", "Analytics", None, None, True),
)  # fmt: skip

# Company 0 has unlocked every feature; the others only those without an unlock.
_UNLOCKED_AT = datetime(2025, 2, 1, 9, 0, tzinfo=UTC)
_EXPIRES_AT = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)

# App roles carried by the sandbox's tokens and resolved for API keys.
ROLES = ("MillCertifications.ReadWrite", "Entitlements.Read")


def _document(record: CertRecord) -> dict[str, Any]:
    extraction = extraction_of(record)
    if extraction is None:
        return dict.fromkeys(
            ("certificateNumber", "certificateDate", "standard", "customer",
             "orderNumber"),
        )  # fmt: skip
    document = dict(extraction.document)
    if record.upload is None:
        document["certificateNumber"] = record.number
        date = record.certificate_date
        document["certificateDate"] = None if date is None else date.isoformat()
    return document


def summary_json(record: CertRecord) -> dict[str, Any]:
    """The spec's `MillCertificationSummary` of a record."""
    extraction = extraction_of(record)
    document = _document(record)
    return {
        "millCertificationId": record.cert_id,
        "certificateNumber": document["certificateNumber"],
        "supplier": None if extraction is None else _MILL,
        "mill": None if extraction is None else _MILL,
        "status": record.status,
        "certificateDate": document["certificateDate"],
        "heatCount": 0 if extraction is None else len(extraction.heats),
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.updated_at),
    }


def detail_json(record: CertRecord) -> dict[str, Any]:
    """The spec's `MillCertification` of a record."""
    extraction = extraction_of(record)
    pages = [
        {"pageNumber": n, "fileName": scan.name, "heatNumbers": heats}
        for n, (scan, heats) in enumerate(pages_of(record), start=1)
    ]
    approved = record.approved_at
    return {
        "millCertificationId": record.cert_id,
        "companyId": record.company_id,
        "status": record.status,
        "document": _document(record),
        "supplier": None if extraction is None else _MILL,
        "mill": None if extraction is None else _MILL,
        "product": (
            dict.fromkeys(("quality", "productionProcess", "size"))
            if extraction is None
            else extraction.product
        ),
        "approval": (
            dict.fromkeys(("approvalNumber", "formNumber", "caresApproved"))
            if extraction is None
            else extraction.approval
        ),
        "traceability": (
            dict.fromkeys(("consignmentNumber", "vesselName", "lotNumber"))
            if extraction is None
            else extraction.traceability
        ),
        "pages": pages,
        "heats": [] if extraction is None else list(extraction.heats),
        "approvedAt": None if approved is None else iso(approved),
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.updated_at),
    }


def entitlements_json(company: Company) -> list[dict[str, Any]]:
    """The spec's `Entitlement` list of a company, in display order."""
    items = []
    for feature_id, key, name, description, category, unlock in FEATURES:
        unlocked = not unlock or company.index == 0
        items.append(
            {
                "featureId": feature_id,
                "featureKey": key,
                "featureName": name,
                "description": description,
                "category": category,
                "requiresUnlock": unlock,
                "displayOrder": feature_id,
                "isEnabled": True,
                "unlockedAt": iso(_UNLOCKED_AT) if unlock and unlocked else None,
                "expiresAt": iso(_EXPIRES_AT) if unlock and unlocked else None,
                "notes": None if unlocked else "Ask your account manager to unlock.",
                "hasAccess": unlocked,
            }
        )
    return items


def feature_access_json(company: Company, feature_key: str) -> dict[str, Any]:
    """The spec's `FeatureAccess` of one feature; an unknown key has no access."""
    for item in entitlements_json(company):
        if item["featureKey"] == feature_key:
            granted = bool(item["hasAccess"])
            message = (
                "Access granted."
                if granted
                else f"The feature '{feature_key}' requires an unlock."
            )
            return {"featureKey": feature_key, "hasAccess": granted, "message": message}
    return {
        "featureKey": feature_key,
        "hasAccess": False,
        "message": f"Unknown feature '{feature_key}'.",
    }


def api_key_metadata(store: Store) -> dict[str, Any]:
    """The spec's `ApiKeyMetadata` of the sandbox user."""
    groups = ["gosmarter-users"] + [f"company:{c}" for c in store.company_ids]
    return {"userId": store.ids.user_id, "groups": groups, "roles": list(ROLES)}
