"""Warehouse schemas that more than one domain names.

dbt builds the marts into `marts_build`; checks read them there. Only after every blocking check has passed
does the publish step copy them, in one transaction, into `marts`, the schema people and reports query. A
failed check or a crash half-way therefore never changes what `marts` shows.
"""

MARTS_BUILD = "marts_build"
MARTS = "marts"
