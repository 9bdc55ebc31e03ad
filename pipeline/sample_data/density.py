"""How much business each customer makes: the `standard` profile (the default) and a `dense` one.

The standard profile is the catalog's constants and keeps the default output byte-identical. The dense profile
is the same customers running a busier business, for benchmarks that need issue 7's volumes (15-20 invoice
lines and about 10 orders per customer): more subscribers on monthly billing, add-ons (extra seats, premium
support, API access) that are billed as their own invoice lines and bought or dropped over a subscription's
life, and shop buyers who come back more often and lapse less. It changes rates of the simulation, never
copies rows, so every line and order is still a distinct business event with its own key.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.sample_data import catalog as cat


@dataclass(frozen=True)
class Density:
    name: str
    annual_share: float  # of new subscriptions billed yearly (one line a year instead of twelve)
    addon_start_share: tuple[float, ...]  # chance a new subscription takes each add-on of cat.ADDON_PRICE_SHARE
    addon_monthly_adoption: float  # chance per month that an add-on not held is bought mid-period
    addon_monthly_drop: float  # chance per month that a held add-on is not renewed
    purchase_mean_gap_days: tuple[float, float]  # range of the customer-specific mean gap between orders
    dropout_beta: tuple[float, float]  # Beta parameters of the per-customer chance to lapse after an order

    @property
    def has_addons(self) -> bool:
        return any(share > 0 for share in self.addon_start_share) or self.addon_monthly_adoption > 0


STANDARD = Density(
    name="standard",
    annual_share=cat.ANNUAL_SHARE,
    addon_start_share=(0.0, 0.0, 0.0),
    addon_monthly_adoption=0.0,
    addon_monthly_drop=0.0,
    purchase_mean_gap_days=cat.PURCHASE_MEAN_GAP_DAYS,
    dropout_beta=cat.DROPOUT_BETA,
)

DENSE = Density(
    name="dense",
    annual_share=0.05,
    addon_start_share=(0.45, 0.30, 0.20),
    addon_monthly_adoption=0.03,
    addon_monthly_drop=0.015,
    purchase_mean_gap_days=(6.0, 45.0),
    dropout_beta=(1.0, 49.0),
)

PROFILES = {profile.name: profile for profile in (STANDARD, DENSE)}


def profile(density: str | Density) -> Density:
    """The profile of a name (`standard`, `dense`) or the Density itself; unknown names raise ValueError."""
    if isinstance(density, Density):
        return density
    try:
        return PROFILES[density]
    except KeyError:
        raise ValueError(f"unknown density {density!r}: choose from {', '.join(PROFILES)}") from None
