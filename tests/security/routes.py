"""The authorization rules: one entry per endpoint of ``app.url_map``.

A route without an entry here fails ``test_every_route_has_a_rule``: whoever
adds a route must say who may use it and whether its object is scoped.

- ``roles``: who may use it; "anonymous" means public.
- ``args(world, side)``: URL arguments for an object in the caller's scope
  (side "in", village 沼山村) or outside it (side "out", 磨山村).
- ``scoped``: a worker/supervisor asking for an "out" object gets 404 (an
  admin sees everything).
- ``api``: bearer-token JSON endpoint (401 anonymous, JSON errors).
- ``body``: the JSON body an API POST sends.
- ``unmasked``: the page may show full ID numbers and phones (every other
  web page and default export must mask them; the API gives a worker the
  full values of their own scope, which the phone needs).
- ``outside_db``: the object is a file of the instance folder (a background roster
  import's progress), absent from the copied world: an allowed role may get 404.
- ``node``: a replication endpoint for town servers: a node token opens it, a
  user's token never does (401 for every role).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.factories import PASSWORD
from tests.security.world import World

ANON, WORKER, SUPERVISOR, ADMIN = "anonymous", "worker", "supervisor", "admin"
EVERYONE = frozenset({ANON, WORKER, SUPERVISOR, ADMIN})
SIGNED_IN = frozenset({WORKER, SUPERVISOR, ADMIN})
REVIEWERS = frozenset({SUPERVISOR, ADMIN})
ADMINS = frozenset({ADMIN})

FOLLOW_UP_FLAG = "needs_attention"
Args = Callable[[World, str], dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    args: Args | None = None
    scoped: bool = False
    api: bool = False
    body: Callable[[World, str], Any] | None = None
    query: dict[str, str] = field(default_factory=dict)
    # a detail page that deliberately shows an in-scope household's full ID number and phone
    unmasked: bool = False
    node: bool = False
    # the object is a file outside the database (not in the copied world): an allowed role may get 404
    outside_db: bool = False


def _a(name: str, attr: str) -> Args:
    return lambda world, side: {name: getattr(world, attr)[side]}


def _push_body(world: World, side: str) -> dict[str, Any]:
    return {"batch_id": f"authz-{side}", "device_id": "authz-device", "app_version": "t", "records": []}


RULES: dict[str, Rule] = {
    # public
    "static": Rule(EVERYONE, args=lambda w, s: {"filename": "css/app.css"}),
    "main.healthz": Rule(EVERYONE),
    "main.favicon": Rule(EVERYONE),
    "auth.login": Rule(EVERYONE),
    "auth.logout": Rule(SIGNED_IN),  # anonymous: redirected to the login page
    # the PWA shell is public: it must load offline, before login; its data comes through the API
    "worker.index": Rule(EVERYONE),
    "worker.screen": Rule(EVERYONE, args=lambda w, s: {"screen": "visit"}),
    "worker.service_worker": Rule(EVERYONE),
    "worker.manifest": Rule(EVERYONE),
    # any signed-in user
    "main.home": Rule(SIGNED_IN),
    "main.form_preview": Rule(SIGNED_IN),
    # review (supervisors of the village, admins)
    "review.index": Rule(REVIEWERS),
    "review.batches": Rule(REVIEWERS),
    "review.batch": Rule(REVIEWERS, args=_a("batch_id", "batch"), scoped=True),
    "review.visit": Rule(REVIEWERS, args=_a("uuid", "visit"), scoped=True),
    # the household's drawn signature (the world's visits are signed)
    "review.visit_image": Rule(REVIEWERS, args=lambda w, s: {"uuid": w.visit[s], "field_id": "signature"},
                               scoped=True),
    # 入户照片: in scope only; the world's photo rows have no bytes in the copied instance folder
    "review.visit_photo": Rule(REVIEWERS, args=lambda w, s: {"uuid": w.visit[s], "photo_id": w.photo[s]},
                               scoped=True, outside_db=True),
    "review.conflicts": Rule(REVIEWERS),
    "review.conflict": Rule(REVIEWERS, args=_a("conflict_id", "conflict"), scoped=True),
    "review.duplicates": Rule(REVIEWERS),
    "review.duplicate": Rule(REVIEWERS, args=_a("candidate_id", "candidate"), scoped=True),
    "review.dismiss": Rule(REVIEWERS, args=_a("candidate_id", "candidate"), scoped=True),
    "review.household": Rule(REVIEWERS, args=_a("household_id", "household"), scoped=True),
    # decision conflicts between central and the town: listed and settled by the village's reviewers
    "review.decisions": Rule(REVIEWERS),
    "review.decision_resolve": Rule(REVIEWERS, args=_a("decision_id", "decision"), scoped=True),
    # 显示完整: full ID number and phone, admins only, audited (a POST)
    "review.household_full": Rule(ADMINS, args=_a("household_id", "household"), unmasked=True),
    "review.undo_merge": Rule(ADMINS, args=_a("merge_id", "merge")),
    "review.audit_log": Rule(ADMINS),
    # reports: village scope is applied inside the aggregates (not per object), see tests/reports
    "reports.index": Rule(REVIEWERS),
    "reports.progress_json": Rule(REVIEWERS),
    "reports.export_progress": Rule(REVIEWERS, args=lambda w, s: {"file_format": "csv"}),
    "reports.follow_up": Rule(REVIEWERS, args=lambda w, s: {"flag": FOLLOW_UP_FLAG}),
    # POST asks for the unmasked file: admins only (a supervisor's POST without full=1 is the masked file)
    "reports.export_follow_up": Rule(REVIEWERS, args=lambda w, s: {"flag": FOLLOW_UP_FLAG,
                                                                   "file_format": "csv"}),
    # admin
    "admin.index": Rule(ADMINS),
    "admin.users": Rule(ADMINS),
    "admin.user_new": Rule(ADMINS),
    "admin.user_edit": Rule(ADMINS, args=_a("user_id", "users")),
    "admin.user_villages": Rule(ADMINS, args=_a("user_id", "users")),
    "admin.user_password": Rule(ADMINS, args=_a("user_id", "users")),
    "admin.token_revoke": Rule(ADMINS, args=lambda w, s: {"user_id": w.users[s],
                                                          "token_id": w.worker_token[s]}),
    "admin.campaigns": Rule(ADMINS),
    # the central tier: a town's replication with central, central's nodes
    "admin.upstream": Rule(ADMINS),
    "admin.nodes": Rule(ADMINS),
    "admin.campaign_new": Rule(ADMINS),
    "admin.campaign_activate": Rule(ADMINS, args=lambda w, s: {"campaign_id": w.campaign}),
    "admin.campaign_close": Rule(ADMINS, args=lambda w, s: {"campaign_id": w.campaign}),
    "admin.roster": Rule(ADMINS),
    "admin.villages": Rule(ADMINS),
    "admin.village_edit": Rule(ADMINS, args=_a("village_id", "village")),
    "admin.roster_job": Rule(ADMINS, args=lambda w, s: {"job_id": "0" * 32}, outside_db=True),
    "admin.template": Rule(ADMINS, args=lambda w, s: {"file_format": "xlsx"}),
    # API (bearer tokens; scope is applied to the records, see tests/api)
    "api.openapi": Rule(EVERYONE, api=True),
    "api.issue_token": Rule(EVERYONE, api=True, body=lambda w, s: {
        "username": "worker_a", "password": PASSWORD, "device_id": "authz-login"}),
    "api.revoke_token": Rule(SIGNED_IN, api=True, body=lambda w, s: {}),
    "api.form": Rule(SIGNED_IN, api=True),
    "api.pull": Rule(SIGNED_IN, api=True),
    "api.push": Rule(SIGNED_IN, api=True, body=_push_body),
    "api.pinyin": Rule(SIGNED_IN, api=True),
    # photo uploads: the visit's own worker only (a supervisor or admin: 403; another's visit: 404)
    "api.photo_create": Rule(frozenset({WORKER}), api=True, scoped=True, args=_a("visit_uuid", "visit"),
                             body=lambda w, s: {"length": 10, "sha256": "a" * 64, "content_type": "image/jpeg"}),
    "api.photo_status": Rule(frozenset({WORKER}), api=True, scoped=True, args=_a("photo_id", "photo")),
    "api.photo_chunk": Rule(frozenset({WORKER}), api=True, scoped=True, args=_a("photo_id", "photo")),
    # the web session hands the app a token: the session cookie, not a bearer token, opens these
    "api.web_session": Rule(SIGNED_IN, api=True),
    "api.session_token": Rule(frozenset({WORKER}), api=True, body=lambda w, s: {"device_id": "authz-session"}),
    # replication: town servers' node tokens only (tests/replication)
    "api.up_cursor": Rule(frozenset(), api=True, node=True),
    "api.up": Rule(frozenset(), api=True, node=True, body=lambda w, s: {"from": "", "to": ""}),
    "api.down": Rule(frozenset(), api=True, node=True),
}
