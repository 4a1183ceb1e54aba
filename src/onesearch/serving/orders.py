"""``POST /orders/diagnose``: the merchant's order diagnosis behind the admin key.

Contract: the route is mounted only when the service has an ``OrderDiagnosis`` (``onesearch
serve --orders-model DIR``); without one it answers 404. The key check is the admin API's
(401 without or with a wrong key, 403 when the service has no key), made before the body is
validated. A batch the diagnosis refuses (``DataError``: a bad date, inconsistent lines)
answers 422 with the row and the problem. The work runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from fastapi import Depends, FastAPI
from starlette.exceptions import HTTPException

from onesearch.errors import DataError
from onesearch.serving.admin import ADMIN_ERRORS, key_check
from onesearch.serving.schemas import DiagnosisBody, OrdersBody

__all__ = ["OrderDiagnosis", "add_order_routes"]


class OrderDiagnosis(Protocol):
    """What diagnoses orders (``orders.model.Diagnoser``)."""

    def diagnose_records(self, lines: Sequence[dict[str, Any]]) -> list[dict[str, Any]]: ...


def add_order_routes(app: FastAPI, diagnosis: OrderDiagnosis | None, key: str | None) -> None:
    """Mount ``POST /orders/diagnose`` over ``diagnosis`` (see module docstring)."""
    authorize = key_check(key)

    @app.post("/orders/diagnose", response_model=DiagnosisBody, responses=ADMIN_ERRORS, tags=["merchant"])
    async def diagnose(body: OrdersBody, _: None = Depends(authorize)) -> DiagnosisBody:
        """Flag pending orders: which to check before shipping, which to ship first, and why."""
        if diagnosis is None:
            raise HTTPException(404, "order diagnosis is off (start the service with --orders-model DIR)")
        lines = [line.model_dump() for line in body.orders]
        try:
            rows = await asyncio.to_thread(diagnosis.diagnose_records, lines)
        except DataError as error:
            raise HTTPException(422, str(error)) from None
        ranked = sorted((row for row in rows if row["flag"] == "ship first"), key=lambda row: row["ship_rank"])
        flagged = sorted((row for row in rows if row["flag"] == "check"), key=lambda row: -row["risk"])
        return DiagnosisBody(orders=rows, check=[row["order_id"] for row in flagged],
                             ship_first=[row["order_id"] for row in ranked])
