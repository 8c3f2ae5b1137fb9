"""Cross-reference checks between scenario sections.

These run on a validated :class:`~salesplan.scenarios.model.Scenario` *or* on the raw mapping a file
gave, so that a loader can report structural errors and broken references in one pass. Sections that
are missing or malformed in raw input are skipped here (their structural error is reported
elsewhere).

Paths name list items by id where they have one (``reps[R17].region``), by index otherwise
(``stages[2].name``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Problem", "check_references"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where (``path``) and what (``message``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _items(obj: Any, key: str) -> list[Any]:
    v = _get(obj, key)
    return list(v) if isinstance(v, list | tuple) else []


def _ids(items: Iterable[Any], key: str = "id") -> list[str]:
    out = []
    for it in items:
        v = _get(it, key)
        if isinstance(v, str):
            out.append(v.strip())
    return out


def _label(item: Any, index: int, key: str = "id") -> str:
    v = _get(item, key)
    return str(v).strip() if isinstance(v, str) and v.strip() else str(index)


def _defined(values: list[str]) -> str:
    shown = ", ".join(values[:12])
    return shown + (f", ... ({len(values)} in all)" if len(values) > 12 else "")


def check_references(sc: Any) -> list[Problem]:
    """Every broken cross-reference in a scenario (model or raw mapping), in document order."""
    problems: list[Problem] = []
    add = problems.append

    regions = _ids(_items(sc, "regions"))
    segments = _ids(_items(sc, "segments"))
    products = _ids(_items(sc, "products"))
    stages = _ids(_items(sc, "stages"), "name")
    reps = _items(sc, "reps")
    rep_ids = _ids(reps)
    region_set, segment_set, product_set = set(regions), set(segments), set(products)
    stage_set, rep_set = set(stages), set(rep_ids)

    for section, key, ids in (
        ("regions", "id", regions),
        ("segments", "id", segments),
        ("products", "id", products),
        ("stages", "name", stages),
        ("reps", "id", rep_ids),
        ("accounts", "id", _ids(_items(sc, "accounts"))),
        ("lead_sources", "id", _ids(_items(sc, "lead_sources"))),
        ("grades", "grade", _ids(_items(sc, "grades"), "grade")),
        ("initial_pipeline", "id", _ids(_items(sc, "initial_pipeline"))),
        ("variants", "name", _ids(_items(sc, "variants"), "name")),
    ):
        for dup, n in sorted(Counter(ids).items()):
            if n > 1:
                add(Problem(f"{section}[{dup}].{key}", f"{key} {dup!r} is used {n} times"))

    def need(value: Any, known: set[str], listing: list[str], what: str, path: str) -> None:
        if isinstance(value, str) and value.strip() and value.strip() not in known:
            add(Problem(path, f"{value!r} is not a defined {what} (defined: {_defined(listing)})"))

    for i, p in enumerate(_items(sc, "products")):
        for seg in sorted(_get(p, "deal_size_by_segment") or {}):
            need(seg, segment_set, segments, "segment",
                 f"products[{_label(p, i)}].deal_size_by_segment")

    for i, st in enumerate(_items(sc, "stages")):
        for j, o in enumerate(_items(st, "overrides")):
            need(_get(o, "segment"), segment_set, segments, "segment",
                 f"stages[{i}].overrides[{j}].segment")
            need(_get(o, "product"), product_set, products, "product",
                 f"stages[{i}].overrides[{j}].product")

    grades = _items(sc, "grades")
    if grades:
        total = sum(float(_get(g, "share") or 0) for g in grades
                    if isinstance(_get(g, "share"), int | float))
        if abs(total - 1.0) > 1e-6:
            add(Problem("grades", f"shares must sum to 1, got {total:.6g}"))

    for i, src in enumerate(_items(sc, "lead_sources")):
        label = f"lead_sources[{_label(src, i)}]"
        need(_get(src, "region"), region_set, regions, "region", f"{label}.region")
        need(_get(src, "segment"), segment_set, segments, "segment", f"{label}.segment")
        for prod in sorted(_get(src, "product_mix") or {}):
            need(prod, product_set, products, "product", f"{label}.product_mix")

    for i, rep in enumerate(reps):
        label = f"reps[{_label(rep, i)}]"
        need(_get(rep, "region"), region_set, regions, "region", f"{label}.region")
        skills = _get(rep, "segments") or []
        if isinstance(skills, str):
            skills = [s for s in skills.split(";") if s.strip()]
        for seg in skills:
            need(seg, segment_set, segments, "segment", f"{label}.segments")

    rep_by_id = {_get(r, "id").strip(): r for r in reps if isinstance(_get(r, "id"), str)}
    for i, acc in enumerate(_items(sc, "accounts")):
        label = f"accounts[{_label(acc, i)}]"
        need(_get(acc, "region"), region_set, regions, "region", f"{label}.region")
        need(_get(acc, "segment"), segment_set, segments, "segment", f"{label}.segment")
        owner = _get(acc, "owner")
        need(owner, rep_set, rep_ids, "rep", f"{label}.owner")
        locked = _get(acc, "locked")
        locked = locked is True or (isinstance(locked, str)
                                    and locked.strip().lower() in ("true", "1", "yes"))
        if locked and not (isinstance(owner, str) and owner.strip()):
            add(Problem(f"{label}.locked", "a locked account needs an owner"))
        rep = rep_by_id.get(owner.strip()) if isinstance(owner, str) else None
        region = _get(acc, "region")
        if locked and rep is not None and isinstance(region, str) and _get(rep, "region") != region:
            add(Problem(f"{label}.owner", f"locked to {owner.strip()!r}, a rep of region "
                                          f"{_get(rep, 'region')!r}, but the account is in "
                                          f"{region!r}"))

    targets = _get(sc, "targets")
    if targets is not None:
        for key, known, listing, what in (
            ("by_region", region_set, regions, "region"),
            ("by_product", product_set, products, "product"),
            ("by_segment", segment_set, segments, "segment"),
        ):
            for k in sorted(_get(targets, key) or {}):
                need(k, known, listing, what, f"targets.{key}")

    for i, deal in enumerate(_items(sc, "initial_pipeline")):
        label = f"initial_pipeline[{_label(deal, i)}]"
        need(_get(deal, "stage"), stage_set, stages, "stage", f"{label}.stage")
        need(_get(deal, "owner"), rep_set, rep_ids, "rep", f"{label}.owner")
        need(_get(deal, "segment"), segment_set, segments, "segment", f"{label}.segment")
        need(_get(deal, "product"), product_set, products, "product", f"{label}.product")

    source_ids = _ids(_items(sc, "lead_sources"))
    for i, var in enumerate(_items(sc, "variants")):
        vlabel = f"variants[{_label(var, i, 'name')}]"
        for j, lv in enumerate(_items(var, "levers")):
            path = f"{vlabel}.levers[{j}]"
            kind = _get(lv, "lever")
            if kind in ("hire", "attrition", "lead_volume", "capacity"):
                need(_get(lv, "region"), region_set, regions, "region", f"{path}.region")
            if kind in ("conversion", "cycle_time"):
                st = _get(lv, "stage")
                if st != "all":
                    need(st, stage_set, stages, "stage (or 'all')", f"{path}.stage")
            if kind == "lead_volume":
                need(_get(lv, "source"), set(source_ids), source_ids, "lead source",
                     f"{path}.source")
            if kind == "deal_size":
                need(_get(lv, "product"), product_set, products, "product", f"{path}.product")
            if kind == "hire":
                months = _get(_get(sc, "horizon"), "months")
                start = _get(lv, "start_month")
                if isinstance(months, int) and isinstance(start, int) and start > months:
                    add(Problem(f"{path}.start_month",
                                f"must be within the horizon (1..{months}), got {start}"))
    return problems
