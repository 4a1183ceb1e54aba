"""The search service: already-built searchers behind HTTP and a web page.

Contract: knows nothing of catalogs on disk, training or evaluation — ``cli serve`` loads the
artifacts, wraps them in an ``Engine`` (``engine.py``) and passes it to ``create_app``
(``app.py``); requests are micro-batched (``batcher.py``) and logged (``events.py``); the API
contract is ``schemas.py``.
"""
