"""The sandbox's seed: real extractions and scans, and deterministic ids from a seed.

The data in `data/` is one real mill certificate (20 heats) as extracted by several
models, plus three real one-page scans (see `data/README.md` for the attribution).
Every seeded certification is built from one of these extractions: its ids, dates,
certificate number and status are the sandbox's own, derived from the seed, while
the measured values (chemistry, mechanical tests) are served exactly as extracted.
"""

from __future__ import annotations

import functools
import json
import uuid
from importlib import resources
from typing import Any

from attrs import field, frozen

__all__ = [
    "EXTRACTION_FILES",
    "SCAN_FILES",
    "Extraction",
    "Scan",
    "SeedIds",
    "load_extractions",
    "load_scans",
    "seed_ids",
    "stable_uuid",
]

# Every sandbox id is a uuid5 under this namespace, so the same seed always names the
# same user, companies and certifications (RFC 9562 §5.5).
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://api.gosmarter.ai/sandbox")

# The ground truth first: it is drawn most often, as a well-behaved extraction.
EXTRACTION_FILES = (
    "diler-07-07-2025_ground-truth.json",
    "Meta-Llama-3_1-405B-Instruct.json",
    "gpt-4o-mini.json",
    "llm_certificate_full.json",
    "certificate_001_flat.json",
)
SCAN_FILES = ("sample_cert_001.pdf", "sample_cert_002.pdf", "sample_cert_003.pdf")

# The flat extraction has one anonymous heat; the spec requires a heat number.
UNKNOWN_HEAT = "UNKNOWN"

# snake_case keys of the extractions -> the spec's MechanicalTest field names.
_TEST_FIELDS = (
    ("weight_kg_per_m", "weightKgPerM"),
    ("cross_sectional_area_mm2", "crossSectionalAreaMm2"),
    ("yield_point_mpa", "yieldStrengthMpa"),
    ("tensile_strength_mpa", "tensileStrengthMpa"),
    ("rm_re_ratio", "rmReRatio"),
    ("percentage_elongation", "elongationPercent"),
    ("agt_percent", "agtPercent"),
)

# The flat extraction's property names -> MechanicalTest fields.
_FLAT_TEST_FIELDS = {
    "yield_strength": "yieldStrengthMpa",
    "tensile_strength": "tensileStrengthMpa",
    "elongation": "elongationPercent",
    "rm_re_ratio": "rmReRatio",
    "agt": "agtPercent",
}


def stable_uuid(*parts: object) -> str:
    """A uuid5 string naming `parts` in the sandbox's namespace.

    Args:
        parts: Values joined with ":" into the name.

    Returns:
        The canonical lower-case uuid string.
    """
    return str(uuid.uuid5(_NAMESPACE, ":".join(str(p) for p in parts)))


@frozen
class SeedIds:
    """The fixed identities of one seed: tenant, API, client and user."""

    tenant_id: str
    api_id: str
    client_id: str
    user_id: str


def seed_ids(seed: int) -> SeedIds:
    """The identities the sandbox uses for `seed`.

    Args:
        seed: The sandbox seed.

    Returns:
        The tenant, API (application id URI GUID), client and user ids.
    """
    return SeedIds(
        tenant_id=stable_uuid(seed, "tenant"),
        api_id=stable_uuid(seed, "api"),
        client_id=stable_uuid(seed, "client"),
        user_id=stable_uuid(seed, "user"),
    )


@frozen
class Scan:
    """One real scanned page: its file name and PDF bytes."""

    name: str
    data: bytes = field(repr=lambda d: f"<{len(d)} bytes>")


@frozen
class Extraction:
    """One real extraction, translated to the spec's camelCase shapes.

    The certificate number and date are kept as extracted; seeded certifications
    replace them with their own.
    """

    source: str
    document: dict[str, Any]
    product: dict[str, Any]
    approval: dict[str, Any]
    traceability: dict[str, Any]
    heats: tuple[dict[str, Any], ...]


