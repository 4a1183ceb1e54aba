"""Evidence both the cascade and the generative searcher read: lexical analysis and BM25, the
catalog's rows with train popularity, the user's own interaction counts, and the per-request
evidence plan pooled up a code trie.

Contract: imports no cascade, model, decoding or semantic-id code, so the baseline and the
generative system share it without depending on each other. Numpy + bm25s only; no torch.
"""
