"""The response validator itself (openapi_check.py): it must catch real mismatches and name the
operation, the field and the rule; the allow-list must stay in force and current."""
from __future__ import annotations

import json

import openapi_allowlist
import openapi_check

GRANT = "/v3/grants/6f0d9e0c-1234-4c5d-8e9f-0123456789ab"


def check(method: str, path: str, status: int, body, content_type: str = "application/json"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return openapi_check.checker().check(method, path, status, content_type, raw)


def message(**over) -> dict:
    m = {"id": "m1", "grant_id": "g1", "object": "message", "thread_id": "t1", "subject": "Hi", "date": 1767258000,
         "from": [{"name": "A", "email": "a@example.com"}], "to": [{"name": "", "email": "b@example.com"}],
         "folders": ["INBOX"], "unread": True, "starred": False, "snippet": "Hi", "body": "Hi"}
    m.update(over)
    return m


def test_a_conforming_list_passes():
    assert check("GET", GRANT + "/messages", 200, {"request_id": "r", "data": [message()], "next_cursor": None}) == []


def test_a_wrong_type_names_operation_field_and_rule():
    problems = check("GET", GRANT + "/messages", 200, {"request_id": "r", "data": [message(date="yesterday")]})
    assert problems, "a string date must not pass"
    p = problems[0]
    assert (p.operation_id, p.template, p.field) == ("get-messages", "/v3/grants/{grant_id}/messages", "data[0].date")
    assert p.rule.startswith("type=")
    assert "get-messages (GET /v3/grants/{grant_id}/messages) -> 200: field `data[0].date`: rule type=" in str(p)


def test_a_missing_required_field_is_caught():
    problems = check("DELETE", GRANT + "/messages/m1", 200, {"data": {}})
    assert any(p.rule.startswith("required=") and "request_id" in p.message for p in problems), problems


def test_an_undocumented_success_status_is_caught():
    problems = check("GET", "/v3/grants", 201, {"request_id": "r", "data": []})
    assert [p.rule for p in problems] == ["undocumented-status"]


def test_errors_of_unlisted_statuses_still_need_the_error_envelope():
    assert check("GET", GRANT + "/messages", 404, {"request_id": "r", "error": {"type": "not_found_error", "message": "x"}}) == []
    bad = check("GET", GRANT + "/messages", 404, {"request_id": "r", "error": "not found"})
    assert any(p.field == "error" for p in bad), bad


def test_an_unknown_operation_is_caught_unless_allow_listed():
    assert [p.rule for p in check("POST", "/v3/grants/me", 200, {"request_id": "r"})] == ["undocumented-operation"]
    assert check("PUT", "/v3/webhooks/abc/rotate-secret", 200, {"request_id": "r", "data": {}}) == []


def test_a_non_json_body_where_json_is_documented_is_caught():
    problems = check("GET", "/v3/applications", 200, b"<html></html>", content_type="text/html")
    assert problems and problems[0].rule == "content-type"


def test_the_allow_list_patches_apply_and_are_current():
    # load_spec raises on a stale patch (a pointer that no longer matches the description).
    spec = openapi_check.load_spec()
    assert spec["components"]["schemas"]["common_response_with_cursor"]["properties"]["data"]["type"] == "array"
    for entry in openapi_allowlist.SPEC_PATCHES + openapi_allowlist.UNDOCUMENTED + openapi_allowlist.WAIVERS:
        assert entry.why, f"allow-list entry without a reason: {entry}"
