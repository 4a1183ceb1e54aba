"""From a trained anchored model + full codes to ranked real items.

Contract: knows nothing of training, catalog readers or the cascade. ``CodeTree`` (``tree.py``)
holds the catalog's code paths; ``PlannedSearcher`` (``planned.py``) scores code prefixes in the
encoder's geometry with the look-ahead plan's evidence, by a beam over the tree or exhaustively,
so every hit is a real item.
"""
