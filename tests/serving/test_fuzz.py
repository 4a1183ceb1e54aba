"""Schemathesis fuzzes the service's own OpenAPI spec: every generated request gets a documented
status and a body that matches the spec; nothing answers 500. Derandomized so CI is repeatable;
``ONESEARCH_FUZZ_SEED=random ONESEARCH_FUZZ_EXAMPLES=500`` explores further by hand."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from onesearch.serving.app import create_app
from onesearch.serving.events import EventLog

from .conftest import make_catalog, make_engine

APP = create_app(make_engine(make_catalog()), EventLog(Path(tempfile.mkdtemp(prefix="onesearch-fuzz-")) / "events.jsonl"))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=int(os.environ.get("ONESEARCH_FUZZ_EXAMPLES", "60")), derandomize=os.environ.get("ONESEARCH_FUZZ_SEED") != "random",
          deadline=None, suppress_health_check=list(HealthCheck))
def test_every_route_keeps_its_contract(case):
    case.call_and_validate()
