"""Scores any ``Searcher`` on a benchmark split and writes comparable reports.

Contract: receives searchers, never builds them; imports no model, cascade, serving or cli code.
"""
