"""The gateway process: public API, authentication, live stream, documentation and dashboard."""

from __future__ import annotations

from fastapi import FastAPI

from gateway import api, web
from gateway.accounts import api as accounts_api
from gateway.accounts.store import AccountStore
from gateway.contracts import api as contracts
from gateway.imports import api as imports_api
from gateway.imports.store import ImportStore
from gateway.notices.store import NoticeStore
from gateway.pathguard import PathGuardMiddleware
from gateway.registrations import api as registrations_api
from gateway.registrations.store import RegistrationStore
from gateway.security import install_browser_security
from gateway.settings import GatewaySettings
from gateway.wiring import Gateway
from shared.app import Runtime, ServiceSpec, create_service_app
from shared.web.middleware import LargeBody

DESCRIPTION = (
    "The single public entry point of the Milan commerce & markets platform: everything under "
    "`/api/v1` (markets, shops and services, districts, the city overview and the live stream), "
    "with OAuth2 password login and role- and scope-checked writes."
)
# the routes whose body may exceed max_body_bytes: a shop's document upload and an open-data file
DOCUMENT_UPLOAD = r"/api/v1/shops/[^/]+/documents"
IMPORT_UPLOAD = r"/api/v1/imports"
# the multipart envelope around an uploaded file
ENVELOPE_BYTES = 64 * 1024


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    parts: dict[str, Gateway] = {}

    async def wire(runtime: Runtime) -> None:
        await parts["gateway"].wire(runtime)

    async def on_ready(runtime: Runtime) -> None:
        await parts["gateway"].on_ready(runtime)

    async def on_stop(runtime: Runtime) -> None:
        await parts["gateway"].on_stop(runtime)

    spec = ServiceSpec(
        name="gateway",
        title="Milan commerce & markets platform API",
        description=DESCRIPTION,
        routers=[
            accounts_api.router,
            accounts_api.users,
            accounts_api.well_known,
            registrations_api.router,
            imports_api.router,
            api.router,
            contracts.router,
            contracts.documentation,
            web.router,
            web.page_router(settings.map_tiles_url, settings.map_tiles_attribution),
            api.relay,
        ],
        indexes={**AccountStore.indexes, **RegistrationStore.indexes, **NoticeStore.indexes, **ImportStore.indexes},
        wire=wire,
        on_ready=on_ready,
        on_stop=on_stop,
        openapi_docs=False,
        fetch_token_keys=False,
        large_bodies=[
            LargeBody("POST", DOCUMENT_UPLOAD, settings.document_upload_max_bytes),
            LargeBody("POST", IMPORT_UPLOAD, settings.import_max_bytes + ENVELOPE_BYTES),
        ],
    )
    app = create_service_app(spec, settings)
    parts["gateway"] = app.state.gateway = Gateway(settings, app.state.metrics, app.openapi)
    web.mount_static(app)
    install_browser_security(
        app, settings.cors_origins, hsts=settings.profile == "prod", tiles_origin=settings.map_tiles_origin
    )
    # outermost: no route, rule or middleware reads a path the guard has not accepted
    app.add_middleware(PathGuardMiddleware)
    return app


app = create_app()
