"""Constructed CRM histories (Maven format) for the tracking tests: small, with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

TEAMS = pd.DataFrame({"sales_agent": ["Ann", "Bob", "Cid", "Dee"],
                      "manager": ["M1", "M1", "M2", "M2"],
                      "regional_office": ["North", "North", "South", "South"]})


def write_history(folder: Path, rows: list[dict]) -> Path:
    """Write ``rows`` (opportunity_id, sales_agent, product, deal_stage, engage_date,
    close_date, close_value) as a Maven export with its team table beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(rows)
    df["account"] = "Acme"
    cols = ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
            "close_date", "close_value"]
    df[cols].to_csv(folder / "sales_pipeline.csv", index=False)
    TEAMS.to_csv(folder / "sales_teams.csv", index=False)
    return folder / "sales_pipeline.csv"


def closed_deals(n: int, start: str, seed: int = 0, won_share: float = 0.6,
                 reps: tuple[str, ...] = ("Ann", "Bob", "Cid", "Dee")) -> list[dict]:
    """``n`` deals created from ``start`` over 60 days, each closed 5-40 days later."""
    rng = np.random.default_rng(seed)
    out = []
    base = pd.Timestamp(start)
    for i in range(n):
        created = base + pd.Timedelta(days=int(rng.integers(0, 60)))
        closed = created + pd.Timedelta(days=int(rng.integers(5, 40)))
        won = rng.random() < won_share
        out.append({"opportunity_id": f"D{seed}-{i}", "sales_agent": reps[i % len(reps)],
                    "product": "Widget", "deal_stage": "Won" if won else "Lost",
                    "engage_date": created.date().isoformat(),
                    "close_date": closed.date().isoformat(),
                    "close_value": int(rng.integers(500, 1500)) if won else 0})
    return out


def targets_frame(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    from salesplan.api.planning.tracking import parse_period

    return pd.DataFrame([{"period": parse_period(p), "level": lv, "id": i, "target": t}
                         for p, lv, i, t in rows])


SF_STAGES = ["Prospecting", "Qualification", "Proposal/Price Quote", "Negotiation/Review"]


def write_salesforce(folder: Path, n: int = 80, seed: int = 0) -> Path:
    """A Salesforce-style export with stage history: ``n`` deals over 2021, each moving
    through the first stages; about a third still open at the end of September."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    opp, hist = [], []
    for i in range(n):
        created = pd.Timestamp("2021-01-04") + pd.Timedelta(days=int(rng.integers(0, 240)))
        reached = int(rng.integers(1, len(SF_STAGES) + 1))
        day = created
        for s in SF_STAGES[:reached]:
            hist.append({"OpportunityId": f"O{i}", "CreatedDate": day.date().isoformat(),
                         "StageName": s})
            day = day + pd.Timedelta(days=int(rng.integers(3, 20)))
        closed = day <= pd.Timestamp("2021-09-30") and rng.random() < 0.8
        won = closed and rng.random() < 0.3 + 0.15 * reached
        stage = ("Closed Won" if won else "Closed Lost") if closed else SF_STAGES[reached - 1]
        if closed:
            hist.append({"OpportunityId": f"O{i}", "CreatedDate": day.date().isoformat(),
                         "StageName": stage})
        opp.append({"Id": f"O{i}", "CreatedDate": created.date().isoformat(),
                    "CloseDate": day.date().isoformat(), "StageName": stage,
                    "Amount": int(rng.integers(1000, 20000)), "OwnerId": f"U{i % 3}",
                    "AccountId": f"A{i}", "LeadSource": "Web",
                    "Region": "EMEA" if i % 3 else "APAC"})
    pd.DataFrame(opp).to_csv(folder / "Opportunity.csv", index=False)
    pd.DataFrame(hist).to_csv(folder / "OpportunityHistory.csv", index=False)
    return folder / "Opportunity.csv"