def _read(name: str) -> bytes:
    return (resources.files(__package__) / "data" / name).read_bytes()


@functools.cache
def load_scans() -> tuple[Scan, ...]:
    """The three real scanned pages, read once per process."""
    return tuple(Scan(name=name, data=_read(name)) for name in SCAN_FILES)


@functools.cache
def load_extractions() -> tuple[Extraction, ...]:
    """Every real extraction, translated, read once per process."""
    return tuple(translate(name, json.loads(_read(name))) for name in EXTRACTION_FILES)


def translate(source: str, raw: dict[str, Any]) -> Extraction:
    """Translate one extraction file to the spec's field names, values untouched.

    Args:
        source: The file name, kept for reference.
        raw: The parsed JSON of the file.

    Returns:
        The extraction in the spec's shapes.
    """
    doc = raw.get("document") or {}
    trace = raw.get("traceability") or {}
    product = raw.get("product") or {}
    approval = raw.get("approval") or {}
    chemistry = raw.get("chemical_composition") or []
    if chemistry and "element" in chemistry[0]:
        heats = _flat_heats(chemistry, raw.get("mechanical_properties") or [])
    else:
        heats = _heats(chemistry, raw.get("mechanical_properties") or [])
    return Extraction(
        source=source,
        document={
            "certificateNumber": doc.get("certificate_number"),
            "certificateDate": doc.get("issuing_date"),
            "standard": doc.get("standard"),
            "customer": doc.get("customer"),
            "orderNumber": doc.get("order_number"),
        },
        product={
            "quality": product.get("quality"),
            "productionProcess": product.get("production_process"),
            "size": product.get("size"),
        },
        approval={
            "approvalNumber": approval.get("certificate_of_approval_number"),
            "formNumber": approval.get("form_number"),
            "caresApproved": approval.get("cares_approved"),
        },
        traceability={
            "consignmentNumber": trace.get("consignment_number"),
            "vesselName": trace.get("vessel_name"),
            "lotNumber": trace.get("lot_number"),
        },
        heats=heats,
    )


def _heats(
    chemistry: list[dict[str, Any]], tests: list[dict[str, Any]]
) -> tuple[dict[str, Any], ...]:
    heats: dict[str, dict[str, Any]] = {}
    for row in chemistry:
        number = str(row["heat_number"])
        heats[number] = {
            "heatNumber": number,
            "chemicalComposition": dict(row.get("elements") or {}),
            "mechanicalTests": [],
        }
    for row in tests:
        number = str(row["heat_number"])
        heat = heats.setdefault(
            number,
            {"heatNumber": number, "chemicalComposition": {}, "mechanicalTests": []},
        )
        heat["mechanicalTests"].append(_test(row))
    return tuple(heats.values())


def _test(row: dict[str, Any]) -> dict[str, Any]:
    sample = row.get("test_sample")
    test: dict[str, Any] = {"testSample": None if sample is None else str(sample)}
    for source, target in _TEST_FIELDS:
        test[target] = row.get(source)
    return test


def _flat_heats(
    chemistry: list[dict[str, Any]], properties: list[dict[str, Any]]
) -> tuple[dict[str, Any], ...]:
    # One anonymous heat: element rows become its chemistry; the carbon equivalent,
    # a property in this shape, is an element ("Ce") in the others.
    elements = {row["element"]: row.get("actual") for row in chemistry}
    test: dict[str, Any] = {"testSample": None}
    test.update({target: None for _, target in _TEST_FIELDS})
    for row in properties:
        name = row.get("property")
        value = row.get("value")
        if name == "carbon_equivalent":
            elements["Ce"] = value
        elif name in _FLAT_TEST_FIELDS and not isinstance(value, str):
            test[_FLAT_TEST_FIELDS[name]] = value
    return (
        {
            "heatNumber": UNKNOWN_HEAT,
            "chemicalComposition": elements,
            "mechanicalTests": [test],
        },
    )
