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
from dataclasses import dataclass, field
from typing import Any

from .levers import LEVERS

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


_SECTION_OF = {"region": "regions", "segment": "segments", "product": "products",
               "stage": "stages", "rep": "reps", "lead source": "lead_sources"}


@dataclass
class _Checker:
    """The ids each section defines (``defined[kind]``, in document order, stripped; kinds
    ``region``, ``segment``, ``product``, ``stage``, ``rep``, ``lead source``) and the problems
    found so far, in document order."""

    defined: dict[str, list[str]]
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._known = {kind: set(ids) for kind, ids in self.defined.items()}
        self._unresolved: dict[str, int] = {}

    @classmethod
    def of(cls, sc: Any) -> _Checker:
        return cls({
            "region": _ids(_items(sc, "regions")),
            "segment": _ids(_items(sc, "segments")),
            "product": _ids(_items(sc, "products")),
            "stage": _ids(_items(sc, "stages"), "name"),
            "rep": _ids(_items(sc, "reps")),
            "lead source": _ids(_items(sc, "lead_sources")),
        })

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def need(self, value: Any, kind: str, path: str, what: str | None = None) -> None:
        """A problem at ``path`` when ``value`` (a non-empty string) is not a defined ``kind``
        (``what``: how the message names the kind, default ``kind``). When the section defines
        nothing at all, the references are counted instead and reported once
        (:meth:`finish`): one missing section, not one problem per row naming it."""
        if isinstance(value, str) and value.strip() and value.strip() not in self._known[kind]:
            if not self.defined[kind]:
                self._unresolved[kind] = self._unresolved.get(kind, 0) + 1
                return
            self.add(path, f"{value!r} is not a defined {what or kind} "
                           f"(defined: {_defined(self.defined[kind])})")

    def finish(self) -> list[Problem]:
        """The problems, with one line per section that defines nothing but is named."""
        for kind, n in self._unresolved.items():
            self.add(_SECTION_OF.get(kind, kind), f"no {kind} is defined, so the {n} "
                                                  f"reference(s) to one cannot resolve")
        return self.problems


def _duplicates(ck: _Checker, sc: Any) -> None:
    """An id (or name) used twice in a section."""
    for section, key, ids in (
        ("regions", "id", ck.defined["region"]),
        ("segments", "id", ck.defined["segment"]),
        ("products", "id", ck.defined["product"]),
        ("stages", "name", ck.defined["stage"]),
        ("reps", "id", ck.defined["rep"]),
        ("accounts", "id", _ids(_items(sc, "accounts"))),
        ("lead_sources", "id", ck.defined["lead source"]),
        ("grades", "grade", _ids(_items(sc, "grades"), "grade")),
        ("initial_pipeline", "id", _ids(_items(sc, "initial_pipeline"))),
        ("variants", "name", _ids(_items(sc, "variants"), "name")),
    ):
        for dup, n in sorted(Counter(ids).items()):
            if n > 1:
                ck.add(f"{section}[{dup}].{key}", f"{key} {dup!r} is used {n} times")


def _catalogue(ck: _Checker, sc: Any) -> None:
    """Products' segment deal sizes, stage overrides, and grade shares summing to 1."""
    for i, p in enumerate(_items(sc, "products")):
        for seg in sorted(_get(p, "deal_size_by_segment") or {}):
            ck.need(seg, "segment", f"products[{_label(p, i)}].deal_size_by_segment")
    for i, st in enumerate(_items(sc, "stages")):
        label = f"stages[{_label(st, i, 'name')}]"
        for j, o in enumerate(_items(st, "overrides")):
            ck.need(_get(o, "segment"), "segment", f"{label}.overrides[{j}].segment")
            ck.need(_get(o, "product"), "product", f"{label}.overrides[{j}].product")
    grades = _items(sc, "grades")
    if grades:
        total = sum(float(_get(g, "share") or 0) for g in grades
                    if isinstance(_get(g, "share"), int | float))
        if abs(total - 1.0) > 1e-6:
            ck.add("grades", f"shares must sum to 1, got {total:.6g}")


