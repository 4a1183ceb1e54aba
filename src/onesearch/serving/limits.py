"""Request-body limits, enforced before a body is read: 413 past the route's cap.

Contract: ``BodyLimit`` wraps the ASGI app. A request whose ``Content-Length`` is over its cap
(or not a number) is answered 413 at once, its body never read; a body sent without a length
(chunked) is counted while it arrives and refused with 413 as soon as it passes the cap.
``cap(path)``: ``large`` for the admin and order-diagnosis routes (catalog and order batches),
``default`` for everything else (searches and events).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "TooLarge"]

LARGE_PREFIXES = ("/admin/", "/orders/")


class TooLarge(HTTPException):
    """A body past its cap (413), raised while it is being received."""

    def __init__(self, cap: int) -> None:
        super().__init__(413, f"request body over {cap:,} bytes")


class BodyLimit:
    """ASGI middleware (module docstring)."""

    def __init__(self, app: ASGIApp, default: int, large: int) -> None:
        self.app, self.default, self.large = app, default, large

    def cap(self, path: str) -> int:
        return self.large if path.startswith(LARGE_PREFIXES) else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap(scope["path"])
        length = dict(scope.get("headers", ())).get(b"content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > cap):
            await _refuse(send, cap)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise TooLarge(cap)
            return message

        await self.app(scope, counted, send)


async def _refuse(send: Send, cap: int) -> None:
    body = json.dumps({"error": f"request body over {cap:,} bytes"}).encode()
    headers: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
