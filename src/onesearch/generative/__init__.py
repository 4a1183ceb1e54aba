"""The generative searcher as a served artifact: its recipe, the parts it searches with, and its
model folder (written by training, read by eval, the CLI and the service).

Contract: turns a model folder plus a catalog table into a ``PlannedSearcher``; never imports
``training``, the baselines or the UI, so serving a model never needs the trainer.
"""