def _sources_and_reps(ck: _Checker, sc: Any) -> None:
    """Lead sources' region, segment and product mix; reps' region and segment skills."""
    for i, src in enumerate(_items(sc, "lead_sources")):
        label = f"lead_sources[{_label(src, i)}]"
        ck.need(_get(src, "region"), "region", f"{label}.region")
        ck.need(_get(src, "segment"), "segment", f"{label}.segment")
        for prod in sorted(_get(src, "product_mix") or {}):
            ck.need(prod, "product", f"{label}.product_mix")
    for i, rep in enumerate(_items(sc, "reps")):
        label = f"reps[{_label(rep, i)}]"
        ck.need(_get(rep, "region"), "region", f"{label}.region")
        skills = _get(rep, "segments") or []
        if isinstance(skills, str):
            skills = [s for s in skills.split(";") if s.strip()]
        for seg in skills:
            ck.need(seg, "segment", f"{label}.segments")


def _is_locked(acc: Any) -> bool:
    """An account's ``locked`` flag, from a model (bool) or a raw table cell (text)."""
    locked = _get(acc, "locked")
    return locked is True or (isinstance(locked, str)
                              and locked.strip().lower() in ("true", "1", "yes"))


def _handover(ck: _Checker, acc: Any, label: str, rep_by_id: dict[str, Any]) -> None:
    """A previous owner is a rep other than the owner, and the owner starts during the horizon
    (the hand-over is on its start date)."""
    prev, owner = _get(acc, "previous_owner"), _get(acc, "owner")
    if not (isinstance(prev, str) and prev.strip()):
        return
    ck.need(prev, "rep", f"{label}.previous_owner")
    owner = owner.strip() if isinstance(owner, str) else None
    if owner is None:
        ck.add(f"{label}.previous_owner", "a previous owner needs an owner to hand over to")
    elif prev.strip() == owner:
        ck.add(f"{label}.previous_owner", f"{prev.strip()!r} is also the owner")
    elif owner in rep_by_id and not _get(rep_by_id[owner], "start_date"):
        ck.add(f"{label}.previous_owner", f"the hand-over is on the owner's start date, but "
                                          f"{owner!r} has no start_date (it works the account "
                                          "from the horizon start)")


def _accounts(ck: _Checker, sc: Any) -> None:
    """Accounts' region, segment, owner and previous owner; a locked account needs an owner of
    its region."""
    rep_by_id = {_get(r, "id").strip(): r for r in _items(sc, "reps")
                 if isinstance(_get(r, "id"), str)}
    for i, acc in enumerate(_items(sc, "accounts")):
        label = f"accounts[{_label(acc, i)}]"
        ck.need(_get(acc, "region"), "region", f"{label}.region")
        ck.need(_get(acc, "segment"), "segment", f"{label}.segment")
        owner = _get(acc, "owner")
        ck.need(owner, "rep", f"{label}.owner")
        _handover(ck, acc, label, rep_by_id)
        locked = _is_locked(acc)
        if locked and not (isinstance(owner, str) and owner.strip()):
            ck.add(f"{label}.locked", "a locked account needs an owner")
        rep = rep_by_id.get(owner.strip()) if isinstance(owner, str) else None
        region = _get(acc, "region")
        if locked and rep is not None and isinstance(region, str) and _get(rep, "region") != region:
            ck.add(f"{label}.owner", f"locked to {owner.strip()!r}, a rep of region "
                                     f"{_get(rep, 'region')!r}, but the account is in "
                                     f"{region!r}")


def _policies(ck: _Checker, sc: Any) -> None:
    """The stage sourced deals enter."""
    sourcing = _get(_get(sc, "policies"), "sourcing")
    ck.need(_get(sourcing, "entry_stage"), "stage", "policies.sourcing.entry_stage")


def _targets_and_pipeline(ck: _Checker, sc: Any) -> None:
    """The target shares' keys; open deals' stage, owner, segment and product."""
    targets = _get(sc, "targets")
    if targets is not None:
        for key, kind in (("by_region", "region"), ("by_product", "product"),
                          ("by_segment", "segment")):
            for k in sorted(_get(targets, key) or {}):
                ck.need(k, kind, f"targets.{key}")
    for i, deal in enumerate(_items(sc, "initial_pipeline")):
        label = f"initial_pipeline[{_label(deal, i)}]"
        ck.need(_get(deal, "stage"), "stage", f"{label}.stage")
        ck.need(_get(deal, "owner"), "rep", f"{label}.owner")
        ck.need(_get(deal, "segment"), "segment", f"{label}.segment")
        ck.need(_get(deal, "product"), "product", f"{label}.product")


