"""The web application: pages, JSON API and static files over one store.

``create_app`` builds everything when it is called; importing this module
reads no settings and opens nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from primenews import __version__
from primenews.config import Settings
from primenews.domain import Source
from primenews.store import Store
from primenews.web import (
    admin,
    alerts,
    api,
    auth,
    docs,
    entities,
    events,
    feed_routes,
    pages,
    search,
    source_page,
    websub,
)
from primenews.web.assets import STATIC_DIR, STATIC_URL, FingerprintedStaticFiles
from primenews.web.errors import install_error_handlers
from primenews.web.events import Broadcaster
from primenews.web.headers import SecurityHeadersMiddleware
from primenews.web.pagecache import PageCache, PageCacheMiddleware
from primenews.web.ranking import Rankings
from primenews.web.templating import build_templates

if TYPE_CHECKING:
    from primenews.worker.websub import WebSubManager


def create_app(
    settings: Settings,
    store: Store,
    *,
    on_source_added: Callable[[Source], None] | None = None,
    live_events: Broadcaster | None = None,
    websub_manager: WebSubManager | None = None,
) -> FastAPI:
    """The ASGI app serving the site and the API from ``store``.

    Args:
        settings: the frozen settings, kept on ``app.state.settings``.
        store: an opened, migrated store; the app does not close it.
        on_source_added: called with each source that ``POST /api/v1/sources`` creates
            (not for a URL already known), on the event loop's thread, after the source
            is stored: it may set an ``asyncio.Event`` or start a task, but must not block
            (hand discovery or fetching to a task or thread). Its errors are logged.
    """
    app = FastAPI(
        title="Prime News",
        version=__version__,
        description="Stories, articles and sources of a Prime News instance.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served by web.docs with its own Content-Security-Policy
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.on_source_added = on_source_added
    app.state.events = live_events or Broadcaster()
    app.state.websub = websub_manager
    app.state.templates = build_templates()
    app.state.rankings = Rankings(store)
    app.state.page_cache = PageCache()
    app.state.templates.env.globals["feed_links"] = feed_routes.feed_links
    app.state.auth = auth.build_auth_state(settings)
    install_error_handlers(app)
    # Cached pages are answered before routing and dependencies run (see web.pagecache).
    app.add_middleware(PageCacheMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)  # added last: wraps error answers too
    app.include_router(api.router)
    app.include_router(entities.api_router)
    app.include_router(source_page.api_router)
    app.include_router(events.router)
    app.include_router(websub.router)
    app.include_router(docs.router)
    app.include_router(feed_routes.router)
    app.include_router(search.router)  # before pages: its /{section} would take /search
    app.include_router(entities.page_router)
    app.include_router(source_page.page_router)
    app.include_router(auth.router)  # before pages: /login must not reach /{section}
    app.include_router(admin.router)
    app.include_router(alerts.page_router)  # before pages: /alerts must not reach /{section}
    app.include_router(alerts.api_router)
    app.include_router(pages.router)
    # Before /static, which would otherwise take these paths.
    app.mount(docs.ASSETS_URL, StaticFiles(directory=docs.ASSETS_DIR), name="api_docs_assets")
    app.mount(STATIC_URL, FingerprintedStaticFiles(directory=STATIC_DIR), name="static")
    return app
