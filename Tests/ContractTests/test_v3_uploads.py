"""v3 attachment upload sessions (`nylas.attachments.create_upload_session` / `complete_upload_session`)
and smart compose (`nylas.messages.smart_compose.compose_message` / `compose_message_reply`), driven by
the unmodified official Python SDK 6.18.0 with the application's API key.

The upload session's pre-signed `url` points back at the simulator (`/__sim/uploads/{id}?signature=`);
the bytes go there with a plain `requests.put`, no Authorization header, as they would to storage.
"""
from __future__ import annotations

import json

import pytest
import requests
from nylas.models.attachments import AttachmentUploadSession, AttachmentUploadSessionComplete
from nylas.models.errors import NylasApiError
from nylas.models.messages import Message
from nylas.models.smart_compose import ComposeMessageResponse

from conftest import Sim

OWNER = "mia@outlook.com"


def deliver(sim: Sim, mailbox: str, **fields) -> dict:
    fields.setdefault("to", [mailbox])
    r = sim.http.post(f"{sim.us_url}/__sim/providers/mailboxes/{mailbox}/messages", json=fields, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def test_upload_session_round_trip(reset, nylas):
    gid = reset.create_grant(OWNER, "microsoft")["id"]
    content = bytes(range(256)) * 300

    created = nylas.attachments.create_upload_session(
        gid, {"filename": "deck.pdf", "content_type": "application/pdf", "size": len(content)})
    assert created.request_id
    s = created.data
    assert isinstance(s, AttachmentUploadSession)
    assert s.attachment_id and s.method == "PUT" and s.headers == {}
    assert s.max_size == 157286400 and s.size == len(content)
    assert (s.filename, s.content_type, s.grant_id) == ("deck.pdf", "application/pdf", gid)
    assert s.expires_at.endswith("Z")
    assert s.url.startswith(reset.us_url + "/__sim/uploads/" + s.attachment_id)

    put = requests.put(s.url, data=content, headers=s.headers, timeout=30)
    assert put.status_code == 200, put.text

    done = nylas.attachments.complete_upload_session(gid, s.attachment_id)
    assert isinstance(done.data, AttachmentUploadSessionComplete)
    assert (done.data.attachment_id, done.data.grant_id, done.data.status) == (s.attachment_id, gid, "ready")

    sent = nylas.messages.send(gid, {"to": [{"email": "zed@example.com"}], "subject": "Deck",
                                     "body": "Attached", "attachments": [{"id": s.attachment_id}]}).data
    assert isinstance(sent, Message)
    assert [(a.filename, a.content_type, a.size) for a in sent.attachments] == [("deck.pdf", "application/pdf", len(content))]
    assert nylas.attachments.download_bytes(gid, sent.attachments[0].id, {"message_id": sent.id}) == content

    # Completing twice is a conflict.
    with pytest.raises(NylasApiError) as e:
        nylas.attachments.complete_upload_session(gid, s.attachment_id)
    assert e.value.status_code == 409


def test_upload_session_errors(reset, nylas):
    google = reset.create_grant("owner@gmail.com", "google")["id"]
    with pytest.raises(NylasApiError) as e:
        nylas.attachments.create_upload_session(google, {"filename": "a.pdf", "content_type": "application/pdf"})
    assert e.value.status_code == 401 and "Microsoft" in str(e.value)

    gid = reset.create_grant(OWNER, "microsoft")["id"]
    with pytest.raises(NylasApiError) as e:
        nylas.attachments.create_upload_session(gid, {"filename": "a.pdf", "content_type": "application/pdf",
                                                      "size": 157286401})
    assert e.value.status_code == 400

    with pytest.raises(NylasApiError) as e:
        nylas.attachments.complete_upload_session(gid, "00000000-0000-0000-0000-000000000000")
    assert e.value.status_code == 404

    s = nylas.attachments.create_upload_session(gid, {"filename": "a.bin", "content_type": "application/octet-stream",
                                                      "size": 4}).data
    assert requests.put(s.url.split("?")[0] + "?signature=forged", data=b"abcd", timeout=10).status_code == 403
    assert requests.put(s.url, data=b"abc", timeout=10).status_code == 200
    with pytest.raises(NylasApiError) as e:
        nylas.attachments.complete_upload_session(gid, s.attachment_id)
    assert e.value.status_code == 422

    late = nylas.attachments.create_upload_session(gid, {"filename": "b.bin", "content_type": "text/plain"}).data
    reset.advance("3601s")
    assert requests.put(late.url, data=b"x", timeout=10).status_code == 410
    with pytest.raises(NylasApiError) as e:
        nylas.attachments.complete_upload_session(gid, late.attachment_id)
    assert e.value.status_code == 410

    with pytest.raises(NylasApiError) as e:
        nylas.messages.send(gid, {"to": [{"email": "zed@example.com"}], "subject": "x",
                                  "attachments": [{"id": late.attachment_id}]})
    assert e.value.status_code == 400 and late.attachment_id in str(e.value)


def test_smart_compose(reset, nylas):
    gid = reset.create_grant("owner@gmail.com", "google")["id"]
    first = nylas.messages.smart_compose.compose_message(gid, {"prompt": "tell the team the launch moved"})
    assert first.request_id
    assert isinstance(first.data, ComposeMessageResponse)
    assert "Tell the team the launch moved." in first.data.suggestion
    again = nylas.messages.smart_compose.compose_message(gid, {"prompt": "tell the team the launch moved"})
    assert again.data.suggestion == first.data.suggestion

    deliver(reset, "owner@gmail.com", **{"from": {"name": "Jordan Lee", "email": "jordan@example.com"},
                                         "subject": "Budget review", "body": "<p>Can we meet on Tuesday?</p>"})
    msg = nylas.messages.list(gid).data[0]
    reply = nylas.messages.smart_compose.compose_message_reply(gid, msg.id, {"prompt": "say yes"})
    assert isinstance(reply.data, ComposeMessageResponse)
    assert reply.data.suggestion.startswith("Hi Jordan,")
    assert '"Budget review"' in reply.data.suggestion and "Say yes." in reply.data.suggestion

    for body in ({}, {"prompt": 7}, {"prompt": "x" * 1001}):
        with pytest.raises(NylasApiError) as e:
            nylas.messages.smart_compose.compose_message(gid, body)
        assert e.value.status_code == 400 and "prompt" in str(e.value)


def test_smart_compose_event_stream(reset, nylas):
    gid = reset.create_grant("owner@gmail.com", "google")["id"]
    plain = nylas.messages.smart_compose.compose_message(gid, {"prompt": "thank Sam"}).data.suggestion
    r = requests.post(f"{reset.us_url}/v3/grants/{gid}/messages/smart-compose", json={"prompt": "thank Sam"},
                      headers={"Authorization": f"Bearer {reset.us.api_key}", "Accept": "text/event-stream"}, timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    chunks = [json.loads(e[len("data: "):])["suggestion"] for e in r.text.split("\n\n") if e]
    assert len(chunks) > 1 and "".join(chunks) == plain
