"""The OpenAPI 3 document of /api/v1, served at ``/api/v1/openapi.json``.

Written by hand next to the views it describes; ``tests/api/test_openapi.py``
checks that every route of the blueprint is described and that answers
match their schemas (schemathesis).
"""

from __future__ import annotations

from typing import Any

from sync.protocol import MAX_PULL_LIMIT, MAX_RECORDS


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str, codes: list[str]) -> dict[str, Any]:
    return {
        "description": f"{description} (error codes: {', '.join(codes)})",
        "content": {"application/json": {"schema": _ref("Error")}},
    }


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


UNAUTHENTICATED = _error("Missing, unknown, expired or revoked bearer token",
                         ["unauthenticated", "token_expired", "token_revoked"])
NODE_UNAUTHENTICATED = _error("Missing, unknown or revoked node token", ["unauthenticated", "node_revoked"])
NULLABLE_STRING = {"type": ["string", "null"]}
NO_CONTROL = "^[^\\u0000-\\u001f\\u007f]*$"


def _schemas() -> dict[str, Any]:
    household_attrs = {
        "head_name": {"type": "string"}, "head_id": {"type": "string"},
        "phone": NULLABLE_STRING, "group": {"type": "string"}, "hamlet": NULLABLE_STRING,
        "size": {"type": "integer"}, "labor_count": {"type": ["integer", "null"]},
        "category": {"type": "string", "enum": ["general", "lifted"]},
        "monitor_type": {"type": "string", "enum": ["none", "unstable", "marginal", "hardship"]},
        "risk_eliminated": {"type": ["boolean", "null"]},
    }
    return {
        "Error": {
            "type": "object", "required": ["error"], "additionalProperties": False,
            "properties": {"error": {
                "type": "object", "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string", "description": "snake_case, stable"},
                    "message": {"type": "string", "description": "zh-CN, or English by Accept-Language"},
                    "details": {"type": "object"},
                },
            }},
        },
        "TokenRequest": {
            "type": "object", "required": ["username", "password", "device_id"],
            "additionalProperties": False,
            "properties": {
                "username": {"type": "string", "minLength": 1, "maxLength": 50, "pattern": "^\\S(.*\\S)?$"},
                "password": {"type": "string", "minLength": 1, "maxLength": 200},
                "device_id": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^\\S(.*\\S)?$",
                              "description": "a UUID made by the phone once"},
                "device_name": {"type": ["string", "null"], "maxLength": 100},
            },
        },
        "TokenResponse": {
            "type": "object", "required": ["token", "expires_at", "user"],
            "properties": {
                "token": {"type": "string"},
                "expires_at": {"type": "string", "format": "date-time"},
                "user": _ref("User"),
            },
        },
        "User": {"type": "object", "required": ["id", "username", "role", "villages"], "properties": {
            "id": {"type": "integer"}, "username": {"type": "string"},
            "display_name": {"type": "string"},
            "role": {"type": "string", "enum": ["worker", "supervisor", "admin"]},
            "villages": {"type": "array", "items": {"type": "string"}},
        }},
        "SessionTokenRequest": {
            "type": "object", "required": ["device_id"], "additionalProperties": False,
            "properties": {
                "device_id": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^\\S(.*\\S)?$",
                              "description": "a UUID made by the phone once"},
                "device_name": {"type": ["string", "null"], "maxLength": 100},
            },
        },
        "PinyinTable": {
            "type": "object", "required": ["readings", "surnames", "given", "compound"],
            "properties": {
                "readings": {"type": "object", "additionalProperties": {"type": "string"},
                             "description": "reading -> the GB 2312 characters read so in a name"},
                "surnames": {"type": "object", "additionalProperties": {"type": "string"},
                             "description": "a surname character's reading where it differs"},
                "given": {"type": "object", "additionalProperties": {"type": "string"}},
                "compound": {"type": "object", "additionalProperties": {
                    "type": "array", "items": {"type": "string"}}},
            },
        },
        "FormResponse": {
            "type": "object", "required": ["campaign", "form"],
            "properties": {
                "campaign": {"type": "object", "required": ["id", "name", "form_version"], "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"},
                    "start_date": {"type": "string", "format": "date"},
                    "end_date": {"type": "string", "format": "date"},
                    "form_version": {"type": "string"}, "monitoring_line": {"type": "number"},
                    "closed": {"type": "boolean"},
                }},
                "form": {"type": "object", "required": ["version", "sections", "fields"],
                         "description": "the form definition (docs/visit-form.md), evaluated by the phone as is"},
                "photos": {"type": "object", "properties": {"per_visit": {"type": "integer"},
                                                            "max_bytes": {"type": "integer"}},
                           "description": "the photo limits (PHOTOS_PER_VISIT, PHOTO_MAX_BYTES)"},
            },
        },
        "Household": {
            "type": "object",
            "required": ["id", "village", "head_name", "head_id", "rev", "attributes", "visited"],
            "properties": {
                "id": {"type": "string"}, "code": NULLABLE_STRING, "village": {"type": "string"},
                "village_id": {"type": "integer"},
                "head_pinyin": {"type": "string"}, "head_initials": {"type": "string"},
                "source": {"type": "string", "enum": ["roster", "field"]},
                "rev": {"type": "integer"},
                **household_attrs,
                "attributes": {"type": "object", "description": "every household field of the form"},
                "visited": {"type": "boolean", "description":
                            "has a visit in the active campaign that is not returned or superseded"},
                "masked": {"type": "boolean", "description":
                           "ID numbers and phones are masked (a supervisor's pull)"},
            },
        },
        "PullResponse": {
            "type": "object", "required": ["cursor", "more", "households", "removed", "visits"],
            "properties": {
                "cursor": {"type": "string", "description": "opaque; send it as `since` next time"},
                "more": {"type": "boolean", "description": "pull again with the new cursor until false"},
                "households": {"type": "array", "items": _ref("Household")},
                "removed": {"type": "array", "items": {"type": "string"},
                            "description": "ids of households merged into another one or moved out of the caller's scope"},
                "visits": {"type": "array", "items": {
                    "type": "object", "required": ["uuid", "status", "household_id", "return_kind", "data"],
                    "properties": {
                        "uuid": {"type": "string"},
                        "status": {"type": "string", "enum": ["pending", "approved", "returned", "superseded"]},
                        "review_comment": NULLABLE_STRING,
                        "household_id": {"type": "string"},
                        "return_kind": {"type": ["string", "null"], "enum": ["correct", "resign", None],
                                        "description": "a returned visit's kind: `correct` (correct the "
                                                       "answers) or `resign` (仅需重签: keep every answer, "
                                                       "sign again); null unless returned"},
                        "data": {"type": ["object", "null"], "description":
                                 "a returned visit's stored answers (as pushed, by field id); null unless returned"},
                    },
                }},
            },
        },
        "PushRecord": {
            "type": "object", "required": ["uuid", "campaign_id", "form_version", "data"],
            "additionalProperties": False,
            "properties": {
                "uuid": {"type": "string", "format": "uuid"},
                "campaign_id": {"type": "string", "minLength": 1, "maxLength": 40, "pattern": NO_CONTROL},
                "form_version": {"type": "string", "minLength": 1, "maxLength": 20, "pattern": NO_CONTROL},
                "household_id": {"type": ["string", "null"], "maxLength": 36, "pattern": NO_CONTROL,
                                 "description": "null for a household not on the roster"},
                "base_rev": {"type": ["integer", "null"], "minimum": 0, "maximum": 2**31 - 1},
                "supersedes": {"type": ["string", "null"], "format": "uuid"},
                "started_at": {"type": ["string", "null"], "format": "date-time"},
                "visited_at": {"type": ["string", "null"], "format": "date-time"},
                "data": {"type": "object", "description": "answers keyed by field id (docs/visit-form.md)"},
                "location": {"type": ["object", "null"], "additionalProperties": False, "properties": {
                    "lat": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
                    "lon": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
                    "accuracy_m": {"type": ["number", "null"], "minimum": 0, "maximum": 1e7},
                    "altitude_m": {"type": ["number", "null"], "minimum": -1e5, "maximum": 1e5},
                    "at": {"type": ["string", "null"], "format": "date-time"},
                }},
                "village": {"type": ["string", "null"], "maxLength": 50, "pattern": NO_CONTROL,
                            "description": "new households only: the village name (default: the user's first village)"},
                "photos": {"type": ["integer", "null"], "minimum": 0, "maximum": 20,
                           "description": "how many photos the phone uploads for this visit afterwards "
                                          "(POST /visits/{uuid}/photos); the visit is complete once they are"},
            },
        },
        "PhotoCreate": {
            "type": "object", "required": ["length", "sha256", "content_type"], "additionalProperties": False,
            "properties": {
                "length": {"type": "integer", "minimum": 1, "description": "bytes (at most PHOTO_MAX_BYTES)"},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "of the whole photo"},
                "content_type": {"type": "string", "enum": ["image/jpeg", "image/png", "image/webp"]},
            },
        },
        "PhotoUpload": {
            "type": "object",
            "required": ["id", "visit_uuid", "content_type", "length", "sha256", "offset", "complete", "upload_url"],
            "properties": {
                "id": {"type": "string"}, "visit_uuid": {"type": "string"},
                "content_type": {"type": "string"}, "length": {"type": "integer"},
                "sha256": {"type": "string"},
                "offset": {"type": "integer", "description": "bytes stored: send the next chunk from here"},
                "complete": {"type": "boolean", "description": "every byte stored and the SHA-256 checked"},
                "upload_url": {"type": "string", "description": "where to send chunks and ask the offset"},
            },
        },
        "PushRequest": {
            "type": "object", "required": ["batch_id", "device_id", "records"],
            "additionalProperties": False,
            "properties": {
                "batch_id": {"type": "string", "pattern": "^[0-9A-Za-z][0-9A-Za-z_.:\\-]{0,63}$"},
                "device_id": {"type": "string", "pattern": "^[0-9A-Za-z][0-9A-Za-z_.:\\-]{0,63}$"},
                "app_version": {"type": ["string", "null"], "maxLength": 40, "pattern": NO_CONTROL},
                "records": {"type": "array", "items": _ref("PushRecord"),
                            "description": f"at most {MAX_RECORDS} (413 too_large beyond)"},
            },
        },
        "PushResult": {
            "type": "object", "required": ["uuid", "status"],
            "properties": {
                "uuid": {"type": "string"},
                "status": {"type": "string", "enum": ["accepted", "conflict", "duplicate_suspected",
                                                      "already_received", "rejected"]},
                "household_id": {"type": "string"},
                "household_rev": {"type": "integer"},
                "conflicts": {"type": "array", "items": {"type": "string"},
                              "description": "status conflict: the fields kept at the server's value"},
                "duplicate_of": {"type": "array", "items": {"type": "string"},
                                 "description": "status duplicate_suspected: the possible duplicates"},
                "original_status": {"type": "string",
                                    "enum": ["accepted", "conflict", "duplicate_suspected"]},
                "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                           "description": "status rejected: messages (data) or codes (out_of_scope, "
                                          "unknown_campaign, campaign_closed, unknown_form_version, not_found, "
                                          "other_household, required) by field"},
            },
        },
        "PushResponse": {
            "type": "object", "required": ["batch_id", "received_at", "results"],
            "properties": {
                "batch_id": {"type": "string"},
                "received_at": {"type": "string", "format": "date-time"},
                "results": {"type": "array", "items": _ref("PushResult"),
                            "description": "one per record, in request order"},
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The whole document (a fresh dict each call)."""
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    session: list[dict[str, list[str]]] = [{"session": []}]
    node: list[dict[str, list[str]]] = [{"node": []}]
    not_json = _error("The body is not JSON", ["unsupported_media_type"])
    malformed = _error("The body is not valid JSON", ["malformed_json"])
    # How a login body (password or web session) is refused.
    login_body = {"400": malformed, "413": _error("Body too large", ["too_large"]), "415": not_json,
                  "422": _error("Wrong fields", ["invalid_request"])}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "排查通 fieldapp sync API", "version": "1",
            "description": "Sync protocol v1 (docs/sync-protocol.md): token login, form, pull by cursor, "
                           "idempotent batch push with three-way merge. Every response is JSON; errors "
                           "have the shape {\"error\": {\"code\", \"message\", \"details\"}}.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                                            "description": "the web pages' login (Flask session cookie)"},
                                "node": {"type": "http", "scheme": "bearer",
                                         "description": "a town server's node token (fieldapp node create)"}},
            "schemas": _schemas(),
        },
        "paths": {
            "/auth/token": {"post": {
                "operationId": "issueToken", "summary": "Log a device in", "security": [],
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("TokenRequest")}}},
                "responses": {
                    "200": _json(_ref("TokenResponse")),
                    "401": _error("Wrong user name or password", ["invalid_credentials"]),
                    **login_body,
                    "429": _error("Too many failed logins", ["too_many_attempts"]),
                },
            }},
            "/auth/revoke": {"post": {
                "operationId": "revokeToken", "summary": "Log the calling device out", "security": bearer,
                "responses": {
                    "200": _json({"type": "object", "required": ["revoked"],
                                  "properties": {"revoked": {"type": "boolean"}}}),
                    "401": UNAUTHENTICATED,
                },
            }},
            "/auth/session": {"get": {
                "operationId": "webSession", "summary": "The user logged in on the web pages, and a CSRF token",
                "security": session,
                "responses": {
                    "200": _json({"type": "object", "required": ["user", "csrf_token"], "properties": {
                        "user": _ref("User"), "csrf_token": {"type": "string"}}}),
                    "401": _error("No web login (session cookie)", ["unauthenticated"]),
                },
            }},
            "/auth/session-token": {"post": {
                "operationId": "sessionToken",
                "summary": "A device token for the grid worker logged in on the web pages (one login)",
                "security": session,
                "parameters": [{"name": "X-CSRFToken", "in": "header", "required": True,
                                "schema": {"type": "string"},
                                "description": "the csrf_token of GET /auth/session"}],
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("SessionTokenRequest")}}},
                "responses": {
                    "200": _json(_ref("TokenResponse")),
                    "401": _error("No web login (session cookie)", ["unauthenticated"]),
                    "403": _error("Not a grid worker", ["not_a_worker"]),
                    **login_body,
                    "400": _error("Malformed JSON, or a missing or wrong CSRF token",
                                  ["malformed_json", "csrf_failed"]),
                },
            }},
            "/pinyin": {"get": {
                "operationId": "getPinyin", "summary": "Name readings for computing pinyin offline",
                "security": bearer,
                "responses": {
                    "200": _json(_ref("PinyinTable")),
                    "401": UNAUTHENTICATED,
                },
            }},
            "/form": {"get": {
                "operationId": "getForm", "summary": "The active campaign and its form", "security": bearer,
                "responses": {
                    "200": _json(_ref("FormResponse")),
                    "401": UNAUTHENTICATED,
                    "404": _error("No active campaign", ["no_active_campaign"]),
                },
            }},
            "/sync/pull": {"get": {
                "operationId": "pull", "summary": "Changes after a cursor", "security": bearer,
                "parameters": [
                    {"name": "since", "in": "query", "required": False,
                     "schema": {"type": "string",
                                "pattern": "^([0-9]{1,18}([.][01][.][0-9A-Za-z_-]{1,64})?)?$"},
                     "description": "the cursor of the previous pull; empty for everything. "
                                    "A cursor ahead of the server is 400 bad_cursor"},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PULL_LIMIT, "default": 500}},
                ],
                "responses": {
                    "200": _json(_ref("PullResponse")),
                    "400": _error("Unknown or malformed cursor", ["bad_cursor"]),
                    "401": UNAUTHENTICATED,
                    "422": _error("limit out of range", ["invalid_request"]),
                },
            }},
            "/sync/push": {"post": {
                "operationId": "push", "summary": "Upload a batch of visits (idempotent)",
                "security": bearer,
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("PushRequest")}}},
                "responses": {
                    "200": _json(_ref("PushResponse"),
                                 "Every non-rejected record is durable; one result per record, in order"),
                    "400": malformed,
                    "401": UNAUTHENTICATED,
                    "409": _error("batch_id used by another user, or for other records (send them under a "
                                  "new batch_id)", ["batch_id_conflict", "batch_conflict"]),
                    "413": _error(f"More than {MAX_RECORDS} records or 5 MiB", ["too_large"]),
                    "415": not_json,
                    "422": _error("The envelope breaks the schema (wrong type, unknown key)",
                                  ["invalid_request"]),
                    "503": _error("The database stayed busy; retry later", ["busy"]),
                },
            }},
            "/visits/{visit_uuid}/photos": {"post": {
                "operationId": "createPhotoUpload",
                "summary": "Start (or find again, same SHA-256) the upload of a photo of the caller's visit",
                "security": bearer,
                "parameters": [{"name": "visit_uuid", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("PhotoCreate")}}},
                "responses": {
                    "200": _json(_ref("PhotoUpload"), "The same photo was created before: resume from `offset`"),
                    "201": _json(_ref("PhotoUpload"), "Created; `Location` is its upload URL"),
                    "400": malformed,
                    "401": UNAUTHENTICATED,
                    "403": _error("Not a grid worker", ["forbidden"]),
                    "404": _error("Not a visit of the caller", ["not_found"]),
                    "409": _error("The visit has its PHOTOS_PER_VISIT photos", ["too_many_photos"]),
                    "413": _error("Larger than PHOTO_MAX_BYTES", ["too_large"]),
                    "415": _error("Not JSON, or not a JPEG, PNG or WebP",
                                  ["unsupported_media_type", "unsupported_photo_type"]),
                    "422": _error("Wrong fields", ["invalid_request"]),
                },
            }},
            "/photos/{photo_id}": {
                "get": {
                    "operationId": "photoUploadState",
                    "summary": "Where the upload stands (HEAD: the same headers, Upload-Offset)",
                    "security": bearer,
                    "parameters": [{"name": "photo_id", "in": "path", "required": True,
                                    "schema": {"type": "string"}}],
                    "responses": {
                        "200": _json(_ref("PhotoUpload")),
                        "401": UNAUTHENTICATED,
                        "403": _error("Not a grid worker", ["forbidden"]),
                        "404": _error("Not an upload of the caller", ["not_found"]),
                    },
                },
                **{method: {
                    "operationId": f"photoChunk{method.title()}",
                    "summary": "Bytes at Upload-Offset, acknowledged with the new offset once on disk"
                               + (" (POST: the same as PATCH)" if method == "post" else ""),
                    "security": bearer,
                    "parameters": [
                        {"name": "photo_id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "Upload-Offset", "in": "header", "required": True,
                         "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"}},
                    ],
                    "requestBody": {"required": True, "content": {
                        "application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                    "responses": {
                        "200": _json(_ref("PhotoUpload")),
                        "400": _error("Missing or malformed Upload-Offset", ["bad_request"]),
                        "401": UNAUTHENTICATED,
                        "403": _error("Not a grid worker", ["forbidden"]),
                        "404": _error("Not an upload of the caller", ["not_found"]),
                        "409": _error("Not the server's offset (details.offset)", ["offset_mismatch"]),
                        "413": _error("Larger than PHOTO_CHUNK_MAX_BYTES or past the photo's length",
                                      ["too_large"]),
                        "415": _error("Not application/offset+octet-stream, or the bytes are not an image "
                                      "of the declared type (the upload restarts at 0)",
                                      ["unsupported_media_type", "unsupported_photo_type"]),
                        "422": _error("The SHA-256 does not match (the upload restarts at 0)",
                                      ["checksum_mismatch"]),
                    },
                } for method in ("patch", "post")},
            },
            "/replication/up": {
                "get": {
                    "operationId": "replicationCursor", "summary": "Where central stands in this town's feed",
                    "security": node,
                    "responses": {"200": _json({"type": "object", "required": ["cursor"],
                                                "properties": {"cursor": {"type": "string"}}}),
                                  "401": NODE_UNAUTHENTICATED},
                },
                "post": {
                    "operationId": "replicationUp", "summary": "One page of a town's feed (docs/replication.md)",
                    "security": node,
                    "requestBody": {"required": True,
                                    "content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {
                        "200": _json({"type": "object", "required": ["cursor", "duplicate"],
                                      "properties": {"cursor": {"type": "string"},
                                                     "duplicate": {"type": "boolean"}}}),
                        "400": _error("Malformed body or cursor", ["malformed_json", "bad_cursor"]),
                        "401": NODE_UNAUTHENTICATED,
                        "409": _error("The page does not start at central's cursor", ["cursor_mismatch"]),
                        "413": _error("Body too large", ["too_large"]),
                        "415": not_json,
                        "422": _error("The page breaks the protocol", ["invalid_request"]),
                    },
                },
            },
            "/replication/down": {"get": {
                "operationId": "replicationDown", "summary": "Campaigns and central's decisions for the town",
                "security": node,
                "parameters": [
                    {"name": "since", "in": "query", "required": False,
                     "schema": {"type": "string", "pattern": "^[0-9]{0,18}$"}},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "string", "pattern": "^[0-9]{0,4}$"}},
                ],
                "responses": {
                    "200": _json({"type": "object", "required": ["cursor", "more", "campaigns", "commands"]}),
                    "400": _error("Malformed cursor", ["bad_cursor"]),
                    "401": NODE_UNAUTHENTICATED,
                },
            }},
            "/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This document", "security": [],
                "responses": {"200": _json({"type": "object"})},
            }},
        },
    }
