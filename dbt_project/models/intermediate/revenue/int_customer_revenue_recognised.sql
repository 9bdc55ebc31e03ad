{#-
    Incremental over the partition window, like the period marts: the rows of a period depend only on the lines
    and orders that overlap it, so a nightly run that changes one quarter does not spread all history again.

    Lines and orders are spread over months only; a quarter is the sum of its months and a year the sum of its
    quarters (spreading them over every grain would cut each line three or four times where the months need
    two). Quarters lie whole inside a window of quarters, but a year row needs every quarter of its year, also
    those before and after the window: an incremental build reads them from this table (rows outside the window
    are current, as for every partitioned model), a first build computes them. A nightly run that rebuilds the
    fourth quarter so spreads three months of lines, not twelve, and sums four quarters per customer for the year,
    not twelve months.
-#}
{%- set built_with = ['reporting_currency'] -%}
{{ config(
    materialized=incremental_where_supported(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=delete_rebuilt_window_hook(built_with, 'period_start'),
    tags=['partitioned'],
) }}

with periods as (
    select grain, period_start
    from {{ ref('int_periods') }}
    where {{ in_rebuilt_window(built_with, 'grain', 'period_start') }}
),

window_years as (
    select period_start as year_start from periods where grain = 'year'
),

{#- the months spread now: the window's, or on a first build every month of the window's years -#}
months as (
    select period_start, period_end, end_day
    from {{ ref('int_periods') }}
    where grain = 'month'
    {%- if is_incremental() %}
        and {{ in_rebuilt_window(built_with, 'grain', 'period_start') }}
    {%- else %}
        and cast({{ dbt.date_trunc('year', 'period_start') }} as date) in (select year_start from window_years)
    {%- endif %}
),

lines as (
    select customer_id, period_start, period_end, service_days, amount_reporting
    from {{ ref('int_invoice_lines_converted') }}
    where is_recognised and has_fx_rate
),

orders as (
    select customer_id, ordered_on, amount_reporting
    from {{ ref('int_orders_converted') }}
    where is_completed
),

month_pieces as (
    select
        months.period_start as month_start,
        lines.customer_id,
        {{ recognised_line_revenue(
            'lines.amount_reporting',
            dbt.datediff(
                'greatest(lines.period_start, months.period_start)',
                'least(lines.period_end, ' ~ dbt.dateadd('day', 1, 'months.end_day') ~ ')',
                'day'
            ),
            'lines.service_days'
        ) }} as recognised_revenue,
        0 as order_count
    from lines
    inner join months
        on lines.period_start <= months.end_day
        and lines.period_end > months.period_start
    union all
    select
        months.period_start as month_start,
        orders.customer_id,
        coalesce(orders.amount_reporting, 0) as recognised_revenue,
        1 as order_count
    from orders
    inner join months
        on orders.ordered_on >= months.period_start
        and orders.ordered_on <= months.end_day
),

month_revenue as (
    select month_start, customer_id, sum(recognised_revenue) as recognised_revenue, sum(order_count) as order_count
    from month_pieces
    group by month_start, customer_id
),

quarter_revenue as (
    select
        cast({{ dbt.date_trunc('quarter', 'month_start') }} as date) as quarter_start,
        customer_id,
        sum(recognised_revenue) as recognised_revenue,
        sum(order_count) as order_count
    from month_revenue
    group by {{ dbt.date_trunc('quarter', 'month_start') }}, customer_id
),

year_quarters as (
    select quarter_start, customer_id, recognised_revenue, order_count
    from quarter_revenue
    {%- if is_incremental() %}
    {#- the other quarters of the window's years, as the builds of their windows left them (the pre-hook emptied
        only the window) #}
    union all
    select period_start as quarter_start, customer_id, recognised_revenue, order_count
    from {{ this }}
    where grain = 'quarter'
        and cast({{ dbt.date_trunc('year', 'period_start') }} as date) in (select year_start from window_years)
    {%- endif %}
),

revenue as (
    select 'month' as grain, month_start as period_start, customer_id, recognised_revenue, order_count
    from month_revenue
    union all
    select 'quarter' as grain, quarter_start as period_start, customer_id, recognised_revenue, order_count
    from quarter_revenue
    union all
    select
        'year' as grain,
        cast({{ dbt.date_trunc('year', 'quarter_start') }} as date) as period_start,
        customer_id,
        sum(recognised_revenue) as recognised_revenue,
        sum(order_count) as order_count
    from year_quarters
    group by {{ dbt.date_trunc('year', 'quarter_start') }}, customer_id
)

select
    revenue.grain,
    revenue.period_start,
    revenue.customer_id,
    cast(revenue.recognised_revenue as decimal(18, 4)) as recognised_revenue,
    cast(revenue.order_count as bigint) as order_count,
    {{ built_with_columns(built_with) }}
from revenue
inner join periods
    on periods.grain = revenue.grain
    and periods.period_start = revenue.period_start
