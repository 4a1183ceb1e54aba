"""The sequential recommenders next-item tasks are measured against: popularity, next-item
counts ("what followed the user's last items") and SASRec, each a ``types.Searcher`` trained on
the task's train split only.

Contract: imports no training, decoding, model or cascade code; the generative searcher is
compared with these side by side in ``onesearch eval``, never built from them.
"""
