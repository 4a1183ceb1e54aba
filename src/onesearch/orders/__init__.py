"""Order diagnosis, the merchant side: which pending orders to check before shipping and which
to ship first, learned from real order outcomes.

Stages: ``schema`` (the generic order format) -> ``readers`` (the shared sets, leaks dropped)
-> ``features`` (order-time and as-of context features) -> ``model`` (calibrated risk,
anomaly, reasons, the ship-first list) -> ``evaluate`` (time / random / customer splits,
baselines, bootstrap CIs). Imports no search code.
"""
