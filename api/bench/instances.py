"""The benchmark instance set: named, versioned, rebuilt bit for bit from generators and seeds.

Every instance is one of:

- ``generated``: :func:`salesplan.scenarios.generator.generate_scenario` from a
  :class:`GeneratorSpec` and a seed (county accounts, census regions; see that module for the
  recipe);
- ``example``: a scenario shipped in ``scenarios/examples`` (``midmarket.yaml``);
- ``stress``: a base instance with levers applied
  (:func:`salesplan.scenarios.levers.apply_levers`) and/or a region losing a share of its reps
  at the horizon start (every third rep of the region in id order is removed; their accounts
  are left without an owner, so owner routing falls back to the least-loaded rep and the
  territory designs re-carve them). Stress instances keep the base
  instance's target: the question is how the same number fares under stress.

Generated instances get their company target by calibration: ``round(target_factor x mean
bookings, -4)`` over ``calibration_replications`` replications with ``calibration_seed``
(deterministic, so the target is part of the bit-for-bit rebuild). A factor a little above 1
makes the target "ambitious but reachable" (P(hit) well inside (0, 1)), so P(hit) can separate
strategies.

``fingerprint(scenario)`` is the SHA-256 of the scenario's canonical JSON; ``MANIFEST`` (the
file ``instances.lock.json`` beside this module) records each instance's recipe and fingerprint
for :data:`INSTANCE_SET_VERSION`; ``salesplan bench instances --verify`` rebuilds and compares.
Bump the version whenever a recipe, the generator or the simulator (through the calibrated
targets) changes a fingerprint. Instances built from an example leave out its what-if variants
and pay plan (2026.12.2): they are not part of the sales problem a strategy is measured on.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import TypeAdapter

from salesplan.scenarios import EXAMPLES, Scenario, load_scenario
from salesplan.scenarios.generator import GeneratorSpec, generate_scenario
from salesplan.scenarios.levers import Lever, apply_levers
from salesplan.scenarios.model import Targets
from salesplan.simulator import simulate

__all__ = [
    "INSTANCES",
    "INSTANCE_SET_VERSION",
    "SUITES",
    "Instance",
    "InstanceSpec",
    "build_instance",
    "fingerprint",
    "manifest",
    "suite_instances",
]

INSTANCE_SET_VERSION = "2026.12.2"
LOCK_FILE = Path(__file__).resolve().parent / "instances.lock.json"
_LEVERS = TypeAdapter(list[Lever])


@dataclass(frozen=True)
class InstanceSpec:
    """How to build one instance (see the module doc). ``levers`` are lever mappings as in a
    scenario file's variants; ``drop_reps`` is ``(region, share)``."""

    name: str
    kind: str  # generated | example | stress
    description: str
    generator: GeneratorSpec | None = None
    seed: int | None = None
    example: str | None = None
    base: str | None = None
    levers: tuple[dict, ...] = ()
    drop_reps: tuple[str, float] | None = None
    target_factor: float = 1.02
    calibration_replications: int = 20
    calibration_seed: int = 424242

    def recipe(self) -> dict:
        """A JSON-ready record of the recipe (generator, seed, base, levers, calibration)."""
        out: dict = {"kind": self.kind, "description": self.description}
        if self.generator is not None:
            out["generator"] = "salesplan.scenarios.generator.generate_scenario"
            out["spec"] = self.generator.as_dict()
            out["seed"] = self.seed
            out["target"] = {"factor": self.target_factor,
                             "calibration_replications": self.calibration_replications,
                             "calibration_seed": self.calibration_seed}
        if self.example is not None:
            out["example"] = f"scenarios/examples/{self.example}"
        if self.base is not None:
            out["base"] = self.base
        if self.levers:
            out["levers"] = list(self.levers)
        if self.drop_reps is not None:
            out["drop_reps"] = {"region": self.drop_reps[0], "share": self.drop_reps[1]}
        return out


