"""v3 email contract: messages (list/filter/page, find, update, destroy), send (JSON and multipart),
scheduled sends, drafts, threads, folders and attachments — driven by the unmodified official Python
SDK 6.18.0 with the application's API key (grant-scoped data accepts it; it does not expire when the
virtual clock moves, unlike a grant's one-hour access token).

Mail is seeded from outside through the control API (`/__sim/providers/mailboxes/...`) and the
mailbox fixture (`POST /__sim/fixtures`); grants come from `POST /__sim/grants`.
"""
from __future__ import annotations

import json
import random

import pytest
from nylas.models.attachments import Attachment
from nylas.models.drafts import Draft
from nylas.models.errors import NylasApiError
from nylas.models.folders import Folder
from nylas.models.messages import Message, ScheduledMessage, StopScheduledMessageResponse
from nylas.models.response import DeleteResponse, ListResponse
from nylas.models.threads import Thread
from nylas.utils.file_utils import MAXIMUM_JSON_ATTACHMENT_SIZE, attach_file_request_builder

from conftest import REPO_ROOT, Sim

OWNER = "owner@gmail.com"
FIXTURE = REPO_ROOT / "fixtures" / "mailbox.json"


# --- helpers -----------------------------------------------------------------------------------

def deliver(sim: Sim, mailbox: str, **fields) -> dict:
    """Mail arrives in `mailbox` from outside; returns the world message (with `message_id_header`)."""
    fields.setdefault("to", [mailbox])
    r = sim.http.post(f"{sim.us_url}/__sim/providers/mailboxes/{mailbox}/messages", json=fields, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def request_bodies(sim: Sim, method: str, path: str) -> list[bytes]:
    """The raw request bodies of the journal entries for one method and path."""
    r = sim.http.get(sim.us_url + "/__sim/requests", timeout=30,
                     params={"region": "us", "method": method, "path": path, "bodies": "true"})
    assert r.status_code == 200, r.text
    return [e["request_body"].encode("utf-8", "surrogateescape") for e in r.json()["data"] if e["path"] == path]


def walk(nylas, grant_id: str, **params) -> list[Message]:
    """Every message of a list, following next_cursor page by page."""
    out: list[Message] = []
    token = None
    for _ in range(100):
        q = dict(params)
        if token:
            q["page_token"] = token
        page = nylas.messages.list(grant_id, query_params=q)
        assert isinstance(page, ListResponse)
        out += page.data
        token = page.next_cursor
        if not token:
            return out
    raise AssertionError("more than 100 pages")


@pytest.fixture
def mailbox(reset, nylas):
    """A Gmail grant with five known messages, oldest first:
    kickoff (alice→owner, cc carol, unread), lunch (bob→owner, read, starred), reply (owner→alice, SENT,
    attachment, in the kickoff thread), invoice (eve→owner, unread, PDF), newsletter (news→owner, read)."""
    sim = reset
    grant = sim.create_grant(OWNER, "google")
    now = sim.now()
    kickoff = deliver(sim, OWNER, **{"from": {"name": "Alice", "email": "alice@example.org"},
                                     "cc": [{"name": "Carol", "email": "carol@example.net"}],
                                     "subject": "Project kickoff", "body": "<p>Agenda inside</p>", "date": now - 5000})
    deliver(sim, OWNER, **{"from": {"name": "Bob", "email": "bob@example.com"}, "subject": "Lunch on Friday",
                           "body": "<p>Tacos?</p>", "date": now - 4000, "unread": False, "starred": True})
    deliver(sim, OWNER, **{"from": {"name": "Owner", "email": OWNER}, "to": ["alice@example.org"],
                           "subject": "Re: Project kickoff", "body": "<p>Notes attached</p>", "date": now - 3000,
                           "unread": False, "folders": ["SENT"], "in_reply_to": kickoff["message_id_header"],
                           "attachments": [{"filename": "notes.txt", "content_type": "text/plain",
                                            "content": "kickoff notes\n"}]})
    deliver(sim, OWNER, **{"from": {"name": "Eve", "email": "eve@example.org"}, "subject": "Invoice 42",
                           "body": "<p>Please pay</p>", "date": now - 2000,
                           "attachments": [{"filename": "invoice.pdf", "content_type": "application/pdf",
                                            "content_base64": "JVBERi0xLjQKJcfs"}]})
    deliver(sim, OWNER, **{"from": {"name": "News", "email": "news@example.com"}, "subject": "Weekly digest",
                           "body": "<p>All the news</p>", "date": now - 1000, "unread": False})
    messages = nylas.messages.list(grant["id"]).data
    by_subject = {m.subject: m for m in messages}
    assert len(by_subject) == 5
    return grant, by_subject


def subjects(nylas, grant_id: str, **params) -> list[str]:
    return [m.subject for m in nylas.messages.list(grant_id, query_params=params).data]


# --- messages ----------------------------------------------------------------------------------

def test_list_messages_with_filters(mailbox, nylas):
    grant, msgs = mailbox
    gid = grant["id"]
    everything = nylas.messages.list(gid)
    assert isinstance(everything, ListResponse)
    assert everything.request_id
    assert everything.next_cursor is None
    assert [m.subject for m in everything.data] == [
        "Weekly digest", "Invoice 42", "Re: Project kickoff", "Lunch on Friday", "Project kickoff"]
    m = everything.data[0]
    assert isinstance(m, Message)
    assert m.object == "message" and m.grant_id == gid and m.thread_id and m.date and m.folders == ["INBOX"]
    assert m.from_[0]["email"] == "news@example.com"

    assert subjects(nylas, gid, subject="KICKOFF") == ["Re: Project kickoff", "Project kickoff"]
    # The SDK sends lists as repeated keys and booleans as True/False.
    assert subjects(nylas, gid, any_email=["bob@example.com", "eve@example.org"]) == ["Invoice 42", "Lunch on Friday"]
    assert subjects(nylas, gid, any_email=["carol@example.net"]) == ["Project kickoff"]
    assert subjects(nylas, gid, **{"from": ["alice@example.org"]}) == ["Project kickoff"]
    assert subjects(nylas, gid, to=["alice@example.org"]) == ["Re: Project kickoff"]
    assert subjects(nylas, gid, cc=["carol@example.net"]) == ["Project kickoff"]
    assert subjects(nylas, gid, unread=True) == ["Invoice 42", "Project kickoff"]
    assert subjects(nylas, gid, unread=False, starred=True) == ["Lunch on Friday"]
    assert subjects(nylas, gid, has_attachment=True) == ["Invoice 42", "Re: Project kickoff"]
    assert subjects(nylas, gid, **{"in": "SENT"}) == ["Re: Project kickoff"]
    assert subjects(nylas, gid, thread_id=msgs["Project kickoff"].thread_id) == ["Re: Project kickoff", "Project kickoff"]
    kickoff_date = msgs["Project kickoff"].date
    digest_date = msgs["Weekly digest"].date
    assert subjects(nylas, gid, received_after=kickoff_date, received_before=digest_date) == [
        "Invoice 42", "Re: Project kickoff", "Lunch on Friday"]
    assert subjects(nylas, gid, search_query_native="tacos") == ["Lunch on Friday"]

    nylas.messages.update(gid, msgs["Invoice 42"].id, {"metadata": {"key1": "billing"}})
    assert subjects(nylas, gid, metadata_pair={"key1": "billing"}) == ["Invoice 42"]
    assert subjects(nylas, gid, metadata_pair="key1:billing") == ["Invoice 42"]

    with_headers = nylas.messages.list(gid, query_params={"fields": "include_headers", "subject": "Re:"}).data[0]
    names = {h.name for h in with_headers.headers}
    assert {"Message-ID", "In-Reply-To", "References", "From", "To", "Subject", "Date"} <= names

    selected = nylas.messages.list(gid, query_params={"select": "id,grant_id,subject"})
    assert len(selected.data) == 5
    assert all(m.id and m.grant_id == gid and m.subject and m.body is None and m.folders is None for m in selected.data)

    with pytest.raises(NylasApiError) as e:
        nylas.messages.list(gid, query_params={"limit": 201})
    assert e.value.status_code == 400 and e.value.type == "invalid_request_error"
    with pytest.raises(NylasApiError) as e:
        nylas.messages.list(gid, query_params={"page_token": "garbage!"})
    assert e.value.status_code == 400


def test_follow_next_cursor_over_the_fixture(reset, nylas):
    sim = reset
    loaded = sim.control("POST", "/__sim/fixtures", {"path": str(FIXTURE), "mailbox": "fixture.owner@gmail.com"})
    assert loaded["messages"] == 300
    grant = sim.create_grant("fixture.owner@gmail.com", "google")
    first = nylas.messages.list(grant["id"], query_params={"limit": 40})
    assert len(first.data) == 40 and first.next_cursor
    everything = walk(nylas, grant["id"], limit=40)
    assert len(everything) == 300
    assert len({m.id for m in everything}) == 300
    dates = [m.date for m in everything]
    assert dates == sorted(dates, reverse=True)
    fixture = json.loads(FIXTURE.read_text())
    assert {m.subject for m in everything} == {m["subject"] for m in fixture["messages"]}
    unread = walk(nylas, grant["id"], limit=7, unread=True)
    assert len(unread) == sum(1 for m in fixture["messages"] if m["unread"])
    threads = nylas.threads.list(grant["id"], query_params={"limit": 50})
    assert len(threads.data) == 50 and threads.next_cursor
    assert any(len(t.message_ids) > 2 for t in threads.data)


def test_find_update_destroy(mailbox, nylas):
    grant, msgs = mailbox
    gid = grant["id"]
    kickoff = msgs["Project kickoff"]
    found = nylas.messages.find(gid, kickoff.id)
    assert found.request_id
    assert isinstance(found.data, Message)
    assert found.data.id == kickoff.id
    assert found.data.subject == "Project kickoff"
    assert found.data.cc[0]["email"] == "carol@example.net"
    assert found.data.snippet == "Agenda inside"
    with_headers = nylas.messages.find(gid, kickoff.id, query_params={"fields": "include_headers"}).data
    assert any(h.name == "Message-ID" for h in with_headers.headers)

    folder = nylas.folders.create(gid, {"name": "Projects"}).data
    updated = nylas.messages.update(gid, kickoff.id, {"unread": False, "starred": True,
                                                      "folders": ["INBOX", folder.id], "metadata": {"key2": "x"}})
    assert isinstance(updated.data, Message)
    assert updated.data.unread is False and updated.data.starred is True
    assert updated.data.folders == ["INBOX", folder.id]
    assert updated.data.metadata == {"key2": "x"}
    again = nylas.messages.find(gid, kickoff.id).data
    assert (again.unread, again.starred, again.folders) == (False, True, ["INBOX", folder.id])
    with pytest.raises(NylasApiError) as e:
        nylas.messages.update(gid, kickoff.id, {"folders": ["Label_nope"]})
    assert e.value.status_code == 404

    # destroy: to Trash first, then for good.
    deleted = nylas.messages.destroy(gid, msgs["Lunch on Friday"].id)
    assert isinstance(deleted, DeleteResponse) and deleted.request_id
    assert nylas.messages.find(gid, msgs["Lunch on Friday"].id).data.folders == ["TRASH"]
    nylas.messages.destroy(gid, msgs["Lunch on Friday"].id)
    with pytest.raises(NylasApiError) as e:
        nylas.messages.find(gid, msgs["Lunch on Friday"].id)
    assert e.value.status_code == 404 and e.value.type == "not_found_error"


# --- send --------------------------------------------------------------------------------------

def test_send_json_with_a_small_file(reset, mailbox, nylas, tmp_path):
    grant, msgs = mailbox
    gid = grant["id"]
    path = tmp_path / "hello.txt"
    path.write_bytes(b"hello from the contract suite\n")
    attachment = attach_file_request_builder(str(path))
    stream = attachment["content"]
    assert attachment["size"] < MAXIMUM_JSON_ATTACHMENT_SIZE
    resp = nylas.messages.send(gid, {"to": [{"name": "Zed", "email": "zed@example.com"}], "subject": "Small file",
                                     "body": "<p>see attached</p>", "attachments": [attachment],
                                     "reply_to_message_id": msgs["Project kickoff"].id})
    stream.close()
    assert resp.request_id
    sent = resp.data
    assert isinstance(sent, Message)
    assert sent.id and sent.grant_id == gid and sent.object == "message"
    assert sent.thread_id == msgs["Project kickoff"].thread_id
    assert sent.schedule_id == ""
    assert sent.from_[0]["email"] == OWNER
    assert [(a.filename, a.content_type, a.size) for a in sent.attachments] == [("hello.txt", "text/plain", 30)]
    # The SDK sent JSON (base64 content), not multipart.
    body = request_bodies(reset, "POST", f"/v3/grants/{gid}/messages/send")[-1]
    assert body.startswith(b"{")
    assert json.loads(body)["attachments"][0]["content"]
    # The message is in Sent, and its attachment downloads.
    found = nylas.messages.find(gid, sent.id).data
    assert found.folders == ["SENT"]
    data = nylas.attachments.download_bytes(gid, sent.attachments[0].id, {"message_id": sent.id})
    assert data == b"hello from the contract suite\n"

    with pytest.raises(NylasApiError) as e:
        nylas.messages.send(gid, {"to": [{"email": "not-an-address"}], "subject": "x"})
    assert e.value.status_code == 400 and "not-an-address" in str(e.value)


def test_send_multipart_with_a_large_file(reset, nylas, tmp_path):
    sim = reset
    grant = sim.create_grant("big.sender@gmail.com", "google")
    gid = grant["id"]
    content = random.Random(7).randbytes(MAXIMUM_JSON_ATTACHMENT_SIZE + 200_000)
    path = tmp_path / "archive.bin"
    path.write_bytes(content)
    attachment = attach_file_request_builder(str(path))
    assert attachment["size"] >= MAXIMUM_JSON_ATTACHMENT_SIZE
    small = tmp_path / "readme.txt"
    small.write_bytes(b"read me")
    second = attach_file_request_builder(str(small))
    resp = nylas.messages.send(gid, {"to": [{"email": "zed@example.com"}], "subject": "Large file",
                                     "body": "big one", "attachments": [attachment, second]})
    attachment["content"].close()
    second["content"].close()
    sent = resp.data
    assert isinstance(sent, Message)
    assert [(a.filename, a.size) for a in sent.attachments] == [("archive.bin", len(content)), ("readme.txt", 7)]
    assert sent.attachments[0].content_type == "application/octet-stream"
    assert sent.subject == "Large file"
    # The SDK switched to multipart: a `message` part, then a file part per attachment (the journal
    # keeps the first 64 KiB of a body: the message part and the head of file0).
    body = request_bodies(sim, "POST", f"/v3/grants/{gid}/messages/send")[-1]
    assert body.startswith(b"--")
    assert b'name="message"' in body and b'name="file0"; filename="archive.bin"' in body
    meta = nylas.attachments.find(gid, sent.attachments[0].id, {"message_id": sent.id}).data
    assert isinstance(meta, Attachment)
    assert (meta.filename, meta.size) == ("archive.bin", len(content))
    assert nylas.attachments.download_bytes(gid, sent.attachments[0].id, {"message_id": sent.id}) == content
    assert [m.subject for m in nylas.messages.list(gid, query_params={"in": "SENT"}).data] == ["Large file"]


def test_schedule_list_find_stop(reset, nylas):
    sim = reset
    grant = sim.create_grant("planner@gmail.com", "google")
    gid = grant["id"]
    now = sim.now()
    first = nylas.messages.send(gid, {"to": [{"email": "zed@example.com"}], "subject": "Goes out later",
                                      "body": "later", "send_at": now + 3600})
    assert isinstance(first.data, Message)
    schedule_id = first.data.schedule_id
    assert schedule_id
    assert first.data.send_at == now + 3600
    assert sim.last_status("POST", f"/v3/grants/{gid}/messages/send") == 202
    second = nylas.messages.send(gid, {"to": [{"email": "zed@example.com"}], "subject": "Never goes out",
                                       "body": "never", "send_at": now + 7200}).data.schedule_id

    listed = nylas.messages.list_scheduled_messages(gid)
    assert listed.request_id
    assert all(isinstance(s, ScheduledMessage) for s in listed.data)
    assert {s.schedule_id for s in listed.data} == {schedule_id, second}
    assert {s.status.code for s in listed.data} == {"pending"}
    found = nylas.messages.find_scheduled_message(gid, schedule_id).data
    assert found.schedule_id == schedule_id
    assert found.status.code == "pending"
    assert found.status.description == "schedule send awaiting send at time"

    stopped = nylas.messages.stop_scheduled_message(gid, second)
    assert isinstance(stopped.data, StopScheduledMessageResponse)
    assert stopped.data.message == "requested cancelation for workflow"
    assert sim.last_status("DELETE", f"/v3/grants/{gid}/messages/schedules/{second}") == 202
    assert nylas.messages.list(gid).data == []

    sim.advance("61m")
    sent = nylas.messages.list(gid, query_params={"in": "SENT"}).data
    assert [m.subject for m in sent] == ["Goes out later"]
    done = nylas.messages.find_scheduled_message(gid, schedule_id).data
    assert done.status.code == "success"
    assert done.close_time == now + 3600

    sim.advance("2h")
    assert [m.subject for m in nylas.messages.list(gid).data] == ["Goes out later"]
    assert nylas.messages.find_scheduled_message(gid, second).data.status.code == "cancelled"
    with pytest.raises(NylasApiError) as e:
        nylas.messages.find_scheduled_message(gid, "no-such-schedule")
    assert e.value.status_code == 404
    with pytest.raises(NylasApiError) as e:
        nylas.messages.send(gid, {"to": [{"email": "zed@example.com"}], "send_at": sim.now() + 5})
    assert e.value.status_code == 400


# --- drafts ------------------------------------------------------------------------------------

def test_drafts_create_update_send_destroy(mailbox, nylas, tmp_path):
    grant, msgs = mailbox
    gid = grant["id"]
    path = tmp_path / "plan.txt"
    path.write_bytes(b"the plan")
    attachment = attach_file_request_builder(str(path))
    stream = attachment["content"]
    created = nylas.drafts.create(gid, {"to": [{"name": "Alice", "email": "alice@example.org"}],
                                        "subject": "Re: Project kickoff", "body": "draft body",
                                        "reply_to_message_id": msgs["Project kickoff"].id, "attachments": [attachment]})
    stream.close()
    draft = created.data
    assert isinstance(draft, Draft)
    assert draft.object == "draft" and draft.id and draft.grant_id == gid
    assert draft.thread_id == msgs["Project kickoff"].thread_id
    assert draft.folders == ["DRAFT"]
    assert [(a.filename, a.size) for a in draft.attachments] == [("plan.txt", 8)]

    updated = nylas.drafts.update(gid, draft.id, {"subject": "Re: Project kickoff (v2)", "starred": True}).data
    assert isinstance(updated, Draft)
    assert updated.subject == "Re: Project kickoff (v2)"
    assert updated.body == "draft body"
    assert updated.starred is True
    found = nylas.drafts.find(gid, draft.id).data
    assert found.subject == "Re: Project kickoff (v2)"
    other = nylas.drafts.create(gid, {"to": [{"email": "bob@example.com"}], "subject": "Another draft"}).data
    listed = nylas.drafts.list(gid)
    assert {d.id for d in listed.data} == {draft.id, other.id}
    assert all(isinstance(d, Draft) for d in listed.data)
    thread = nylas.threads.find(gid, msgs["Project kickoff"].thread_id).data
    assert thread.has_drafts is True and thread.draft_ids == [draft.id]

    sent = nylas.drafts.send(gid, draft.id)
    assert isinstance(sent.data, Message)
    assert sent.data.object == "message"
    assert sent.data.subject == "Re: Project kickoff (v2)"
    assert sent.data.thread_id == msgs["Project kickoff"].thread_id
    assert [a.filename for a in sent.data.attachments] == ["plan.txt"]
    with pytest.raises(NylasApiError) as e:
        nylas.drafts.find(gid, draft.id)
    assert e.value.status_code == 404

    deleted = nylas.drafts.destroy(gid, other.id)
    assert isinstance(deleted, DeleteResponse)
    assert nylas.drafts.list(gid).data == []


# --- threads -----------------------------------------------------------------------------------

def test_threads_list_find_update(mailbox, nylas):
    grant, msgs = mailbox
    gid = grant["id"]
    threads = nylas.threads.list(gid)
    assert isinstance(threads, ListResponse)
    assert all(isinstance(t, Thread) for t in threads.data)
    assert [t.subject for t in threads.data] == ["Weekly digest", "Invoice 42", "Project kickoff", "Lunch on Friday"]
    tid = msgs["Project kickoff"].thread_id
    t = nylas.threads.find(gid, tid).data
    assert isinstance(t, Thread)
    assert t.message_ids == [msgs["Project kickoff"].id, msgs["Re: Project kickoff"].id]
    assert isinstance(t.latest_draft_or_message, Message)
    assert t.latest_draft_or_message.id == msgs["Re: Project kickoff"].id
    assert t.unread is True and t.starred is False and t.has_attachments is True and t.has_drafts is False
    assert t.earliest_message_date == msgs["Project kickoff"].date
    assert t.latest_message_sent_date == msgs["Re: Project kickoff"].date
    assert t.latest_message_received_date == msgs["Project kickoff"].date
    assert {p["email"] for p in t.participants} == {"alice@example.org", "carol@example.net", OWNER}
    assert set(t.folders) == {"INBOX", "SENT"}

    unread = nylas.threads.list(gid, query_params={"unread": True}).data
    assert {x.id for x in unread} == {tid, msgs["Invoice 42"].thread_id}
    page = nylas.threads.list(gid, query_params={"limit": 3})
    assert len(page.data) == 3 and page.next_cursor
    rest = nylas.threads.list(gid, query_params={"limit": 3, "page_token": page.next_cursor})
    assert [x.subject for x in rest.data] == ["Lunch on Friday"] and rest.next_cursor is None

    updated = nylas.threads.update(gid, tid, {"unread": False, "starred": True}).data
    assert isinstance(updated, Thread)
    assert updated.unread is False and updated.starred is True
    for mid in t.message_ids:
        m = nylas.messages.find(gid, mid).data
        assert (m.unread, m.starred) == (False, True)
    with pytest.raises(NylasApiError) as e:
        nylas.threads.find(gid, "no-such-thread")
    assert e.value.status_code == 404


# --- folders -----------------------------------------------------------------------------------

def test_folders_create_list_update_destroy(mailbox, nylas):
    grant, _msgs = mailbox
    gid = grant["id"]
    listed = nylas.folders.list(gid)
    assert all(isinstance(f, Folder) for f in listed.data)
    inbox = next(f for f in listed.data if f.id == "INBOX")
    assert inbox.system_folder is True and inbox.total_count == 4 and inbox.unread_count == 2
    created = nylas.folders.create(gid, {"name": "Receipts", "background_color": "#ff0000"}).data
    assert isinstance(created, Folder)
    assert created.name == "Receipts" and created.grant_id == gid and created.system_folder is False
    assert created.id in {f.id for f in nylas.folders.list(gid).data}
    assert nylas.folders.find(gid, created.id).data.name == "Receipts"
    renamed = nylas.folders.update(gid, created.id, {"name": "Receipts 2026"}).data
    assert renamed.name == "Receipts 2026"
    assert nylas.folders.find(gid, created.id).data.name == "Receipts 2026"
    deleted = nylas.folders.destroy(gid, created.id)
    assert isinstance(deleted, DeleteResponse) and deleted.request_id
    with pytest.raises(NylasApiError) as e:
        nylas.folders.find(gid, created.id)
    assert e.value.status_code == 404
    with pytest.raises(NylasApiError) as e:
        nylas.folders.destroy(gid, "INBOX")
    assert e.value.status_code == 400
    assert len(nylas.folders.list(gid).data) == len(listed.data)


# --- attachments -------------------------------------------------------------------------------

def test_attachment_find_and_download(mailbox, nylas):
    grant, msgs = mailbox
    gid = grant["id"]
    invoice = msgs["Invoice 42"]
    assert len(invoice.attachments) == 1
    a = invoice.attachments[0]
    meta = nylas.attachments.find(gid, a.id, {"message_id": invoice.id})
    assert meta.request_id
    assert isinstance(meta.data, Attachment)
    assert (meta.data.id, meta.data.filename, meta.data.content_type, meta.data.size) == (
        a.id, "invoice.pdf", "application/pdf", 12)
    assert meta.data.content_disposition == 'attachment; filename="invoice.pdf"'
    assert meta.data.is_inline is False
    data = nylas.attachments.download_bytes(gid, a.id, {"message_id": invoice.id})
    assert data == b"%PDF-1.4\n%\xc7\xec"
    notes = msgs["Re: Project kickoff"].attachments[0]
    assert nylas.attachments.download_bytes(gid, notes.id, {"message_id": msgs["Re: Project kickoff"].id}) == b"kickoff notes\n"
    with pytest.raises(NylasApiError) as e:
        nylas.attachments.find(gid, a.id, {"message_id": msgs["Project kickoff"].id})
    assert e.value.status_code == 404
    with pytest.raises(NylasApiError) as e:
        nylas.attachments.download_bytes(gid, "no-such-attachment", {"message_id": invoice.id})
    assert e.value.status_code == 404
