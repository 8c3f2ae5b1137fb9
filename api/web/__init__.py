"""The web app for leadership and planners: a static single-page app served at ``/`` with its
scripts and styles under ``/app/`` (files of this package; no build step, no CDN).

The page talks only to the ``/v1`` routes with the API key its user types in (kept in the
browser's ``sessionStorage``: gone when the browser session ends). Every URL the page uses is
relative to it, so the app works under a reverse proxy's path prefix as well as at ``/``.
See ``docs/webapp.md``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse

__all__ = ["ASSET_TYPES", "add_web_app"]

ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
"""The asset files served under ``/app/`` by suffix; any other name is a 404."""

SECURITY_HEADERS = {
    # the page loads only its own files and talks only to this server; PNG charts and
    # downloads are fetched with the key and shown as blob: URLs
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' blob: data:; "
                                "style-src 'self'; script-src 'self'; connect-src 'self'; "
                                "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # a new release is picked up on the next load (the files are small)
    "Cache-Control": "no-cache",
}


def _root() -> Path:
    return Path(str(files("salesplan.api.web")))


def add_web_app(app: FastAPI) -> None:
    """``GET /`` (the page) and ``GET /app/{path}`` (its ES modules and styles)."""
    root = _root()
    assets = (root / "app").resolve()

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def web_index() -> FileResponse:
        return FileResponse(root / "index.html", media_type="text/html; charset=utf-8",
                            headers=SECURITY_HEADERS)

    @app.api_route("/app/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    def web_asset(path: str) -> FileResponse:
        target = (assets / path).resolve()
        media = ASSET_TYPES.get(target.suffix)
        if media is None or not target.is_relative_to(assets) or not target.is_file():
            raise HTTPException(404, f"no web app file {path!r}")
        return FileResponse(target, media_type=media, headers=SECURITY_HEADERS)
