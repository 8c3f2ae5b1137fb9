"""Small valid scenario documents for tests: edit a copy to make exactly one thing wrong."""

from __future__ import annotations

import copy


def base_doc() -> dict:
    """A minimal but complete valid scenario as a plain document (what YAML would give)."""
    doc = {
        "name": "tiny",
        "horizon": {"start": "2027-01-01", "months": 6, "currency": "USD"},
        "regions": [{"id": "East"}, {"id": "West"}, {"id": "Central"}, {"id": "South"}],
        "segments": [{"id": "SMB"}, {"id": "Enterprise"}],
        "products": [
            {"id": "core", "list_price": 1000.0},
            {"id": "plus", "deal_size": {"dist": "gamma", "mean": 5000.0, "cv": 0.5}},
        ],
        "stages": [
            {"name": "lead", "conversion": 0.5, "duration": {"dist": "exponential", "mean": 3}},
            {"name": "contact", "conversion": 0.6, "duration": {"dist": "fixed", "value": 5}},
            {"name": "proposal", "conversion": 0.7,
             "duration": {"dist": "lognormal", "mean": 10, "cv": 0.5},
             "overrides": [{"segment": "Enterprise", "conversion": 0.5}]},
        ],
        "grades": [{"grade": "A", "share": 0.4, "conversion_multiplier": 1.5},
                   {"grade": "B", "share": 0.6, "conversion_multiplier": 0.8}],
        "lead_sources": [
            {"id": "web", "region": "East", "segment": "SMB", "leads_per_month": 30,
             "product_mix": {"core": 1, "plus": 1}},
        ],
        "reps": [
            {"id": "R1", "region": "East", "segments": ["SMB"], "capacity": 5},
            {"id": "R17", "region": "West", "capacity": 5},
        ],
        "accounts": [
            {"id": "A1", "region": "East", "segment": "SMB", "lat": 40.0, "lon": -74.0,
             "potential": 1000.0, "workload_hours": 10.0, "owner": "R1"},
        ],
        "targets": {"company": 100000.0},
        "initial_pipeline": [{"id": "D1", "stage": "contact", "age_days": 4, "owner": "R1"}],
        "variants": [{"name": "more-leads", "levers": [{"lever": "lead_volume", "factor": 1.2}]}],
    }
    return copy.deepcopy(doc)
