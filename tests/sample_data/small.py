"""The small, fast generation parameters every sample-data test uses."""

from datetime import date

SMALL = {"customers": 300, "seed": 7, "start": date(2024, 1, 1), "end": date(2024, 12, 31)}
