"""Assembling a calibration: the results of every step (:class:`CalibrationParts`) into the
scenario document, validated into a :class:`~salesplan.scenarios.model.Scenario`, and into the
JSON-ready estimates (what ``calibration.json`` holds)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from scipy import special

from salesplan.scenarios.model import Scenario

from .cut import CutHistory
from .cycle import CycleModels, PipelineHazards
from .deal_sizes import DealSizes
from .dimensions import ALL, Dimensions
from .documents import rounded
from .errors import CalibrationBugError
from .group_rates import GroupRates
from .lead_sources import LeadSources
from .pipeline import OpenPipeline
from .reps import RepEstimates
from .sourcing import RepSourcing
from .stages import StageEstimates

__all__ = ["NOT_ESTIMATED", "CalibrationParts", "build_scenario", "estimates_document"]

NOT_ESTIMATED = ["rep attrition and ramp (no start/leave dates in the export)",
                 "lead grades (no grade column)",
                 "lead-response decay (no first-contact dates)"]


@dataclass
class CalibrationParts:
    """The result of every calibration step, in the order they run."""

    cut: CutHistory
    cycle: CycleModels
    dims: Dimensions
    hazards: PipelineHazards
    stages: StageEstimates
    sources: LeadSources
    sizes: DealSizes
    reps: RepEstimates
    pipeline: OpenPipeline
    sourcing: RepSourcing
    groups: GroupRates | None = None

    @property
    def groups_notes(self) -> list[str]:
        return self.groups.notes if self.groups is not None else []

    def _applied(self, dimension: str) -> dict[str, float]:
        """The odds multipliers of ``dimension`` that enter the scenario (module
        :mod:`.group_rates`; empty when none)."""
        g = self.groups
        if g is None or not g.applied:
            return {}
        return g.multipliers(dimension)

    def source_documents(self) -> list[dict[str, Any]]:
        """The lead-source documents with each source's conversion multiplier."""
        mult = self._applied("source")
        if not mult:
            return self.sources.documents
        return [{**doc, "conversion_multiplier": rounded(mult.get(fit.group["source"], 1.0), 4)}
                for doc, fit in zip(self.sources.documents, self.sources.fits, strict=True)]

    @property
    def notes(self) -> list[str]:
        """Every step's notes, in the order the steps ran."""
        return [*self.cut.notes, *self.cycle.notes, *self.dims.notes, *self.hazards.notes,
                *self.stages.notes, *self.reps.notes, *self.groups_notes, *self.sourcing.notes,
                *self.sources.notes, *self.sizes.notes,
                *self.pipeline.notes]

    @property
    def not_estimated(self) -> list[str]:
        """What the export cannot give (:data:`NOT_ESTIMATED`, and the rep-sourced rate when
        the export does not say who sourced a deal)."""
        return [*NOT_ESTIMATED, *filter(None, [self.sourcing.not_estimated])]

    def policies_document(self) -> dict[str, Any]:
        """The scenario's policies: least-loaded routing, no warm-up (the open pipeline is
        given), and the rep-sourced rate when the export gives one."""
        doc: dict[str, Any] = {"routing": "least_loaded", "warmup_months": 0}
        sourcing = self.sourcing.policy_document()
        if sourcing is not None:
            doc["sourcing"] = sourcing
        return doc

    @property
    def regions(self) -> list[str]:
        """The scenario's regions: the dimensions', and ``all`` when a rep has no region."""
        regions = list(self.dims.regions)
        if self.reps.in_region_all and ALL not in regions:
            regions.append(ALL)
        return regions

    def stage_documents(self) -> list[dict[str, Any]]:
        """The stage documents with the segments' conversion overrides (:mod:`.group_rates`; a
        multiplier within 1e-4 of 1 gives none) and the pipeline cohorts' overrides. Overrides
        exist only for a flat export (one stage), so they go to its only stage."""
        stages = self.stages.documents
        segs = self._applied("segment")
        first = stages[0]
        p = min(max(float(first["conversion"]), 1e-9), 1 - 1e-9)
        by_segment = [{"segment": seg, "conversion": rounded(float(
            special.expit(special.logit(p) + math.log(m))))}
            for seg, m in sorted(segs.items())
            if seg in self.dims.segments and abs(math.log(m)) >= 1e-4]
        overrides = [*by_segment, *self.pipeline.overrides]
        if not overrides:
            return stages
        return [{**first, "overrides": overrides}, *stages[1:]]


