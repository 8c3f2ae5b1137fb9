"""Incentive compensation: what a pay plan pays, costs and whom it favours.

- :mod:`.curve`: the commission curve by attainment (tiers, threshold, cap);
- :mod:`.payouts`: payouts per replication and rep from simulated sales and a quota plan
  (payout periods with cumulative true-up, draws, SPIFs, base pay);
- :mod:`.summary`: cost of sales, pay distribution, share at on-target pay, pay equity;
- :mod:`.design`: the quota level, accelerator and cap that meet a budget and a share at quota.

The engine takes simulated sales as arrays (:class:`Sales`) and never imports the simulator; the
application layer (:mod:`salesplan.api.planning.compensation`) composes the two.
"""

from .curve import commission_fraction
from .design import PlanDesign, design_plan
from .payouts import Payouts, PayTerms, Sales, compute_payouts, pay_terms, payout_periods
from .summary import gini, pay_equity, pay_summary, rep_pay_table

__all__ = [
    "PayTerms",
    "Payouts",
    "PlanDesign",
    "Sales",
    "commission_fraction",
    "compute_payouts",
    "design_plan",
    "gini",
    "pay_equity",
    "pay_summary",
    "pay_terms",
    "payout_periods",
    "rep_pay_table",
]
