"""Fixed vocabularies and rates of the synthetic business.

Kept in one place so the realism knobs (plan prices, churn rates, failure shares) can be read and tuned
without digging through the simulation code. Every list order matters: generated codes index into them.
"""

from __future__ import annotations

# Customer kinds and their shares: subscription-only, shop-only, both.
KINDS = ("subscription", "shop", "both")
KIND_SHARES = (0.55, 0.35, 0.10)

# Segments: subscribers get a business segment, shop-only customers are consumers.
SEGMENTS = ("smb", "mid_market", "enterprise", "consumer")
SUBSCRIBER_SEGMENT_SHARES = (0.70, 0.22, 0.08)
CONSUMER = 3

# Countries with their billing currency; USD is the majority.
COUNTRIES = ("US", "CA", "GB", "DE", "FR", "NL", "ES", "IE")
COUNTRY_SHARES = (0.55, 0.08, 0.12, 0.09, 0.07, 0.04, 0.03, 0.02)
CURRENCIES = ("USD", "EUR", "GBP")
COUNTRY_CURRENCY = (0, 0, 2, 1, 1, 1, 1, 1)

# Monthly list prices in cents per segment and tier (basic, plus, pro); annual plans cost 10 months.
MONTHLY_PRICE_CENTS = (
    (1900, 4900, 9900),
    (9900, 24900, 49900),
    (49900, 99900, 199900),
)
TIER_SHARES = (0.5, 0.35, 0.15)
ANNUAL_SHARE = 0.20
ANNUAL_PRICE_MONTHS = 10

# Add-ons (extra seats, premium support, API access) as a share of the plan's price for the same period;
# each is its own invoice line. The standard density sells none (see density.py).
ADDON_PRICE_SHARE = (0.30, 0.20, 0.15)

# Per-period churn probability by segment (monthly plans) and per-renewal churn for annual plans.
MONTHLY_CHURN = (0.035, 0.02, 0.01)
ANNUAL_CHURN = (0.25, 0.15, 0.10)
UPGRADE_RATE = 0.02
DOWNGRADE_RATE = 0.01

# Payment outcomes of a billing line.
FAILED_PAYMENT_RATE = 0.03  # issued as open
FAILED_RECOVERED_SHARE = 0.8  # of the open ones: restated to paid, the rest to uncollectible
VOID_DUPLICATE_RATE = 0.003  # an extra line issued in error and voided
REFUND_RATE = 0.005  # paid lines later restated to refunded
LATE_RATE = 0.01  # lines that arrive in a later day's file than their issue day

# Reactivation of churned subscribers.
REACTIVATION_RATE = 0.15
REACTIVATION_MIN_GAP_DAYS = 14
REACTIVATION_MEAN_GAP_DAYS = 90
REACTIVATION_ROUNDS = 3

# Shop behaviour.
PURCHASE_GAP_SHAPE = 2.0  # gamma shape of the gaps between purchases
PURCHASE_MEAN_GAP_DAYS = (15.0, 120.0)  # customer-specific mean gap, log-uniform in this range
DROPOUT_BETA = (1.0, 19.0)  # per-customer chance to lapse after each purchase, mean 5 %
ORDER_MEDIAN_CENTS = (12000, 30000, 80000, 4500)  # by segment
ORDER_SIGMA = 0.6
ORDER_STATUSES = ("completed", "cancelled", "refunded")
ORDER_STATUS_SHARES = (0.95, 0.03, 0.02)
ORDER_LATE_REFUND_RATE = 0.01  # completed orders re-sent later as refunded

# FX: reporting-currency (USD) units for one unit of currency; mean-reverting random walk.
FX_CURRENCIES = ("EUR", "GBP")
FX_CENTER = (1.08, 1.27)
FX_DAILY_VOL = 0.004
FX_REVERSION = 0.01

# Marketing channels: share of acquired customers and cost per acquired customer in USD.
CHANNELS = ("paid_search", "social", "referral", "content", "events")
CHANNEL_SHARES = (0.35, 0.25, 0.15, 0.15, 0.10)
CHANNEL_CAC = (180.0, 140.0, 60.0, 90.0, 400.0)

# Cancellation survey.
FEEDBACK_RATE = 0.40
FEEDBACK_MAX_DELAY_DAYS = 4
FEEDBACK_COMMENT_RATE = 0.5
REASONS = tuple(
    "too_expensive missing_features switched_competitor no_longer_needed poor_support other".split()
)
REASON_SHARES = (0.30, 0.20, 0.15, 0.20, 0.08, 0.07)
COMMENTS = (
    "Price went up, budget did not",
    "We needed an integration that is not there",
    "Moved to a tool our partner uses",
    "Project ended",
    "Tickets took days to get an answer",
    "Just trying something else",
)

FIRST_NAMES = tuple(
    "Ada Ben Chloe Dmitri Elena Farah Gustav Hana Ivan Julia Kofi Lea "
    "Mateo Nora Omar Priya Quentin Rosa Sven Tara Umar Vera Wei Yara".split()
)
LAST_NAMES = tuple(
    "Adams Berg Costa Dubois Evans Fischer Garcia Hughes Ibrahim Jensen Kim "
    "Larsen Moreau Novak Okafor Patel Quinn Rossi Schmidt Tanaka Vogel Walsh".split()
)
COMPANY_WORDS = tuple(
    "Acme Bright Cedar Delta Ember Fjord Granite Harbor Indigo Juniper "
    "Kestrel Lumen Maple Nimbus Orbit Pioneer Quartz Summit Tidal Vertex".split()
)
COMPANY_SUFFIXES = tuple("Labs Systems Studio Group Works Analytics Logistics Health".split())
