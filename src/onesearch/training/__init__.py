"""Stage recipes that turn catalog tables + codebook into a trained generative model.

Contract: may import model, semantic_ids, embedding and catalog; never cascade, serving or cli.
"""