def build_scenario(parts: CalibrationParts, *, name: str | None, currency: str) -> Scenario:
    """The calibrated scenario (``name`` None: ``calibrated-<mapping>``; amounts in
    ``currency``); raise if it does not validate (a calibration bug, reported plainly)."""
    cut, m = parts.cut, parts.cut.mapping
    doc = {
        "name": name or f"calibrated-{m.name}",
        "description": f"Calibrated from {m.name} history as known at {cut.cut.date()} "
                       f"({len(parts.dims.deals)} deals).",
        "horizon": {"start": cut.start.date().isoformat(), "months": cut.horizon_months,
                    "currency": currency},
        "regions": [{"id": r} for r in parts.regions],
        "segments": ([{"id": s} for s in parts.dims.segments]
                     + [{"id": s} for s in parts.pipeline.cohorts]),
        "products": parts.sizes.documents,
        "stages": parts.stage_documents(),
        "lead_sources": parts.source_documents(),
        "reps": parts.reps.documents,
        "policies": parts.policies_document(),
        "initial_pipeline": parts.pipeline.deals,
    }
    return validate_scenario(doc)


def validate_scenario(doc: dict[str, Any]) -> Scenario:
    """The scenario of ``doc``; a document the schema rejects raises :class:`CalibrationBugError`
    naming each offending estimate (every estimate is clipped into its bounds, with a note, by
    the step that makes it, so a rejection is a calibration bug)."""
    try:
        return Scenario.model_validate(doc)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))} = {e.get('input')!r}: {e['msg']}"
                          for e in exc.errors(include_url=False)[:10])
        raise CalibrationBugError("the calibrated scenario does not validate (a calibration bug, "
                             f"please report it): {where}") from None


def _cumulative_incidence(cycle: CycleModels) -> dict[str, Any]:
    cif = cycle.cif
    return {"p_won": cif.p_won,
            "p_lost": float(cif.cif_lost[-1]) if cif.times.size else None,
            "p_open_at_last_close": float(cif.surv[-1]) if cif.times.size else None,
            "last_close_days": float(cif.times[-1]) if cif.times.size else None,
            "method": "Aalen-Johansen (non-parametric, censoring and left truncation); used "
                      "for the open pipeline"}


def estimates_document(parts: CalibrationParts) -> dict[str, Any]:
    """Every estimate with its uncertainty, the cleaning summary and the notes (numpy values
    and NaN still to be made JSON-ready: :func:`~.documents.jsonable`)."""
    cut, m = parts.cut, parts.cut.mapping
    outcomes, hz = parts.cycle.outcomes, parts.hazards.model
    return {
        "cutoff": cut.cut.date().isoformat(),
        "horizon_start": cut.start.date().isoformat(),
        "mapping": m.name,
        "funnel": {"kind": m.kind, "stages": parts.stages.names, "assumption": m.notes},
        "deals_used": len(parts.dims.deals),
        "win_probability": parts.stages.win_probability,
        "conversion_by_group": parts.groups.to_dict() if parts.groups is not None else None,
        "stale_rule": cut.stale.to_dict() if cut.stale is not None else None,
        "outcomes": outcomes.to_dict() if outcomes is not None else None,
        "cumulative_incidence": _cumulative_incidence(parts.cycle),
        "stages": parts.stages.fits,
        "arrivals": [a.to_dict() for a in parts.sources.fits],
        "windows": parts.sources.window.to_dict() if parts.sources.window else None,
        "deal_sizes": parts.sizes.by_product,
        "deal_size_pooled": parts.sizes.pooled,
        "reps": parts.reps.frame.to_dict(orient="records"),
        "rep_prior": parts.reps.prior,
        "capacity": {"value": parts.reps.capacity, "rule": "3 x the most open deals any rep "
                     "held at a month start (at least 50): CRM history shows no queueing"},
        "sourcing": parts.sourcing.to_dict(),
        "not_estimated": parts.not_estimated,
        "closing_hazards": hz.to_dict() if hz is not None else None,
        "open_pipeline": {"deals": len(parts.pipeline.deals), "cohorts": parts.pipeline.cohorts},
        "cleaning": cut.full.summary(),
        "notes": parts.notes,
    }
