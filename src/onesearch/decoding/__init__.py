"""From a trained model + codebook to ranked real items: trie-constrained beam search.

Contract: knows nothing of training, catalog readers or the cascade. The trie is its own
structure (``trie.py``); beam search (``beam.py``) drives any model through a small step
interface, so every decoded code is a path of the trie, i.e. a real item.
"""
