"""One module per data set in ``../shared/data`` plus the generic format.

Contract: each module exposes ``FILES`` (paths under the data root it reads), ``read(root) ->
Dataset`` and, for benchmark tasks, ``read_test_file(dataset, path) -> Dataset``. Shared sets
have known defects handled by a documented, counted policy (``Dataset.notes``); user-provided
files (generic format, ``--test-file``) are validated strictly and fail with ``DataError``.
"""
