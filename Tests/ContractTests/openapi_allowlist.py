"""Where the official OpenAPI description is wrong and the SDKs prove it (reference §9).

Three kinds of entries, each with the reason it is right to deviate:
- SPEC_PATCHES: a JSON pointer into the description and the schema that replaces the node there.
  Patches keep the rest of the description in force (e.g. thread items are still validated against
  `#/components/schemas/thread`); prefer them to waivers.
- UNDOCUMENTED: operations the description lacks but an official SDK calls.
- WAIVERS: one (operation, status, field glob, rule) the description gets wrong.
Plus `normalize()`: OpenAPI 3.0 `nullable` read as its authors meant it.

Known disagreements that need no entry: the `{success: true, data}` envelopes shown for the
redirect-URI routes and application PATCH (`success` is not required there and `request_id`, which
the SDKs need, is allowed), and drafts shown with `object: "message"` (an example, not a schema).

Never add an entry to hide a real mismatch: only where an official SDK (nylas==6.18.0 and its
models, or Node/Ruby) disagrees with the description, and the simulator follows the SDK.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Patch:
    """`op`: "replace" (the node must exist), "add" (it must not), "remove" (drop the key), or
    "rename" (move the key to `value`, e.g. oneOf → anyOf)."""

    pointer: str
    value: object
    why: str
    op: str = "replace"


@dataclass(frozen=True)
class Undocumented:
    method: str
    path: str  # a template such as /v3/webhooks/{id}/rotate-secret
    why: str


@dataclass(frozen=True)
class Waiver:
    method: str
    template: str
    status: int | None
    field: str  # glob over the reported field path, e.g. "data[*].when"
    rule: str  # glob over the reported rule, e.g. "required=*"
    why: str


_LIST_DATA = {"type": "array", "description": "The page of objects."}

SPEC_PATCHES: list[Patch] = [
    # Every cursor list is `allOf: [common_response_with_cursor, {data: {type: array}}]`, but the common
    # part declares `data: {type: object}`, so no response can satisfy both. [PY] ListResponse.from_dict
    # and [NODE] list iterators read `data` as an array (reference §2.1, §8).
    Patch("/components/schemas/common_response_with_cursor/properties/data", _LIST_DATA,
          "data of a cursor list is an array (SDK ListResponse), the allOf's own branch says so"),
    # Threads list: the description wraps the page as `data: {threads: [...]}`; [PY] threads.list
    # parses ListResponse[Thread] from `data: [...]` (reference §9).
    Patch("/components/responses/threads/content/application~1json/schema/allOf/1/properties/data",
          {"type": "array", "items": {"$ref": "#/components/schemas/thread"}},
          "thread list is a plain array in data (nylas 6.18 Threads.list → ListResponse[Thread])"),
    # Schedules list: the description shows a bare array; [PY] messages.list_scheduled_messages parses
    # `Response[List[ScheduledMessage]]`, i.e. the standard envelope `{request_id, data: [...]}` (§9).
    Patch("/components/responses/200_schedules/content/application~1json/schema",
          {"type": "object", "required": ["request_id", "data"],
           "properties": {"request_id": {"type": "string"},
                          "data": {"type": "array", "items": {"$ref": "#/components/schemas/Schedules"}}}},
          "schedules come in the standard envelope (nylas 6.18 Response.from_dict needs request_id)"),
    # One schedule: the description shows the bare Schedules object; [PY] find_scheduled_message parses
    # Response[ScheduledMessage] from `{request_id, data: {...}}`.
    Patch("/components/responses/200_schedule_id/content/application~1json/schema",
          {"type": "object", "required": ["request_id", "data"],
           "properties": {"request_id": {"type": "string"}, "data": {"$ref": "#/components/schemas/Schedules"}}},
          "one schedule comes in the standard envelope (nylas 6.18 Response[ScheduledMessage])"),
    # OAuth errors: the description types error_code as a string though its own examples show 400;
    # [PY] NylasOAuthErrorResponse.error_code is `int` (and is required), as is [NODE]'s (§2.3).
    *[Patch(f"/paths/~1v3~1connect~1{p}/{m}/responses/400/content/application~1json/schema/properties/error_code",
            {"type": "integer", "example": 400, "description": "Error code used for referencing the docs."},
            "OAuth error_code is an integer (nylas 6.18 NylasOAuthErrorResponse.error_code: int)")
      for p, m in (("token", "post"), ("revoke", "post"), ("tokeninfo", "get"))],
    # Credentials: CredentialObject forbids additional properties yet omits two fields [PY] Credential
    # models (credential_type, hashed_data), which the API returns (reference §4.3).
    Patch("/components/schemas/CredentialObject/properties/credential_type",
          {"type": "string", "enum": ["adminconsent", "serviceaccount", "connector"]},
          "nylas 6.18 Credential.credential_type: Literal['adminconsent', 'serviceaccount', 'connector']", op="add"),
    Patch("/components/schemas/CredentialObject/properties/hashed_data", {"type": "string"},
          "nylas 6.18 Credential.hashed_data: Optional[str]", op="add"),
    # Event conferencing: `oneOf` over provider shapes (Google Meet, Zoom, Teams, WebEx, GoToMeeting)
    # whose `provider` is not constrained, so any details object matches several branches and oneOf
    # fails. [PY] _decode_conferencing tells them apart only by the keys `details`/`autocreate`: the
    # branches are alternatives (anyOf), not exclusive.
    Patch("/components/schemas/event_conferencing_response/oneOf", "anyOf",
          "conferencing branches overlap; nylas 6.18 _decode_conferencing does not discriminate by branch", op="rename"),
    # Event participants: `minItems: 1`, yet [PY] Event.participants is a required List (no default;
    # Response.from_dict without infer_missing), so an event without guests must carry `[]`.
    Patch("/components/schemas/event_participants/minItems", None,
          "nylas 6.18 Event.participants is required: an event without guests has participants: []", op="remove"),
    # Draft recipients: the response requires at least one `to`, but the create-draft request does not
    # (a draft in progress has none yet), so a draft created as documented could not be returned as
    # documented. [PY] Draft.to is a list (Optional), [NODE] Draft.to an array; both take [].
    Patch("/components/schemas/draft/properties/to/minItems", None,
          "a draft may have no recipients yet (create-draft does not require `to`); SDKs model `to` as a list",
          op="remove"),
    # Scheduler. The configuration responses are `oneOf` Standard/Group, but a standard configuration
    # also matches the group branch (no required field tells them apart): anyOf. A confirmed booking's
    # response is `oneOf` booking / "Delete Succeeded" (a response used as a schema, which matches
    # anything): anyOf. nylas 6.18 parses both as Configuration and Booking.
    Patch("/components/responses/configuration/content/application~1json/schema/oneOf", "anyOf",
          "standard and group configuration branches overlap", op="rename"),
    Patch("/components/responses/configurations/content/application~1json/schema/allOf/1/properties/data/items/oneOf", "anyOf",
          "standard and group configuration branches overlap", op="rename"),
    Patch("/components/responses/booking_confirm/content/application~1json/schema/oneOf", "anyOf",
          "booking / delete-succeeded branches overlap; nylas 6.18 bookings.confirm returns Response[Booking]", op="rename"),
    # Group events: `group_event` requires `availability` and `event_booking` (copied from the
    # configuration schema; the examples have neither), its `when` branches overlap, and the one-event
    # and import responses type `data` as an array while their examples (and the list's items) are objects.
    Patch("/components/schemas/group_event/required", ["participants", "when"],
          "a group event has no availability or event_booking (the description's own examples)"),
    Patch("/components/schemas/group_event/properties/when/oneOf", "anyOf", "timespan branches overlap", op="rename"),
    Patch("/components/responses/group_event/content/application~1json/schema/allOf/1/properties/data",
          {"$ref": "#/components/schemas/group_event"}, "one group event is an object (the description's example)"),
    Patch("/components/responses/import-group-event/content/application~1json/schema/allOf/1/properties/data",
          {"$ref": "#/components/schemas/import-group-event-response"}, "the import result is an object (the description's example)"),
    # Notetaker: the object's `state` enum is the notifications' vocabulary (processing, available,
    # disconnected), while nylas 6.18 NotetakerState decodes API objects strictly with
    # media_processing and media_available — the values of the description's own `state` list filter.
    # The same schema serves both (history snapshots use the notifications' words): the union.
    Patch("/components/schemas/notetaker/properties/state/enum", ["scheduled", "connecting", "waiting_for_entry", "failed_entry", "attending", "media_processing", "media_available",
           "media_error", "media_deleted", "disconnected", "worker_finished", "processing", "available"],
          "nylas 6.18 NotetakerState; the description's list filter enum"),
    Patch("/components/schemas/standalone_notetaker/properties/state/enum", ["scheduled", "connecting", "waiting_for_entry", "failed_entry", "attending", "media_processing", "media_available",
           "media_error", "media_deleted", "disconnected", "worker_finished", "processing", "available"],
          "nylas 6.18 NotetakerState; the description's list filter enum"),
    # API keys list: `allOf: [common_response, {data: {type: array, properties: {api_key: …}}}]`;
    # common_response types `data` as an object and the second branch mixes array and object (its
    # example is `data: {api_key: …}`), so no response satisfies it. A list is an array of keys, as
    # every other list of the description.
    Patch("/components/responses/get-api-keys-200/content/application~1json/schema",
          {"type": "object", "required": ["request_id", "data"],
           "properties": {"request_id": {"type": "string"},
                          "data": {"type": "array", "items": {"type": "object", "required": ["id", "application_id", "created_at"]}}}},
          "a list of API keys is an array (the allOf's branches contradict each other)"),
]

def normalize(spec: dict) -> None:
    """Reads the description as its authors meant it where it uses OpenAPI 3.0 syntax in a 3.1
    document: `nullable: true` (2 places, e.g. notetaker `transcription_settings`) is not a JSON
    Schema 2020-12 keyword and would be ignored, so `{type: object, nullable: true}` becomes
    `{type: [object, "null"]}`. (Schemathesis applies `nullable` too, and generates nulls there.)"""
    stack = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("nullable") is True and isinstance(node.get("type"), str):
                node["type"] = [node["type"], "null"]
                del node["nullable"]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


UNDOCUMENTED: list[Undocumented] = [
    # nylas 6.18 Webhooks.rotate_secret calls PUT /v3/webhooks/{id}/rotate-secret; the description (and
    # Node, Ruby, CLI) use POST /v3/webhooks/rotate-secret/{id}. The simulator serves both (§9).
    Undocumented("PUT", "/v3/webhooks/{id}/rotate-secret", "Python SDK 6.18 rotate-secret route"),
    # nylas 6.18 Webhooks.ip_addresses calls GET /v3/webhooks/ip-addresses, absent from the description.
    Undocumented("GET", "/v3/webhooks/ip-addresses", "SDK-only endpoint (Python/Node webhooks.ip_addresses)"),
    # Hosted OAuth: the provider sends the browser back to Nylas's own /v3/connect/callback, which 302s to
    # the application's redirect_uri (reference §4.5); it is not a client-facing operation, so the
    # description leaves it out.
    Undocumented("GET", "/v3/connect/callback", "Nylas's provider callback in the hosted OAuth flow"),
]

WAIVERS: list[Waiver] = [
    # With consent mode `page` (opt-in: POST /__sim/oauth/consent {"mode": "page"}) the simulator shows
    # the provider's consent screen itself, as a 200 HTML page, where the real API 302s to the provider
    # that shows it. The default mode answers 302 as documented.
    Waiver("GET", "/v3/connect/auth", 200, "(status)", "undocumented-status",
           "simulated provider consent page (consent mode 'page'), stands in for the provider's own page"),
    # Manual assignment: nylas 6.18 WorkspaceManualAssignResponse documents grants_assigned and
    # grants_removed as null when nothing matched; the description types them as arrays only.
    Waiver("POST", "/v3/workspaces/{workspace_id}/manual-assign", 200, "data.grants_*", "type=*",
           "null when no grant matched (nylas 6.18 WorkspaceManualAssignResponse)"),
]

# Template and workflow lists: the description alone marks `next_cursor` required, while every other
# list of the description (and [PY] ListResponse) has it only when another page exists. The simulator
# answers all lists alike: no `next_cursor` on the last page.
for _template in ["/v3/templates", "/v3/grants/{grant_id}/templates", "/v3/workflows", "/v3/grants/{grant_id}/workflows"]:
    WAIVERS.append(Waiver("GET", _template, 200, "(root)", "required=*",
                          "next_cursor only when there is a next page, as every other list"))

# Two places where the description cannot be met by any real event:
# - `event_participants` has minItems 1, but an event without attendees exists and [PY] Event.participants
#   is required with no default, so the API answers `participants: []` (reference §5.7).
# - `event_conferencing_response` is a oneOf whose branches all accept any object (no required keys), so
#   every conferencing object matches several branches and fails oneOf; [PY] _decode_conferencing reads
#   `{provider, details}` / `{provider, autocreate}` (reference §5.7).
# Field globs are fnmatch patterns: `data*` covers `data.x` and `data[3].x`.
for _method, _template in [("GET", "/v3/grants/{grant_id}/events"), ("POST", "/v3/grants/{grant_id}/events"),
                           ("GET", "/v3/grants/{grant_id}/events/{event_id}"), ("PUT", "/v3/grants/{grant_id}/events/{event_id}"),
                           ("GET", "/v3/grants/{grant_id}/events/import")]:
    WAIVERS.append(Waiver(_method, _template, 200, "data*.participants", "minItems=*",
                          "an event without attendees has participants [] (nylas 6.18 Event.participants is required)"))
    WAIVERS.append(Waiver(_method, _template, 200, "data*.conferencing", "oneOf=*",
                          "conferencing oneOf branches all match any object (nylas 6.18 _decode_conferencing)"))


def _template_regex(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


_UNDOCUMENTED = [(u.method, _template_regex(u.path)) for u in UNDOCUMENTED]


def undocumented(method: str, path: str) -> bool:
    """Whether `method path` is an operation an SDK calls though the description lacks it."""
    return any(m == method and r.match(path) for m, r in _UNDOCUMENTED)


def waived(violation) -> bool:
    for w in WAIVERS:
        if (w.method == violation.method and w.template == violation.template
                and (w.status is None or w.status == violation.status)
                and fnmatch.fnmatchcase(violation.field, w.field) and fnmatch.fnmatchcase(violation.rule, w.rule)):
            return True
    return False
