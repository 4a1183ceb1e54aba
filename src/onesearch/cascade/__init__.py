"""The cascade baseline: recall (BM25 + dense ANN + the user's own history) -> fusion ->
pre-rank -> LambdaMART rank, each stage also a ``Searcher`` on its own.

Contract: imports no model, decoding or semantic-id code, so the baseline stays independent of
the generative system it is measured against.
"""
