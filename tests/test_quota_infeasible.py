"""Infeasible pins or bounds give a clear message naming them and by how much; bad pins files and
bad options are reported in a planner's words (all problems at once, pins by line)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_quota_support import scenario

from salesplan.optimizer.quotas import (
    Bounds,
    InfeasibleQuotaError,
    Pin,
    PinsError,
    QuotaError,
    allocate_quotas,
    read_pins,
)
from salesplan.scenarios import SalesplanError

NO_RELIEF = Bounds(ramp_relief=False)


def infeasible(**kw) -> InfeasibleQuotaError:
    kw.setdefault("by", ())
    with pytest.raises(InfeasibleQuotaError) as info:
        allocate_quotas(scenario(), kw.pop("method", "potential"), **kw)
    assert isinstance(info.value, SalesplanError)  # the CLI maps it to exit code 2
    return info.value


def test_floors_above_the_region_total_name_the_region_the_floor_and_the_excess() -> None:
    err = infeasible(bounds=Bounds(floor=400_000, ramp_relief=False))
    text = str(err)
    assert "2 conflicts" in text
    assert ("region North (rep total 900,000 = target 900,000 x over-assignment 1): the lower "
            "bounds of its free reps (1,200,000) add up to 1,200,000, 300,000 more than the "
            "total 900,000; binding: floor (e.g. floor 400,000) on 3 reps: N1, N2, N3") in text
    south = next(c for c in err.conflicts if "South" in c.where)
    assert south.shortfall == pytest.approx(200_000)


def test_over_assignment_is_part_of_the_region_total() -> None:
    # 3 x 330,000 = 990,000 = 900,000 x 1.1 holds; 1.09 does not
    allocate_quotas(scenario(), "even", bounds=Bounds(floor=330_000, ramp_relief=False),
                    over_assign=1.1, rounding=1000, by=(),
                    pins=[Pin("rep", "S1", 330_000), Pin("rep", "S2", 330_000)])
    err = infeasible(bounds=Bounds(floor=330_000, ramp_relief=False), over_assign=1.09)
    assert "x over-assignment 1.09" in str(err) and "9,000 more than the total 981,000" in str(err)


def test_caps_too_low_say_how_short() -> None:
    err = infeasible(bounds=Bounds(cap=250_000, ramp_relief=False))
    north = next(c for c in err.conflicts if "North" in c.where)
    assert "allow at most 750,000, 150,000 short of the total 900,000" in north.message
    assert "cap (e.g. cap 250,000) on 3 reps" in north.message


def test_max_change_against_last_quota_is_named() -> None:
    # North's last quotas 400k + 300k + 200k: +0% allows at most 900,000 of 990,000
    err = infeasible(bounds=Bounds(max_change=0.0, ramp_relief=False), over_assign=1.1)
    north = next(c for c in err.conflicts if "North" in c.where)
    assert "allow at most 900,000, 90,000 short of the total 990,000" in north.message
    assert "max change (e.g. max change +0% vs last quota 400,000 (400,000)) on 3 reps" \
        in north.message


def test_a_pin_above_the_region_total_names_the_pin_line_and_the_excess(tmp_path: Path) -> None:
    f = tmp_path / "pins.csv"
    f.write_text("level,id,product,segment,period,value\nrep,N1,,,,1000000\n")
    err = infeasible(pins=read_pins(f), bounds=Bounds(peer_band=None))
    assert str(err) == (
        "the quota plan is infeasible: 1 conflict\n"
        "  region North (rep total 900,000 = target 900,000 x over-assignment 1): pins (pin rep "
        "N1 (pins.csv line 2)) add up to 1,000,000, 100,000 more than the total 900,000")


def test_a_pin_below_its_own_floor_is_named() -> None:
    err = infeasible(pins=[Pin("rep", "N2", 50_000)], bounds=Bounds(floor=100_000))
    assert [str(c) for c in err.conflicts] == [
        "pin rep N2: = 50,000 is below its floor 100,000 by 50,000"]


def test_a_floor_above_a_new_hire_ramp_relief_is_named() -> None:
    err = infeasible(bounds=Bounds(floor=200_000, peer_band=None))
    assert [str(c) for c in err.conflicts] == [
        "rep S2: its floor 200,000 is above its ramp relief (ramp factor 0.62, at most 103,448) "
        "by 96,552"]


def test_a_pin_overrides_ramp_relief_but_not_a_cap() -> None:
    plan = allocate_quotas(scenario(), "potential", pins=[Pin("rep", "S2", 200_000)], by=())
    assert plan.reps.at["S2", "quota"] == 200_000 and plan.reps.at["S1", "quota"] == 400_000
    err = infeasible(pins=[Pin("rep", "S2", 200_000)], bounds=Bounds(cap=150_000))
    assert "pin rep S2: = 200,000 is above its cap 150,000 by 50,000" in str(err)


def test_every_rep_pinned_must_add_up() -> None:
    err = infeasible(pins=[Pin("rep", "S1", 300_000), Pin("rep", "S2", 200_000)],
                     bounds=NO_RELIEF)
    assert "every rep is pinned and the pins add up to 500,000, 100,000 less than the total " \
           "600,000 (S1, S2)" in str(err)


def test_region_pins_above_the_company_target() -> None:
    err = infeasible(pins=[Pin("region", "North", 1_000_000), Pin("region", "South", 600_000)])
    assert "company target 1,500,000: every region is pinned and the pins add up to " \
           "1,600,000, 100,000 more than the total 1,500,000" in str(err)


def test_cell_pins_above_a_pinned_rep() -> None:
    err = infeasible(by=("product", "segment", "month"),
                     pins=[Pin("rep", "N1", 10_000),
                           Pin("cell", "N1", 20_000, product="basic", segment="SMB",
                               period="2027-02")])
    assert [str(c) for c in err.conflicts] == [
        "pin rep N1: = 10,000 is below its pinned cells (20,000) by 10,000"]


def test_rounding_that_cannot_hold_is_named() -> None:
    # N3 must carry 100,600 (900,000 - pins), inside its bounds but not on the 1,000 grid
    err = infeasible(bounds=Bounds(floors={"N3": 100_500}, caps={"N3": 100_900},
                                   ramp_relief=False, peer_band=None),
                     rounding=1000, method="even",
                     pins=[Pin("rep", "N1", 399_400), Pin("rep", "N2", 400_000)])
    assert [str(c) for c in err.conflicts] == [
        "rounding N3: no multiple of 1,000 lies between its bounds 100,500 and 100,900"]
    allocate_quotas(scenario(), "even", rounding=100, by=(), pins=[
        Pin("rep", "N1", 399_400), Pin("rep", "N2", 400_000)], bounds=Bounds(
        floors={"N3": 100_500}, caps={"N3": 100_900}, ramp_relief=False, peer_band=None))


def test_read_pins_reports_every_bad_row_by_line(tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    f.write_text("level,id,product,segment,period,value\n"
                 "rep,N1,,,,100000\n"
                 "team,N1,,,,5\n"
                 "rep,N2,,,,lots\n"
                 "rep,,,,,-3\n"
                 "rep,N1,,,,200000\n"
                 "cell,N1,,,,10\n"
                 "region,North,basic,,,10\n"
                 "cell,N1,basic,SMB,2027-01,1_500\n")
    with pytest.raises(PinsError) as info:
        read_pins(f)
    assert info.value.problems == [
        "line 3: level must be one of region, rep, cell, got 'team'",
        "line 4: value must be a number, got 'lots'",
        "line 5: id is required; value must be a number >= 0, got -3",
        "line 6: duplicates the pin on line 2",
        "line 7: a cell pin needs at least one of product, segment, period",
        "line 8: a region pin takes no product, segment or period",
    ]
    assert str(info.value).startswith("p.csv: 6 problems found in pins")
    good = tmp_path / "ok.csv"
    good.write_text("level,id,value\nrep,N1,\"100,000\"\n")
    assert read_pins(good) == [Pin("rep", "N1", 100_000.0, line=2, source="ok.csv")]
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,who,amount\n")
    with pytest.raises(PinsError, match="line 1: missing column"):
        read_pins(bad)
    with pytest.raises(PinsError, match="cannot read the file"):
        read_pins(tmp_path / "missing.csv")


def test_pins_that_name_nothing_in_the_scenario() -> None:
    with pytest.raises(PinsError) as info:
        allocate_quotas(scenario(), "even", by=("product", "month"),
                        pins=[Pin("rep", "Z9", 1), Pin("region", "Mars", 1),
                              Pin("cell", "N1", 1, product="gadget", period="2027-01"),
                              Pin("cell", "N1", 1, product="basic", segment="SMB",
                                  period="2027-01")])
    assert info.value.problems == [
        "pin rep Z9: unknown rep 'Z9'",
        "pin region Mars: unknown region 'Mars'",
        "pin cell N1 gadget/all/2027-01: unknown product 'gadget' (known: basic, pro, svc)",
        "pin cell N1 basic/SMB/2027-01: the plan does not split by segment "
        "(--by product,month)",
    ]


def test_bad_options_are_domain_errors() -> None:
    sc = scenario()
    for kw, text in (({"over_assign": 0}, "over-assignment must be a number > 0"),
                     ({"rounding": 0}, "rounding must be a whole number >= 1"),
                     ({"by": ("colour",)}, "unknown split dimension(s) colour"),
                     ({"by": ("month", "week")}, "one period only"),
                     ({"by": ("product", "category")}, "product or by category"),
                     ({"region_split": "guess"}, "region_split must be")):
        with pytest.raises(QuotaError, match=text.replace("(", r"\(").replace(")", r"\)")):
            allocate_quotas(sc, "even", **kw)
    with pytest.raises(QuotaError, match="has no targets"):
        allocate_quotas(scenario(targets=None), "even")
    with pytest.raises(QuotaError, match="bounds: min_change"):
        Bounds(min_change=0.2, max_change=0.1)
    with pytest.raises(QuotaError, match="unknown rep"):
        allocate_quotas(sc, "even", bounds=Bounds(floors={"Z9": 1.0}))
