-- Raw-DuckDB reference for the benchmark: the customer-month MRR snapshot and the monthly MRR movements,
-- straight from the landing files, with none of the pipeline's machinery (no manifest, quarantine table,
-- data tests, Dagster or dbt). It is the floor the pipeline is compared with, so it does only what the
-- result needs, but it must reach the same numbers: same row validity, same "latest file wins" restatements,
-- same FX rule, same monthly-amount rule, same MRR and movement definitions (docs/metrics.md).
-- Run it with the landing folder as the working directory (paths are relative); reporting currency USD.

SET TimeZone = 'UTC';

-- Invoice lines as text, with their file and their order inside it (as the ingest stages them).
CREATE TEMP TABLE raw_lines AS
SELECT filename AS _file, row_number() OVER () AS _ord, *
FROM read_csv('invoices/*.csv', header = true, all_varchar = true, null_padding = true, filename = true);

-- Typed lines that pass the contract's row rules; the latest file (then the latest row) wins per key.
CREATE TEMP TABLE lines AS
WITH typed AS (
    SELECT
        _file,
        _ord,
        NULLIF(TRIM(invoice_id), '') AS invoice_id,
        NULLIF(TRIM(line_id), '') AS line_id,
        NULLIF(TRIM(customer_id), '') AS customer_id,
        TRY_CAST(NULLIF(TRIM(amount), '') AS DECIMAL(18, 4)) AS amount,
        TRY_CAST(NULLIF(TRIM(amount), '') AS DOUBLE) AS amount_double,
        UPPER(NULLIF(TRIM(currency), '')) AS currency,
        TRY_CAST(NULLIF(TRIM(period_start), '') AS DATE) AS period_start,
        TRY_CAST(NULLIF(TRIM(period_end), '') AS DATE) AS period_end,
        LOWER(NULLIF(TRIM(status), '')) AS status,
        CAST(TRY_CAST(NULLIF(TRIM(issued_at), '') AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS DATE) AS issued_on,
        row_number() OVER (PARTITION BY _file, NULLIF(TRIM(invoice_id), ''), NULLIF(TRIM(line_id), '')
                           ORDER BY _ord) AS nth_in_file
    FROM raw_lines
)
SELECT customer_id, amount, currency, period_start, period_end, status, issued_on
FROM typed
WHERE invoice_id IS NOT NULL AND line_id IS NOT NULL AND customer_id IS NOT NULL
    AND amount IS NOT NULL AND NOT isnan(amount_double)
    AND currency IS NOT NULL AND length(currency) = 3
    AND period_start IS NOT NULL AND period_end IS NOT NULL AND period_end > period_start
    AND status IN ('paid', 'open', 'void', 'uncollectible', 'refunded')
    AND issued_on IS NOT NULL
    AND nth_in_file = 1
QUALIFY row_number() OVER (PARTITION BY invoice_id, line_id ORDER BY _file DESC, _ord DESC) = 1;

DROP TABLE raw_lines;

-- FX rates: reporting-currency units per unit of currency; the latest file wins per (date, currency).
CREATE TEMP TABLE fx AS
SELECT "date" AS rate_date, UPPER(TRIM(currency)) AS currency, CAST(rate AS DECIMAL(18, 8)) AS rate
FROM read_parquet('fx_rates/*.parquet', filename = true)
WHERE "date" IS NOT NULL AND currency IS NOT NULL AND rate IS NOT NULL AND rate >= 0
QUALIFY row_number() OVER (PARTITION BY "date", UPPER(TRIM(currency)) ORDER BY filename DESC) = 1;

-- The as-of day: the last day any valid invoice line or order was issued (the last month is cut there).
CREATE TEMP TABLE as_of AS
SELECT greatest(
    (SELECT max(issued_on) FROM lines),
    (SELECT max(CAST(ordered_at AS DATE)) FROM read_parquet('orders/*.parquet')
     WHERE order_id IS NOT NULL AND customer_id IS NOT NULL AND amount >= 0
        AND lower(status) IN ('completed', 'cancelled', 'refunded'))
) AS as_of_day;

-- Monthly amount per recognised line, in USD: rate of the nearest date on or before period_start;
-- months = k when the service days are within 3 of k x 30.4375, else days / 30.4375.
CREATE TEMP TABLE monthly AS
WITH rated AS (
    SELECT
        lines.customer_id,
        lines.period_start,
        lines.period_end,
        lines.amount,
        CASE WHEN lines.currency = 'USD' THEN CAST(1 AS DECIMAL(18, 8)) WHEN fx.rate > 0 THEN fx.rate END AS fx_rate,
        date_diff('day', lines.period_start, lines.period_end) AS days
    FROM lines
    ASOF LEFT JOIN fx ON fx.currency = lines.currency AND lines.period_start >= fx.rate_date
    WHERE lines.status IN ('paid', 'open')
),
measured AS (
    SELECT
        *,
        CAST(round(amount * fx_rate, 4) AS DECIMAL(18, 4)) AS amount_usd,
        CAST(round(days / 30.4375) AS INTEGER) AS k
    FROM rated
    WHERE fx_rate IS NOT NULL
)
SELECT
    customer_id,
    period_start,
    period_end,
    CAST(round(amount_usd / CASE WHEN k >= 1 AND abs(days - k * 30.4375) <= 3 THEN CAST(k AS DOUBLE)
                                 ELSE days / 30.4375 END, 4) AS DECIMAL(18, 4)) AS monthly_amount
FROM measured;

-- MRR intervals per customer: a running sum over the days the MRR changes, [valid_from, valid_to).
CREATE TEMP TABLE mrr_intervals AS
WITH changes AS (
    SELECT customer_id, change_day, sum(delta) AS delta
    FROM (
        SELECT customer_id, period_start AS change_day, monthly_amount AS delta FROM monthly
        UNION ALL
        SELECT customer_id, period_end, -monthly_amount FROM monthly
    )
    GROUP BY customer_id, change_day
),
running AS (
    SELECT
        customer_id,
        change_day AS valid_from,
        lead(change_day) OVER w AS valid_to,
        sum(delta) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS net_mrr
    FROM changes
    WINDOW w AS (PARTITION BY customer_id ORDER BY change_day)
)
SELECT customer_id, valid_from, valid_to, CAST(net_mrr AS DECIMAL(18, 4)) AS mrr
FROM running
WHERE valid_to IS NOT NULL AND net_mrr > 0;

-- Months from the first month with MRR to the as-of month; MRR at start is taken on the day before the
-- month, MRR at end on its last day (or the as-of day for the running month).
CREATE TEMP TABLE months AS
SELECT
    month_start,
    CAST(month_start - INTERVAL 1 DAY AS DATE) AS start_day,
    least(CAST(month_start + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE), (SELECT as_of_day FROM as_of)) AS end_day
FROM (
    SELECT CAST(unnest(generate_series(
        date_trunc('month', (SELECT min(valid_from) FROM mrr_intervals)),
        date_trunc('month', (SELECT as_of_day FROM as_of)),
        INTERVAL 1 MONTH)) AS DATE) AS month_start
);

-- The customer-month MRR snapshot, joined on intervals (never one row per customer-day).
CREATE TEMP TABLE customer_month_mrr AS
WITH first_mrr AS (
    SELECT customer_id, min(valid_from) AS first_mrr_day FROM mrr_intervals GROUP BY customer_id
),
points AS (
    SELECT months.month_start, i.customer_id, i.mrr AS mrr_start, CAST(0 AS DECIMAL(18, 4)) AS mrr_end
    FROM months JOIN mrr_intervals AS i ON i.valid_from <= months.start_day AND i.valid_to > months.start_day
    UNION ALL
    SELECT months.month_start, i.customer_id, 0, i.mrr
    FROM months JOIN mrr_intervals AS i ON i.valid_from <= months.end_day AND i.valid_to > months.end_day
),
snapshot AS (
    SELECT month_start, customer_id, sum(mrr_start) AS mrr_start, sum(mrr_end) AS mrr_end
    FROM points GROUP BY month_start, customer_id
)
SELECT
    snapshot.*,
    CASE
        WHEN mrr_start = 0 AND mrr_end > 0 AND first_mrr.first_mrr_day >= month_start THEN 'new'
        WHEN mrr_start = 0 AND mrr_end > 0 THEN 'reactivation'
        WHEN mrr_start > 0 AND mrr_end = 0 THEN 'churned'
        WHEN mrr_start > 0 AND mrr_end > mrr_start THEN 'expansion'
        WHEN mrr_end > 0 AND mrr_end < mrr_start THEN 'contraction'
        ELSE 'unchanged'
    END AS movement
FROM snapshot JOIN first_mrr USING (customer_id);

-- The monthly MRR movements: the result the harness compares with marts.revenue_churn (grain month).
SELECT
    months.month_start,
    coalesce(sum(s.mrr_start), 0) AS mrr_start,
    coalesce(sum(s.mrr_end - s.mrr_start) FILTER (WHERE s.movement = 'new'), 0) AS new_mrr,
    coalesce(sum(s.mrr_end - s.mrr_start) FILTER (WHERE s.movement = 'expansion'), 0) AS expansion_mrr,
    coalesce(sum(s.mrr_end - s.mrr_start) FILTER (WHERE s.movement = 'reactivation'), 0) AS reactivation_mrr,
    coalesce(sum(s.mrr_start - s.mrr_end) FILTER (WHERE s.movement = 'contraction'), 0) AS contraction_mrr,
    coalesce(sum(s.mrr_start - s.mrr_end) FILTER (WHERE s.movement = 'churned'), 0) AS churned_mrr,
    coalesce(sum(s.mrr_end), 0) AS mrr_end
FROM months LEFT JOIN customer_month_mrr AS s USING (month_start)
GROUP BY months.month_start
ORDER BY months.month_start;
