"""The anchored scorer's network: query, user and evidence in, node scores out.

Contract: sees ids and tensors only — no text, no files, no catalog. The text encoder lives in
``embedding``; ``decoding`` drives the model over the code tree.
"""
