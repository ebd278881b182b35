"""Who may write where: the declarative table of the public API's write routes.

The gateway uses it to refuse a write early (401 without a token, 403 with the wrong role or
scope) before any service is bothered; the services enforce the same rules again on their side.
Tests enumerate the merged OpenAPI and fail when a write route has no rule here, so a new write
route cannot slip through unnoticed. A write that matches no rule is answered 404 by the gateway,
whoever sends it: the public API has no such write, and it never reaches a service.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.paths import PathTemplate, TemplateIndex
from shared.errors import NotFound, Unauthorized
from shared.i18n import Said
from shared.identity import LOG_IN_FIRST, Principal, Role

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Need(StrEnum):
    PUBLIC = "public"  # anyone (logging in)
    AUTHENTICATED = "authenticated"  # any valid token
    OFFICE = "office"  # the commerce office only
    MARKET = "market"  # the office or an operator of the market named in the path
    SHOP = "shop"  # the office or the shopkeeper of the shop named in the path
    TRADER = "trader"  # the office or a trader
    MARKET_OR_TRADER = "market_or_trader"  # the office, an operator of the market in the path, or a trader


@dataclass(frozen=True)
class WriteRule:
    """``action``: a POST that acts on an existing resource (renew, award, acknowledge…) rather than
    creating one; the resource is the path without its last segment (:attr:`acts_on`), which the
    audit log reads just before the write to record how it stood.

    ``names_trader``: the field of the JSON body that names a trader's account. The accounts are
    the gateway's, so it checks before relaying that the field names one (422 on that field); a
    trader naming someone else is left to the service, which refuses it."""

    method: str
    path: str
    need: Need
    scope_param: str | None = None
    action: bool = False
    names_trader: str | None = None

    @property
    def acts_on(self) -> str | None:
        return self.path.rsplit("/", 1)[0] if self.action else None


WRITE_RULES: tuple[WriteRule, ...] = (
    WriteRule("POST", "/api/v1/auth/token", Need.PUBLIC),
    WriteRule("POST", "/api/v1/auth/refresh", Need.PUBLIC),  # the refresh token is the credential
    WriteRule("POST", "/api/v1/auth/logout", Need.PUBLIC),
    WriteRule("POST", "/api/v1/auth/activate", Need.PUBLIC),  # the one-time token is the credential
    WriteRule("PUT", "/api/v1/me/password", Need.AUTHENTICATED),
    WriteRule("POST", "/api/v1/registrations", Need.PUBLIC),  # anyone may ask; the office decides
    WriteRule("POST", "/api/v1/registrations/{registration_id}/approve", Need.OFFICE),
    WriteRule("POST", "/api/v1/registrations/{registration_id}/reject", Need.OFFICE),
    WriteRule("POST", "/api/v1/imports", Need.OFFICE),
    WriteRule("POST", "/api/v1/users", Need.OFFICE),
    WriteRule("PATCH", "/api/v1/users/{username}", Need.OFFICE),
    WriteRule("POST", "/api/v1/users/{username}/disable", Need.OFFICE),
    WriteRule("POST", "/api/v1/users/{username}/enable", Need.OFFICE),
    WriteRule("POST", "/api/v1/users/{username}/unlock", Need.OFFICE),
    WriteRule("POST", "/api/v1/users/{username}/password-reset", Need.OFFICE),
    WriteRule("POST", "/api/v1/markets", Need.OFFICE),
    WriteRule("PATCH", "/api/v1/markets/{market_id}", Need.OFFICE),
    WriteRule("POST", "/api/v1/markets/{market_id}/stalls", Need.OFFICE),
    WriteRule("PUT", "/api/v1/markets/{market_id}/stalls/{number}/status", Need.MARKET, "market_id"),
    WriteRule("POST", "/api/v1/markets/{market_id}/stalls/{number}/assignment", Need.OFFICE, action=True),
    WriteRule("DELETE", "/api/v1/markets/{market_id}/stalls/{number}/assignment", Need.OFFICE),
    WriteRule("POST", "/api/v1/markets/{market_id}/calls", Need.OFFICE),
    # a trader for themself, or the office on a trader's behalf
    WriteRule("POST", "/api/v1/calls/{call_id}/applications", Need.TRADER),
    WriteRule("POST", "/api/v1/calls/{call_id}/evaluations", Need.OFFICE),
    WriteRule("POST", "/api/v1/calls/{call_id}/award", Need.OFFICE, action=True),
    # the market's operator or the office for a trader's account, or a trader for themself (the
    # markets service checks that a trader names themself)
    WriteRule(
        "POST",
        "/api/v1/markets/{market_id}/spunta/{date}/candidates",
        Need.MARKET_OR_TRADER,
        "market_id",
        names_trader="trader",
    ),
    WriteRule("POST", "/api/v1/markets/{market_id}/spunta/{date}/assign", Need.MARKET, "market_id", action=True),
    WriteRule("POST", "/api/v1/markets/{market_id}/spaces", Need.OFFICE),
    # the office, the market's operator or a trader books; who booked it (or they) cancel: the service decides
    WriteRule("POST", "/api/v1/markets/{market_id}/spaces/{code}/bookings", Need.AUTHENTICATED),
    WriteRule("DELETE", "/api/v1/markets/{market_id}/spaces/{code}/bookings/{booking_id}", Need.AUTHENTICATED),
    WriteRule("POST", "/api/v1/concessions/{concession_id}/renew", Need.OFFICE, action=True),
    WriteRule("POST", "/api/v1/concessions/{concession_id}/transfer", Need.OFFICE, action=True),
    WriteRule("POST", "/api/v1/concessions/{concession_id}/revoke", Need.OFFICE, action=True),
    WriteRule("POST", "/api/v1/shops", Need.OFFICE),
    WriteRule("PUT", "/api/v1/shops/{shop_id}", Need.OFFICE),
    WriteRule("PATCH", "/api/v1/shops/{shop_id}", Need.OFFICE),
    WriteRule("PUT", "/api/v1/shops/{shop_id}/status", Need.SHOP, "shop_id"),
    WriteRule("POST", "/api/v1/shops/{shop_id}/recognition", Need.SHOP, "shop_id"),
    WriteRule("POST", "/api/v1/shops/{shop_id}/recognition/decision", Need.OFFICE, action=True),
    WriteRule("POST", "/api/v1/shops/{shop_id}/services", Need.SHOP, "shop_id"),
    WriteRule("PUT", "/api/v1/shops/{shop_id}/services/{service_id}", Need.SHOP, "shop_id"),
    WriteRule("DELETE", "/api/v1/shops/{shop_id}/services/{service_id}", Need.SHOP, "shop_id"),
    WriteRule("POST", "/api/v1/shops/{shop_id}/closures", Need.SHOP, "shop_id"),
    WriteRule("DELETE", "/api/v1/shops/{shop_id}/closures/{closure_id}", Need.SHOP, "shop_id"),
    WriteRule("POST", "/api/v1/shops/{shop_id}/documents", Need.SHOP, "shop_id"),
    WriteRule("POST", "/api/v1/districts", Need.OFFICE),
    WriteRule("PUT", "/api/v1/districts/{code}", Need.OFFICE),
    WriteRule("PUT", "/api/v1/districts/{code}/thresholds", Need.OFFICE),
    WriteRule("POST", "/api/v1/districts/{code}/alerts/{alert_id}/acknowledge", Need.OFFICE, action=True),
    WriteRule("POST", "/api/v1/districts/rebuild", Need.OFFICE),
    WriteRule("POST", "/api/v1/nils", Need.OFFICE),
    WriteRule("PUT", "/api/v1/nils/{nil_id}/baseline", Need.OFFICE),
    WriteRule("POST", "/api/v1/interventions", Need.OFFICE),
)


class AccessPolicy:
    def __init__(self, rules: tuple[WriteRule, ...] = WRITE_RULES) -> None:
        self.rules = rules
        self._by_method: dict[str, TemplateIndex] = {}
        self._rule: dict[tuple[str, str], WriteRule] = {}
        for method in {r.method for r in rules}:
            self._by_method[method] = TemplateIndex(r.path for r in rules if r.method == method)
        for rule in rules:
            self._rule[(rule.method, PathTemplate(rule.path).shape)] = rule

    def rule_for(self, method: str, path: str) -> tuple[WriteRule, dict[str, str]] | None:
        index = self._by_method.get(method)
        found = index.find(path) if index else None
        if found is None:
            return None
        template, params = found
        return self._rule[(method, template.shape)], params

    def acted_on(self, method: str, path: str) -> str | None:
        """The public path of the resource a write changes, as it can be read before: the path itself
        for PUT, PATCH and DELETE, the rule's ``acts_on`` for a POST (None when it creates)."""
        if method in ("PUT", "PATCH", "DELETE"):
            return path
        found = self.rule_for(method, path)
        if found is None or found[0].acts_on is None:
            return None
        rule, params = found
        return rule.acts_on.format(**params)

    def trader_field(self, method: str, path: str) -> str | None:
        """The body field of this write that names a trader's account (``WriteRule.names_trader``)."""
        found = self.rule_for(method, path) if method in WRITE_METHODS else None
        return found[0].names_trader if found else None

    def templates(self) -> list[str]:
        return sorted({r.path for r in self.rules})

    def check(self, method: str, path: str, principal: Principal | None) -> None:
        """Raise 401/403 when ``principal`` may certainly not send this write, 404 for a write no rule
        covers; reads always pass."""
        if method not in WRITE_METHODS:
            return
        found = self.rule_for(method, path)
        if found is None:
            raise NotFound(Said(f"l'API non ha {method} in {path}", f"the API has no {method} at {path}"))
        rule, params = found
        if rule.need is Need.PUBLIC:
            return
        if principal is None:
            raise Unauthorized(LOG_IN_FIRST)
        if rule.need is Need.AUTHENTICATED:
            return
        if rule.need is Need.OFFICE:
            principal.require_office()
            return
        if rule.need is Need.TRADER:
            if principal.role is not Role.TRADER:
                principal.require_office()
            return
        if rule.need is Need.MARKET_OR_TRADER and principal.role is Role.TRADER:
            return
        assert rule.scope_param is not None
        role = Role.SHOPKEEPER if rule.need is Need.SHOP else Role.MARKET_OPERATOR
        principal.require_scope(role, params[rule.scope_param])
