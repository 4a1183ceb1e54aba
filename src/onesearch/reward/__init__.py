"""The preference-aware reward system: a cross-encoder's relevance plus the cascade's behaviour
and popularity features, calibrated to the task's gains; the ``cascade+reward`` searcher; the
scores the generative searcher's preference stage learns from.

Contract: builds on the cascade (its recall, features and pre-rank) and on no generative code,
so the ceiling it sets is independent of the model distilled towards it.
"""
