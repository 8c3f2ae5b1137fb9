"""Error answers: every 4xx is ``{"detail": ..., "problems": [{"path", "message"}]}``.

Domain errors map to status codes here (ScenarioError and other planner errors 422, not found
404, conflicts 409); request validation errors list every field with its path; bodies over the
limit get 413 before any handler reads them.
"""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salesplan.scenarios.errors import SalesplanError, ScenarioError

from .schemas import ErrorPublic
from .store import ConflictError, NotFoundError

__all__ = ["ERROR_RESPONSES", "BodyLimit", "install_error_handlers"]

log = logging.getLogger("salesplan.service")

ERROR_RESPONSES: dict[int | str, dict] = {
    400: {"model": ErrorPublic, "description": "The body could not be parsed"},
    401: {"model": ErrorPublic, "description": "No API key, or an invalid or revoked one"},
    404: {"model": ErrorPublic, "description": "Not found"},
    413: {"model": ErrorPublic, "description": "Request body over the size limit"},
    422: {"model": ErrorPublic, "description": "Invalid input: every problem with its path"},
}


def _error(status: int, detail: str, problems=(), headers=None) -> JSONResponse:
    body = ErrorPublic(detail=detail, problems=[{"path": p.path, "message": p.message}
                                                 for p in problems])
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ScenarioError)
    async def scenario_error(_: Request, exc: ScenarioError) -> JSONResponse:
        n = len(exc.problems)
        head = f"{exc.source}: " if exc.source else ""
        return _error(422, f"{head}{n} problem{'s' if n != 1 else ''} found", exc.problems)

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(ConflictError)
    async def conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return _error(409, str(exc))

    @app.exception_handler(SalesplanError)
    async def planner_error(_: Request, exc: SalesplanError) -> JSONResponse:
        return _error(422, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        from salesplan.scenarios.references import Problem

        problems = [Problem(".".join(str(p) for p in e.get("loc", ())), str(e.get("msg", "")))
                    for e in exc.errors()]
        n = len(problems)
        return _error(422, f"invalid request: {n} problem{'s' if n != 1 else ''} found",
                      problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


class BodyLimit:
    """ASGI middleware: answer 413 to a body over ``max_bytes`` (by Content-Length, or while
    reading a chunked body), before the application sees it."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def _too_large(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body too large: the limit is {self.max_bytes} "
                                     "bytes (SALESPLAN_MAX_BODY_BYTES)", "problems": []}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._too_large(send)
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
