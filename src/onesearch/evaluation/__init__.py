"""Scores any ``Searcher`` on a benchmark split and writes comparable reports.

Contract: scores searchers and builds none (beyond the random floor of ``baselines``); imports no
model, cascade, serving or cli code.
"""
