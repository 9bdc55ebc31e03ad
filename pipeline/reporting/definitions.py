"""The metric definitions in plain words, for readers who will not open docs/metrics.md.

Kept consistent with docs/metrics.md (the contract); these paragraphs only restate it without SQL.
"""

from __future__ import annotations

DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "Active customer",
        "A customer is active on a day when a subscription is running (monthly recurring revenue above zero) or "
        "when they placed a completed shop order within the activity window before that day.",
    ),
    (
        "Retention rate",
        "Of the customers active at the start of the month, the share still active at its end, not counting "
        "customers who were new in the month: (customers at end \u2212 new customers) \u00f7 customers at start "
        "\u00d7 100. Returning customers count at the end, so the rate can exceed 100 %.",
    ),
    (
        "Churn rate",
        "The share of the customers active at the start of the month who are no longer active at its end: "
        "churned customers \u00f7 customers at start \u00d7 100.",
    ),
    (
        "Gross MRR churn",
        "Monthly recurring revenue lost in the month through cancellations (churned) and downgrades "
        "(contraction), as a share of the MRR at the start of the month. Upgrades do not offset it.",
    ),
    (
        "Net revenue retention (NRR)",
        "The MRR of the customers who were paying at the start of the month, at its end, as a share of where it "
        "started: (MRR at start + expansion \u2212 contraction \u2212 churned) \u00f7 MRR at start \u00d7 100. "
        "Above 100 % means upgrades outweigh downgrades and cancellations. New and returning customers are "
        "not counted.",
    ),
    (
        "MRR movements",
        "Each customer's MRR change in a month is one movement: new (first ever MRR), reactivation (paying again "
        "after a gap), expansion (paying more), contraction (paying less) or churned (stopped paying). MRR at "
        "end = MRR at start + new + reactivation + expansion \u2212 contraction \u2212 churned, exactly.",
    ),
    (
        "Cohort retention",
        "A cohort is the customers whose first active day falls in the same month. Each cell is the share of "
        "the cohort active at the end of the month that many months after the cohort started; customers who "
        "come back count again.",
    ),
    (
        "At-risk customers",
        "Active customers showing at least one warning sign (an overdue purchase, long inactivity, falling MRR, "
        "an unpaid invoice, or a low modelled probability of still being a customer). Value at risk is the "
        "larger of the last 12 months of revenue and 12 \u00d7 current MRR. The call priority ranks them by the "
        "value at stake where a model knows the customer, else by value at risk \u00d7 the probability they "
        "have already gone.",
    ),
    (
        "Customer lifetime value",
        "The margin a customer is expected to bring over the coming months (12 unless configured), each month "
        "discounted. For a shop buyer: the expected number of order days (a purchase model that also estimates "
        "whether they still buy) times the expected value of an order day. For a subscriber: current MRR times "
        "the probability of still subscribing in each month, read from how long subscribers of the same segment "
        "and age have stayed.",
    ),
    (
        "Value at stake",
        "The part of the lifetime value expected to be lost: for a buyer, the lifetime value \u00d7 the "
        "probability they have already stopped buying; for a subscriber, the lifetime value \u00d7 the "
        "probability they cancel within the horizon.",
    ),
    (
        "Subscription survival",
        "Of the subscribers who started k or more months ago, the share still subscribing k months after their "
        "first paid day (Kaplan-Meier, which also counts subscribers who have not been around that long for the "
        "months they have). A subscriber who pauses and comes back before today counts as having stayed.",
    ),
)