def _compensation(ck: _Checker, sc: Any) -> None:
    """Every rep's role has a pay plan; measure weights and SPIFs name products, segments and
    roles that exist, and SPIF months fall within the horizon."""
    comp = _get(sc, "compensation")
    if comp is None:
        return
    plans = _items(comp, "plans")
    roles = [r.strip() for r in (_get(p, "role") for p in plans) if isinstance(r, str)]
    for i, rep in enumerate(_items(sc, "reps")):
        role = _get(rep, "role", "AE")
        role = role.strip() if isinstance(role, str) and role.strip() else "AE"
        if plans and role not in roles:
            ck.add(f"reps[{_label(rep, i)}].role",
                   f"role {role!r} has no pay plan in compensation.plans (plans: "
                   f"{_defined(roles)}); add a plan for it")
    for i, plan in enumerate(plans):
        label = f"compensation.plans[{_label(plan, i, 'role')}]"
        for key, kind in (("product_weights", "product"), ("segment_weights", "segment")):
            for k in sorted(_get(plan, key) or {}):
                ck.need(k, kind, f"{label}.{key}")
    horizon = _get(sc, "horizon")
    start, months = _get(horizon, "start"), _get(horizon, "months")
    first = last = None
    if hasattr(start, "year") and isinstance(months, int):
        first = f"{start.year:04d}-{start.month:02d}"
        y, m = divmod(start.month - 1 + months - 1, 12)
        last = f"{start.year + y:04d}-{m + 1:02d}"
    for i, spif in enumerate(_items(comp, "spifs")):
        label = f"compensation.spifs[{_label(spif, i, 'name')}]"
        ck.need(_get(spif, "product"), "product", f"{label}.product")
        ck.need(_get(spif, "segment"), "segment", f"{label}.segment")
        for j, role in enumerate(_get(spif, "roles") or []):
            if isinstance(role, str) and roles and role.strip() not in roles:
                ck.add(f"{label}.roles[{j}]", f"{role!r} has no pay plan (plans: "
                                              f"{_defined(roles)})")
        for key in ("start", "end"):
            month = _get(spif, key)
            if first and isinstance(month, str) and not first <= month <= last:
                ck.add(f"{label}.{key}", f"must be a month of the horizon ({first} to {last}), "
                                         f"got {month}")


def _lever(ck: _Checker, sc: Any, lv: Any, path: str) -> None:
    """What one variant lever names, as its class declares (``LeverModel.references``): a
    region, stage (or ``all``), lead source, product, segment or rep that must exist, or a month
    within the horizon."""
    cls = LEVERS.get(_get(lv, "lever"))
    for name, kind in (cls.references.items() if cls is not None else ()):
        value = _get(lv, name)
        if isinstance(value, list | tuple):  # a list field names one section item per entry
            for i, item in enumerate(value):
                _lever_reference(ck, sc, item, kind, f"{path}.{name}[{i}]")
        else:
            _lever_reference(ck, sc, value, kind, f"{path}.{name}")


def _lever_reference(ck: _Checker, sc: Any, value: Any, kind: str, path: str) -> None:
    """One lever value naming a ``kind`` (see :func:`_lever`) at ``path``."""
    if kind == "stage_or_all":
        if value != "all":
            ck.need(value, "stage", path, "stage (or 'all')")
    elif kind == "month":
        months = _get(_get(sc, "horizon"), "months")
        if isinstance(months, int) and isinstance(value, int) and value > months:
            ck.add(path, f"must be within the horizon (1..{months}), got {value}")
    else:
        ck.need(value, kind, path)


def check_references(sc: Any) -> list[Problem]:
    """Every broken cross-reference in a scenario (model or raw mapping), in document order."""
    ck = _Checker.of(sc)
    _duplicates(ck, sc)
    _catalogue(ck, sc)
    _sources_and_reps(ck, sc)
    _accounts(ck, sc)
    _targets_and_pipeline(ck, sc)
    _policies(ck, sc)
    _compensation(ck, sc)
    for i, var in enumerate(_items(sc, "variants")):
        vlabel = f"variants[{_label(var, i, 'name')}]"
        for j, lv in enumerate(_items(var, "levers")):
            _lever(ck, sc, lv, f"{vlabel}.levers[{j}]")
    return ck.finish()
