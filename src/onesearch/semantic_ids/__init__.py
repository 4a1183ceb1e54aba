"""Hierarchical semantic ids: residual k-means levels plus OPQ sub-codes over the last residual.

Contract: numpy + FAISS only (no torch, no model code). The input is an array of vectors, the
output is integer codes; item ids appear only in the codebook's explicit code <-> item maps.
"""
