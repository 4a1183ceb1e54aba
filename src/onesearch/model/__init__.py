"""The generative searcher's network and its token layout.

Contract: sees token ids and tensors only — no text, no files, no catalog (the nanochat engine
habit). The text encoder lives in ``embedding``; decoding drives ``step``/``reorder``.
"""