@dataclass(frozen=True, eq=False)
class Instance:
    """A built instance: its spec, scenario and fingerprint, and what the build reported."""

    spec: InstanceSpec
    scenario: Scenario
    fingerprint: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return self.spec.name

    def size(self) -> dict:
        sc = self.scenario
        return {"reps": len(sc.reps), "accounts": len(sc.accounts),
                "leads_per_year": round(12 * sum(s.leads_per_month for s in sc.lead_sources)),
                "stages": len(sc.stages), "regions": len(sc.regions),
                "target": sc.targets.company if sc.targets else None}


def _gen(name: str, description: str, seed: int, **spec) -> InstanceSpec:
    return InstanceSpec(name=name, kind="generated", description=description,
                        generator=GeneratorSpec(name=name, **spec), seed=seed)


_SPECS: tuple[InstanceSpec, ...] = (
    _gen("tiny", "6 reps, 120 accounts, 2 regions, 4 stages: the CI instance", 101,
         reps=6, accounts=120, regions=("East", "Central"), leads_per_year=1_500, stages=4),
    InstanceSpec("tiny-loses-third", "stress",
                 "tiny with every third Central rep gone at the start", base="tiny",
                 drop_reps=("Central", 1 / 3)),
    _gen("small-4stage", "12 reps, 300 accounts, 2 regions, 4,000 leads/yr, 4 stages", 102,
         reps=12, accounts=300, regions=("East", "Central"), leads_per_year=4_000, stages=4),
    InstanceSpec("midmarket", "example", "the shipped example: 39 reps, 2,000 accounts, "
                 "4 regions, 16,700 inbound leads/yr plus rep-sourced deals, 6 stages",
                 example="midmarket.yaml"),
    _gen("medium-8stage", "24 reps, 1,200 accounts, 3 regions, 12,000 leads/yr, 8 stages",
         103, reps=24, accounts=1_200, regions=("East", "Central", "South"),
         leads_per_year=12_000, stages=8, cycle_days=70.0),
    InstanceSpec("midmarket-overloaded", "stress",
                 "midmarket with every rep's capacity halved (overloaded reps)",
                 base="midmarket", levers=({"lever": "capacity", "factor": 0.5},)),
    InstanceSpec("midmarket-west-loses-third", "stress",
                 "midmarket with every third West rep gone at the start",
                 base="midmarket", drop_reps=("West", 1 / 3)),
    InstanceSpec("midmarket-lead-surge", "stress", "midmarket with 50% more leads everywhere",
                 base="midmarket", levers=({"lever": "lead_volume", "factor": 1.5},)),
    _gen("large-counties", "80 reps, every lower-48 county (3,109 accounts), 4 regions, "
         "50,000 leads/yr, 6 stages", 104, reps=80, accounts=3_109, leads_per_year=50_000,
         stages=6),
)
INSTANCES: dict[str, InstanceSpec] = {s.name: s for s in _SPECS}

SUITES: dict[str, dict] = {
    "small": {"instances": ("tiny", "tiny-loses-third"), "seeds": 3, "replications": 8},
    "standard": {"instances": ("small-4stage", "midmarket", "medium-8stage",
                               "midmarket-overloaded", "midmarket-west-loses-third",
                               "midmarket-lead-surge"), "seeds": 5, "replications": 20},
    "full": {"instances": tuple(INSTANCES), "seeds": 10, "replications": 40},
}


def suite_instances(suite: str) -> tuple[str, ...]:
    if suite not in SUITES:
        raise KeyError(f"unknown suite {suite!r} (known: {', '.join(SUITES)})")
    return SUITES[suite]["instances"]


