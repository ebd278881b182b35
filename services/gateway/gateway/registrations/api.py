"""HTTP routes of self-registration: anonymous requests, the office's list and decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from gateway.api import Office, actor_of, rate_limit
from gateway.contracts.openapi import API_PREFIX
from gateway.registrations.domain import RegistrationState
from gateway.registrations.schemas import (
    REGISTRATION_ID_PATTERN,
    ApprovalOut,
    RegistrationAccepted,
    RegistrationCreate,
    RegistrationPublic,
    RejectionIn,
    RejectionOut,
    ShopProposalIn,
)
from gateway.registrations.service import RegistrationService, Submission
from shared.app import provide
from shared.roles import Role
from shared.web.idempotency import IDEMPOTENT
from shared.web.middleware import client_ip
from shared.web.pagination import Limit, Offset, Page, page_of

router = APIRouter(prefix=API_PREFIX, tags=["registrations"], dependencies=[Depends(rate_limit)])
Registrations = Annotated[RegistrationService, Depends(provide(RegistrationService))]
RegistrationId = Annotated[str, Path(pattern=REGISTRATION_ID_PATTERN, description="The registration's id")]


@router.post(
    "/registrations",
    dependencies=[IDEMPOTENT],
    status_code=202,
    summary="Ask for an account as a shopkeeper or trader (anonymous; the office decides)",
    responses={
        422: {"description": "Invalid input, or an unknown shop id"},
        429: {"description": "Too many registrations from this address"},
    },
)
async def register(body: RegistrationCreate, request: Request, registrations: Registrations) -> RegistrationAccepted:
    shop = body.shop
    submission = Submission(
        role=Role(body.role),
        username=body.username,
        email=body.email,
        full_name=body.full_name,
        message=body.message,
        shop_id=shop if isinstance(shop, str) else None,
        proposal=shop.proposal() if isinstance(shop, ShopProposalIn) else None,
    )
    registration = await registrations.submit(submission, client_ip(request.scope))
    return RegistrationAccepted(id=registration.id)


@router.get(
    "/registrations",
    summary="Registrations, newest first (commerce office)",
)
async def list_registrations(
    _: Office,
    registrations: Registrations,
    state: Annotated[RegistrationState | None, Query(description="pending, approved or rejected")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[RegistrationPublic]:
    return page_of(await registrations.page(state, limit, offset), RegistrationPublic.of, limit, offset)


@router.post(
    "/registrations/{registration_id}/approve",
    summary="Approve: create the account (and the proposed shop) and its one-time activation link (commerce office)",
    responses={
        404: {"description": "No such registration"},
        409: {"description": "Already decided, or username taken"},
    },
)
async def approve(
    registration_id: RegistrationId, request: Request, response: Response, caller: Office, registrations: Registrations
) -> ApprovalOut:
    approval = await registrations.approve(actor_of(caller, request), registration_id)
    response.headers["Cache-Control"] = "no-store"
    approved = approval.registration
    return ApprovalOut(
        id=approved.id,
        username=approved.username,
        role=approved.role,
        scope=approved.scope,
        activation_url=approval.activation_url,
        expires_at=approval.expires_at,
        mail=approval.mail,
    )


@router.post(
    "/registrations/{registration_id}/reject",
    summary="Reject with a reason, mailed to the registrant where mail is configured (commerce office)",
    responses={404: {"description": "No such registration"}, 409: {"description": "Already decided"}},
)
async def reject(
    registration_id: RegistrationId, body: RejectionIn, request: Request, caller: Office, registrations: Registrations
) -> RejectionOut:
    rejection = await registrations.reject(actor_of(caller, request), registration_id, body.reason)
    public = RegistrationPublic.of(rejection.registration)
    return RejectionOut(**public.model_dump(), mail=rejection.mail)
