"""CRM import: every kind of dirty row is counted and reported (kept, fixed or dropped, and
why); strict mode turns problems into errors; the presets and a YAML mapping read real exports."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from salesplan.scenarios.crm import (
    PROBLEM_KINDS,
    CrmDataError,
    MappingError,
    get_mapping,
    norm_key,
    read_history,
)

DATA = Path(__file__).parent / "data"
MAVEN = DATA / "maven_crm"
SF = DATA / "salesforce_demo"

HEADER = "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value"
TEAMS = "sales_agent,manager,regional_office\nAnna Snelling,M1,Central\nBoris Faz,M2,East\n"
CLEAN = "A1,Anna Snelling,GTX Basic,Acme,Won,2017-03-02,2017-03-20,550"


def _read(tmp_path: Path, *rows: str, strict: bool = False, catalogs=None, teams=True):
    f = tmp_path / "pipeline.csv"
    f.write_text("\n".join([HEADER, CLEAN, *rows]) + "\n")
    t = None
    if teams:
        t = tmp_path / "teams.csv"
        t.write_text(TEAMS)
    return read_history(f, "maven", teams=t, strict=strict, catalogs=catalogs,
                        find_beside=False)


def _only(h, kind: str) -> pd.DataFrame:
    f = h.report.frame()
    return f[f["kind"] == kind]


# (row, kind, action, field): one dirty row of every kind a flat export can have
DIRTY = [
    (",Anna Snelling,GTX Basic,Acme,Won,2017-03-02,2017-03-20,550", "missing_id", "dropped",
     "id"),
    ("A1,Anna Snelling,GTX Basic,Acme,Won,2017-03-02,2017-03-20,550", "duplicate_id",
     "dropped", "id"),
    ("B1,Anna Snelling,GTX Basic,Acme,Won,2017-02-31,2017-03-20,550", "unparseable_date",
     "kept", "created"),
    ("B2,Anna Snelling,GTX Basic,Acme,Prospecting,,,", "no_date", "dropped", "created"),
    ("B3,Anna Snelling,GTX Basic,Acme,Won,2017-04-02,2017-03-20,550", "close_before_created",
     "dropped", "close"),
    ("B4,Anna Snelling,GTX Basic,Acme,Lost,2017-04-02,,0", "closed_without_date", "kept",
     "close"),
    ("B5,Anna Snelling,GTX Basic,Acme,Negotiating,2017-04-02,2017-04-20,550", "unknown_stage",
     "dropped", "stage"),
    ("B6,Anna Snelling,GTX Basic,Acme,Won,2017-04-02,2017-04-20,-550", "negative_amount",
     "fixed", "amount"),
    ("B7,Anna Snelling,GTX Basic,Acme,Won,2017-04-02,2017-04-20,lots", "unparseable_amount",
     "fixed", "amount"),
    ("B8,Anna Snelling,GTX Basic,Acme,Won,2017-04-02,2017-04-20,", "missing_amount", "kept",
     "amount"),
    ("B9,Anna Snelling,GTX Basic,Acme,Engaging,2017-04-02,,", "open_without_amount", "kept",
     "amount"),
    ("C1,anna  snelling,GTX Basic,Acme,Won,2017-04-02,2017-04-20,550", "name_variant", "fixed",
     "owner"),
    ("C2,Zed Unknown,GTX Basic,Acme,Won,2017-04-02,2017-04-20,550", "unknown_owner", "kept",
     "owner"),
    ("C3,,GTX Basic,Acme,Won,2017-04-02,2017-04-20,550", "missing_owner", "kept", "owner"),
    ("C4,Boris Faz,GTX Basic,,Engaging,2017-04-02,,", "missing_account", "kept", "account"),
    ("C5,Boris Faz,,Acme,Won,2017-04-02,2017-04-20,550", "missing_product", "kept", "product"),
]


@pytest.mark.parametrize(("row", "kind", "action", "field"), DIRTY, ids=[d[1] for d in DIRTY])
def test_every_dirty_row_is_reported(tmp_path, row, kind, action, field):
    h = _read(tmp_path, row)
    f = _only(h, kind)
    assert len(f) == 1, h.report.frame()
    rec = f.iloc[0]
    assert rec["action"] == action
    assert rec["field"] == field
    assert rec["line"] == 3  # header is line 1, the clean row line 2
    s = h.summary()
    # nothing disappears silently: rows read = kept + dropped
    assert s["rows_read"] == s["rows_kept"] + s["rows_dropped"] == 2
    assert s["rows_dropped"] == (1 if action == "dropped" else 0)
    assert any(p["kind"] == kind and p["rows"] == 1 for p in s["problems"])
    with pytest.raises(CrmDataError, match=kind):
        _read(tmp_path, row, strict=True)


def test_every_problem_kind_is_documented_and_tested():
    tested = {d[1] for d in DIRTY} | {"orphan_history", "unknown_history_stage",
                                       "inconsistent_history", "left_truncated",
                                       "missing_sourced_by", "unknown_sourced_by",
                                       "zero_amount"}  # tests/test_calibration_shapes.py
    assert tested == set(PROBLEM_KINDS)
    doc = (Path(__file__).parents[1] / "docs" / "calibration.md").read_text()
    for kind in PROBLEM_KINDS:
        assert f"`{kind}`" in doc


def test_clean_export_has_no_problems_and_strict_passes(tmp_path):
    h = _read(tmp_path, strict=True)
    assert h.report.issues == []
    d = h.deals.iloc[0]
    assert (d["outcome"], d["region"], d["amount"]) == ("won", "Central", 550.0)


def test_fixed_values_are_applied(tmp_path):
    h = _read(tmp_path, "C1,anna  snelling,GTXPro,Acme,Won,2017-04-02,2017-04-20,550",
              "B6,Boris Faz,GTX Basic,Acme,Won,2017-04-02,2017-04-20,-550",
              catalogs={"product": ["GTX Pro", "GTX Basic"]})
    d = h.deals.set_index("id")
    assert d.at["C1", "owner"] == "Anna Snelling"
    assert d.at["C1", "region"] == "Central"
    assert d.at["C1", "product"] == "GTX Pro"
    assert pd.isna(d.at["B6", "amount"])
    assert len(_only(h, "name_variant")) == 2


def test_variant_without_catalog_takes_most_frequent_spelling(tmp_path):
    rows = [f"D{i},Boris Faz,GTX Pro,Acme,Won,2017-04-02,2017-04-20,5" for i in range(3)]
    h = _read(tmp_path, *rows, "E1,Boris Faz,gtx-PRO,Acme,Won,2017-04-02,2017-04-20,5")
    assert set(h.deals["product"].dropna()) == {"GTX Basic", "GTX Pro"}


def test_norm_key():
    assert norm_key("GTXPro") == norm_key("GTX Pro") == norm_key(" gtx-pro ")
    assert norm_key("GTX Pro") != norm_key("GTX Plus Pro")


def test_maven_export_quirks_are_all_reported():
    products = pd.read_csv(MAVEN / "products.csv")["product"].tolist()
    h = read_history(MAVEN / "sales_pipeline.csv.gz", "maven",
                     teams=MAVEN / "sales_teams.csv", catalogs={"product": products})
    c = h.report.counts().set_index(["kind", "action"])["rows"]
    assert c[("no_date", "dropped")] == 500            # Prospecting rows without engage_date
    assert c[("name_variant", "fixed")] == 1400        # GTXPro -> GTX Pro (dated rows)
    assert c[("missing_account", "kept")] == 1088      # 1,425 blank accounts less 337 undated
    assert c[("open_without_amount", "kept")] == 1589  # Engaging deals
    assert c[("left_truncated", "kept")] > 0           # no close before 2017-03-01
    s = h.summary()
    assert (s["rows_read"], s["rows_kept"], s["rows_dropped"]) == (8800, 8300, 500)
    assert "GTXPro" not in set(h.deals["product"])
    assert set(h.deals["region"]) == {"Central", "East", "West"}
    assert h.as_of == pd.Timestamp("2017-12-31")
    assert h.deals.attrs["truncation_date"] == pd.Timestamp("2017-03-01")


def test_salesforce_preset_reads_opportunity_and_history():
    h = read_history(SF / "Opportunity.csv", "salesforce")
    assert h.transitions is not None and len(h.transitions)
    assert set(h.transitions["stage"]) <= set(get_mapping("salesforce").stages) | {"won", "lost"}
    kinds = set(h.report.frame()["kind"])
    # the demo's records were loaded in 2026 with close dates in 2024
    assert "close_before_created" in kinds
    assert "orphan_history" in kinds  # their stage changes point at dropped opportunities
    assert any("absent from the file" in n for n in h.report.notes)


def test_salesforce_history_problems(tmp_path):
    (tmp_path / "Opportunity.csv").write_text(
        "Id,StageName,Amount,CreatedDate,CloseDate\n"
        "O1,Closed Lost,100,2024-01-01,2024-02-01\n"
        "O2,Qualification,200,2024-01-05,2024-03-01\n")
    (tmp_path / "OpportunityHistory.csv").write_text(
        "OpportunityId,CreatedDate,StageName\n"
        "O1,2024-01-01,Prospecting\n"
        "O1,2024-01-10,Closed Won\n"
        "O1,2024-02-01,Closed Lost\n"
        "O2,2024-01-05,Prospecting\n"
        "O2,2024-01-07,Haggling\n"
        "O2,2024-01-09,Qualification\n"
        "O9,2024-01-09,Qualification\n")
    h = read_history(tmp_path / "Opportunity.csv", "salesforce")
    f = h.report.frame().set_index("kind")
    assert f.at["orphan_history", "action"] == "dropped"
    assert f.at["unknown_history_stage", "action"] == "dropped"
    assert f.at["inconsistent_history", "action"] == "fixed"
    o1 = h.transitions[h.transitions["id"] == "O1"]["stage"].tolist()
    assert o1 == ["Prospecting", "lost"]
    with pytest.raises(CrmDataError):
        read_history(tmp_path / "Opportunity.csv", "salesforce", strict=True)


def test_yaml_mapping_file(tmp_path):
    m = tmp_path / "sf_simulated.yaml"
    m.write_text(
        "preset: salesforce\n"
        "columns:\n"
        "  id: Id\n"
        "  created: Opp Creation Date_Simulated\n"
        "  close: Opp Close Date_Simulated\n"
        "  stage: StageName\n"
        "  amount: Amount\n"
        "  source: LeadSource\n"
        "date_format: '%m/%d/%y'\n"
        "history_date_format: '%m/%d/%y %I:%M %p'\n")
    h = read_history(SF / "Opportunity.csv", m)
    assert h.mapping.name == "sf_simulated"
    assert h.mapping.kind == "history"
    assert "close_before_created" not in set(h.report.frame()["kind"])
    assert h.deals["created_date"].min() == pd.Timestamp("2024-02-04")


def test_bad_mappings_are_user_errors(tmp_path):
    with pytest.raises(MappingError, match="neither a preset"):
        get_mapping("nosuch")
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: {created: x}\noutcomes: {W: won}\nstages: [open]\n")
    with pytest.raises(MappingError, match="must map 'id'"):
        get_mapping(bad)
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n")
    from salesplan.scenarios.errors import SalesplanError
    with pytest.raises(SalesplanError, match="choose another --mapping"):
        read_history(f, "maven")


SOURCING_MAPPING = (
    "preset: maven\n"
    "columns: {id: opportunity_id, created: engage_date, close: close_date, stage: deal_stage,\n"
    "          amount: close_value, owner: sales_agent, account: account, product: product,\n"
    "          sourced_by: origin}\n"
    "rep_sourced: [Outbound, Self-generated, Expansion]\n")


@pytest.mark.parametrize(("routed", "origins", "flags", "kinds"), [
    (None, ["Outbound", "self generated", "Marketing", ""], [True, True, False, None],
     {"missing_sourced_by": 1}),
    ("[Marketing, Partner]", ["EXPANSION", "Partner", "Marketng", ""],
     [True, False, False, None], {"missing_sourced_by": 1, "unknown_sourced_by": 1}),
], ids=["rep-sourced-only", "with-routed"])
def test_sourced_by_column_is_read_and_its_problems_reported(tmp_path, routed, origins, flags,
                                                            kinds):
    m = tmp_path / "m.yaml"
    m.write_text(SOURCING_MAPPING + (f"routed: {routed}\n" if routed else ""))
    rows = [f"S{i},Anna Snelling,GTX Basic,Acme,Won,2017-03-02,2017-03-20,550,{o}"
            for i, o in enumerate(origins)]
    f = tmp_path / "pipeline.csv"
    f.write_text("\n".join([HEADER + ",origin", *rows]) + "\n")
    h = read_history(f, m, find_beside=False)
    assert h.has("sourced_by") and "sourced_by" in h.fields
    got = [None if pd.isna(v) else bool(v) for v in h.deals["rep_sourced"]]
    assert got == flags
    rep = h.report.frame()
    rep = rep[rep["field"] == "sourced_by"]
    assert rep["kind"].value_counts().to_dict() == kinds
    assert set(rep["action"]) == {"kept"}
    if routed:
        detail = rep.loc[rep["kind"] == "unknown_sourced_by", "detail"].iat[0]
        assert "'Marketng'" in detail and "origin" in detail
    with pytest.raises(CrmDataError, match="sourced_by"):
        read_history(f, m, find_beside=False, strict=True)


def test_exports_without_a_sourced_by_column_do_not_say():
    h = read_history(MAVEN / "sales_pipeline.csv.gz", "maven")
    assert not h.has("sourced_by")
    assert h.deals["rep_sourced"].isna().all()
    assert not {"missing_sourced_by", "unknown_sourced_by"} & set(h.report.frame()["kind"])


def test_salesforce_lead_source_as_sourced_by(tmp_path):
    m = tmp_path / "sf.yaml"
    m.write_text("preset: salesforce\ncolumns: {id: Id, created: CreatedDate, close: CloseDate,"
                 " stage: StageName, amount: Amount, source: LeadSource, sourced_by: LeadSource}"
                 "\nrep_sourced: [Employee Referral, External Referral, Word of mouth]\n")
    h = read_history(SF / "Opportunity.csv", m)
    kept = h.deals.set_index("id")
    raw = pd.read_csv(SF / "Opportunity.csv", dtype=str, keep_default_na=False).set_index("Id")
    raw = raw.loc[kept.index, "LeadSource"]
    assert kept["rep_sourced"].isna().sum() == raw.eq("").sum() > 0
    rep = raw.isin(["Employee Referral", "External Referral", "Word of mouth"])
    assert kept.loc[rep[rep].index, "rep_sourced"].all()
    assert not kept.loc[rep[~rep & raw.ne("")].index, "rep_sourced"].any()
    assert (kept["source"].fillna("") == raw).all()  # the channel is still read


@pytest.mark.parametrize(("extra", "message"), [
    ("rep_sourced: [Outbound]\n",
     "rep_sourced lists ['Outbound'] but columns maps no 'sourced_by'"),
    ("routed: [Web]\n", "routed lists ['Web'] but columns maps no 'sourced_by'"),
    ("columns: {id: i, created: c, sourced_by: Origin}\n",
     "columns maps 'sourced_by' to 'Origin' but rep_sourced lists no value"),
    ("columns: {id: i, created: c, sourced_by: Origin}\nrep_sourced: [Outbound, '  ']\n",
     "rep_sourced: value '  ' is blank"),
    ("columns: {id: i, created: c, sourced_by: Origin}\nrep_sourced: [Self-generated, "
     "self generated]\n", "rep_sourced: value 'self generated' is listed twice"),
    ("columns: {id: i, created: c, sourced_by: Origin}\nrep_sourced: [Referral]\n"
     "routed: [Web, referral]\n", "routed: value 'referral' is also in rep_sourced"),
], ids=["rep-sourced-without-column", "routed-without-column", "column-without-values",
        "blank-value", "repeated-value", "value-in-both"])
def test_bad_sourcing_mappings_name_the_field_and_value(tmp_path, extra, message):
    bad = tmp_path / "bad.yaml"
    base = "" if extra.startswith("columns") else "columns: {id: i, created: c}\n"
    bad.write_text(base + extra + "outcomes: {W: won}\nstages: [open]\n")
    with pytest.raises(MappingError, match=re.escape(message)):
        get_mapping(bad)
