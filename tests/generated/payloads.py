"""Canned gateway answers, including one built from a real mill certificate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

GROUND_TRUTH = Path(__file__).parent / "data" / "diler-07-07-2025_ground-truth.json"

COMPANY_ID = "3f0e4c8a-2b1d-4c5e-9a7b-1c2d3e4f5a6b"
USER_ID = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
CERT_ID = "0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d"
STAMP = "2026-01-02T03:04:05+00:00"


def entitlement(**overrides: Any) -> dict[str, Any]:
    """One entitlement with every nullable field null and an unknown key."""
    data: dict[str, Any] = {
        "featureId": 7,
        "featureKey": "mill-certs",
        "featureName": "Mill certificates",
        "description": None,
        "category": None,
        "requiresUnlock": True,
        "displayOrder": 2,
        "isEnabled": True,
        "unlockedAt": None,
        "expiresAt": None,
        "notes": None,
        "hasAccess": False,
        "tier": "gold",
    }
    data.update(overrides)
    return data


def summary(index: int) -> dict[str, Any]:
    """One item of listMillCertifications."""
    return {
        "millCertificationId": f"00000000-0000-4000-8000-{index:012d}",
        "certificateNumber": f"25-{index}",
        "supplier": None,
        "mill": "Diler",
        "status": "extracted",
        "certificateDate": None,
        "heatCount": index,
        "createdAt": STAMP,
        "updatedAt": "2026-01-02T03:04:05Z",
    }


def mill_certification() -> dict[str, Any]:
    """The ground-truth certificate in the gateway's camelCase shape."""
    truth = json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))
    tests: dict[str, list[dict[str, Any]]] = {}
    for row in truth["mechanical_properties"]:
        sample = row["test_sample"]
        tests.setdefault(row["heat_number"], []).append(
            {
                "testSample": None if sample is None else str(sample),
                "weightKgPerM": row["weight_kg_per_m"],
                "crossSectionalAreaMm2": row["cross_sectional_area_mm2"],
                "yieldStrengthMpa": row["yield_point_mpa"],
                "tensileStrengthMpa": row["tensile_strength_mpa"],
                "rmReRatio": row["rm_re_ratio"],
                "elongationPercent": row["percentage_elongation"],
                "agtPercent": row["agt_percent"],
            }
        )
    heats = [
        {
            "heatNumber": heat["heat_number"],
            "chemicalComposition": heat["elements"],
            "mechanicalTests": tests.get(heat["heat_number"], []),
        }
        for heat in truth["chemical_composition"]
    ]
    document, product = truth["document"], truth["product"]
    approval, trace = truth["approval"], truth["traceability"]
    return {
        "millCertificationId": CERT_ID,
        "companyId": COMPANY_ID,
        "status": "approved",
        "document": {
            "certificateNumber": document["certificate_number"],
            "certificateDate": document["issuing_date"],
            "standard": document["standard"],
            "customer": document["customer"],
            "orderNumber": document["order_number"],
        },
        "supplier": None,
        "mill": None,
        "product": {
            "quality": product["quality"],
            "productionProcess": product["production_process"],
            "size": product["size"],
        },
        "approval": {
            "approvalNumber": approval["certificate_of_approval_number"],
            "formNumber": approval["form_number"],
            "caresApproved": approval["cares_approved"],
        },
        "traceability": {
            "consignmentNumber": trace["consignment_number"],
            "vesselName": trace["vessel_name"],
            "lotNumber": trace["lot_number"],
        },
        "pages": [
            {
                "pageNumber": 1,
                "fileName": "diler-07-07-2025.pdf",
                "heatNumbers": [heat["heatNumber"] for heat in heats],
            }
        ],
        "heats": heats,
        "approvedAt": STAMP,
        "createdAt": STAMP,
        "updatedAt": STAMP,
        "extractionModel": "reference",
    }
