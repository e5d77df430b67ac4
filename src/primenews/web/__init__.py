"""The web layer: server-rendered pages and the JSON API over the store."""

from primenews.web.app import create_app

__all__ = ["create_app"]
