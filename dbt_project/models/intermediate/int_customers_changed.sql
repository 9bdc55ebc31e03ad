{#-
    The customers the models in by_customer/ rebuild on an incremental run: every customer a load recorded in
    (changed_after, changed_through], the loads since those models were last built (Dagster passes the bounds, see
    pipeline/transform/customer_scope.py). Without bounds: every customer any load recorded.
-#}
select distinct customer_id
from {{ ref('stg_ingest__changed_customers') }}
where {{ loads_in_scope() }}