def fingerprint(scenario: Scenario) -> str:
    """SHA-256 (hex) of the scenario's canonical JSON (sorted keys, no whitespace, null fields
    left out, so that a new optional field of the scenario model leaves every existing
    instance's fingerprint as it was)."""
    doc = scenario.model_dump(mode="json", exclude_none=True)
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _drop_reps(sc: Scenario, region: str, share: float) -> tuple[Scenario, list[str]]:
    reps = sorted((r for r in sc.reps if r.region == region), key=lambda r: r.id)
    n_drop = round(len(reps) * share)
    step = len(reps) / n_drop if n_drop else math.inf
    gone = {reps[min(len(reps) - 1, int(step * (k + 1)) - 1)].id for k in range(n_drop)}
    accounts = [a.model_copy(update={"owner": None}) if a.owner in gone else a
                for a in sc.accounts]
    kept = [r for r in sc.reps if r.id not in gone]
    orphans = sum(a.owner in gone for a in sc.accounts)
    note = (f"{region} loses {len(gone)} of {len(reps)} reps ({', '.join(sorted(gone))}); "
            f"their {orphans} accounts have no owner")
    return sc.model_copy(update={"reps": kept, "accounts": accounts}), [note]


def _calibrated_target(sc: Scenario, spec: InstanceSpec) -> float:
    result = simulate(sc, spec.calibration_replications, spec.calibration_seed, workers=1,
                      keep_deals=0)
    return float(np.round(spec.target_factor * result.total_bookings().mean(), -4))


@lru_cache(maxsize=16)
def build_instance(name: str) -> Instance:
    """Build (or fetch from this process's cache) the instance called ``name``."""
    spec = INSTANCES.get(name)
    if spec is None:
        raise KeyError(f"unknown instance {name!r} (known: {', '.join(INSTANCES)})")
    notes: list[str] = []
    if spec.kind == "generated":
        assert spec.generator is not None and spec.seed is not None
        sc = generate_scenario(spec.generator, spec.seed)
        target = _calibrated_target(sc, spec)
        sc = sc.model_copy(update={"targets": Targets(company=target)})
        notes.append(f"target {target:,.0f} = {spec.target_factor:g} x mean bookings of "
                     f"{spec.calibration_replications} replications (seed "
                     f"{spec.calibration_seed})")
    elif spec.kind == "example":
        # the sales problem only: an example's what-if variants and pay plan are not part of
        # what a strategy is measured on (and editing them must not change the instance)
        sc = load_scenario(EXAMPLES / str(spec.example)).model_copy(
            update={"variants": [], "compensation": None})
    elif spec.kind == "stress":
        sc = build_instance(str(spec.base)).scenario.model_copy(update={"variants": []})
        if spec.drop_reps is not None:
            sc, more = _drop_reps(sc, *spec.drop_reps)
            notes += more
        if spec.levers:
            applied = apply_levers(sc, _LEVERS.validate_python(list(spec.levers)),
                                   variant=spec.name)
            sc, notes = applied.scenario, notes + applied.notes
        sc = sc.model_copy(update={"name": spec.name})
        sc = Scenario.model_validate(sc.model_dump())
    else:  # pragma: no cover - the specs above are fixed
        raise ValueError(f"unknown instance kind {spec.kind!r}")
    return Instance(spec, sc, fingerprint(sc), tuple(notes))


def manifest(names: tuple[str, ...] | None = None) -> dict:
    """The instance set's manifest: version, and per instance its recipe, size and
    fingerprint (building every instance named; calibration simulates)."""
    out: dict = {"version": INSTANCE_SET_VERSION, "instances": {}}
    for name in names or tuple(INSTANCES):
        inst = build_instance(name)
        out["instances"][name] = {**inst.spec.recipe(), "size": inst.size(),
                                  "fingerprint": inst.fingerprint}
    return out


def locked_manifest() -> dict:
    """The committed manifest (``instances.lock.json``)."""
    return json.loads(LOCK_FILE.read_text())


def write_lock(path: Path = LOCK_FILE) -> Path:
    """Rebuild every instance and write the manifest
    (``salesplan bench instances --write-lock``)."""
    path.write_text(json.dumps(manifest(), indent=2) + "\n")
    return path
