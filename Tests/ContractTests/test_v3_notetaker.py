"""v3 Notetaker contract: invite (grant-scoped and standalone), list with filters, order and pages, find, update
and cancel before joining, the lifecycle on the virtual clock (scheduled → connecting → waiting_for_entry →
attending → leave → media_processing → media_available), media links that download and expire on the clock,
history, the `notetaker.*` notifications, a host refusing entry and a meeting ending on its own (control API),
bad input and unknown IDs — driven by the unmodified official Python SDK 6.18.0.

What the SDK has, it is used for: `notetakers.invite`, `list`, `find`, `update`, `cancel`, `leave`, `get_media`.
What it lacks (delete, history) goes through the SDK's own transport (`client.http_client._execute`: same
headers, same error parsing). Media files are downloaded with plain `requests`, without credentials (the links
are pre-authenticated). Every v3 response is checked against the official OpenAPI description by
`openapi_check` (the media links live outside `/v3/`, so they are not).

Two state vocabularies: API objects use the SDK's `NotetakerState` (`media_processing`, `media_available`...);
notifications and history snapshots use the notification one (`connecting` + meeting_state, `disconnected`,
`processing`, `available`...).

Timings the documentation does not fix are the simulator's documented defaults, collected below so they can
be adjusted in one place. The clock is moved, never slept on.
"""
from __future__ import annotations

import json
import time

import pytest
import requests
from nylas.models.errors import NylasApiError
from nylas.models.notetakers import (MeetingProvider, Notetaker, NotetakerLeaveResponse, NotetakerMedia,
                                     NotetakerMediaRecording, NotetakerState)
from nylas.models.response import DeleteResponse, ListResponse, Response

from conftest import Sim
from receiver import Receiver

# --- simulator defaults (seconds) ------------------------------------------------------------------
DISPATCH_DELAY_S = 0          # scheduled → connecting, counted from join_time
CONNECTING_S = 30             # connecting → waiting_for_entry
ADMISSION_S = 30              # waiting_for_entry → attending (the host admits the bot)
MEDIA_PROCESSING_S = 5 * 60   # media_processing → media_available, counted from leaving
MEDIA_LINK_TTL_S = 60 * 60    # a media link is valid 60 minutes from the GET …/media that minted it
JOIN_TO_ATTENDING_S = DISPATCH_DELAY_S + CONNECTING_S + ADMISSION_S

# --- simulator choices for statuses the description leaves open ----------------------------------
WRONG_STATE_STATUS = 409      # cancel / leave / update in a state that forbids it ("conflict")
MEDIA_NOT_READY_STATUS = 404  # GET …/media before media_available
EXPIRED_LINK_STATUS = 403     # a media link used after its expires_at
INVITE_PAST_JOIN_TIME_STATUS = 400  # description: "If you provide a time that's in the past, Nylas returns an error"

OWNER = "notes.owner@gmail.com"
OTHER = "notes.other@outlook.com"
MEET = "https://meet.google.com/abc-defg-hij"
ZOOM = "https://us02web.zoom.us/j/81234567890?pwd=Zm9vYmFy"
TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjM4ZTk%40thread.v2/0?context=%7b%7d"
UNSUPPORTED = "https://meetings.example.com/room/42"
TRIGGERS = ["notetaker.created", "notetaker.updated", "notetaker.meeting_state", "notetaker.media",
            "notetaker.deleted"]
API_STATES = {s.value for s in NotetakerState}
NOTIFICATION_STATES = {"scheduled", "connecting", "attending", "disconnected", "failed_entry", "processing",
                       "available", "media_error", "media_deleted", "worker_finished"}


# --- helpers -----------------------------------------------------------------------------------

def raw(client, method: str, path: str, body=None, query=None) -> dict:
    """A request through the SDK's own transport; returns the raw JSON (errors raise NylasApiError)."""
    response_json, _headers = client.http_client._execute(method, path, None, query, body)
    return response_json


def refused(call, status: int, error_type: str | None = None) -> NylasApiError:
    with pytest.raises(NylasApiError) as e:
        call()
    err = e.value
    assert err.status_code == status, (status, err.status_code, err.args)
    if error_type:
        assert err.type == error_type, (error_type, err.type, err.args)
    assert err.request_id
    return err


def base(gid: str | None) -> str:
    return "/v3/notetakers" if gid is None else f"/v3/grants/{gid}/notetakers"


def advance_s(sim: Sim, seconds: int) -> None:
    sim.advance(f"{seconds}s")


def invite(nylas, gid: str | None, **body) -> Notetaker:
    body.setdefault("meeting_link", MEET)
    created = nylas.notetakers.invite(request_body=body, identifier=gid)
    assert isinstance(created, Response) and created.request_id
    assert isinstance(created.data, Notetaker)
    return created.data


def find(nylas, gid: str | None, nid: str) -> Notetaker:
    found = nylas.notetakers.find(nid, identifier=gid)
    assert isinstance(found.data, Notetaker)
    return found.data


def state(nylas, gid: str | None, nid: str) -> NotetakerState:
    return find(nylas, gid, nid).state


def history(nylas, gid: str | None, nid: str) -> list[dict]:
    """The history events, most recent first (as the API answers)."""
    resp = raw(nylas, "GET", f"{base(gid)}/{nid}/history")
    assert resp["request_id"]
    events = resp["data"]["events"]
    assert isinstance(events, list)
    return events


def to_attending(sim: Sim, nylas, gid: str | None, **body) -> Notetaker:
    """A bot invited without join_time (joins at once), brought to `attending` by moving the clock."""
    bot = invite(nylas, gid, **body)
    advance_s(sim, JOIN_TO_ATTENDING_S)
    assert state(nylas, gid, bot.id) == NotetakerState.ATTENDING
    return bot


def to_media_available(sim: Sim, nylas, gid: str | None, **body) -> Notetaker:
    bot = to_attending(sim, nylas, gid, **body)
    nylas.notetakers.leave(bot.id, identifier=gid)
    advance_s(sim, MEDIA_PROCESSING_S)
    assert state(nylas, gid, bot.id) == NotetakerState.MEDIA_AVAILABLE
    return bot


def set_state(sim: Sim, nid: str, target: str, meeting_state: str | None = None) -> dict:
    """Control API: moves a bot by hand (scripted failures, a meeting ending on its own)."""
    body = {"state": target}
    if meeting_state:
        body["meeting_state"] = meeting_state
    return sim.control("POST", f"/__sim/notetakers/{nid}/state", body)


def create_hook(nylas, receiver: Receiver, triggers=TRIGGERS) -> str:
    # nylas 6.18's WebhookTriggers enum has no notetaker.* member (webhooks.create would fail to decode
    # the answer): the SDK's own transport, raw JSON.
    return raw(nylas, "POST", "/v3/webhooks", {"trigger_types": list(triggers), "webhook_url": receiver.url})["data"]["id"]


def notifications(receiver: Receiver, nid: str) -> list[dict]:
    """The notifications the receiver got about one bot, ordered by their `time` (the virtual clock of the
    transition); deliveries made together may arrive in any order, ties keep the arrival order."""
    out = []
    for post in receiver.posts:
        body = json.loads(post.body)
        if body["data"]["object"].get("id") == nid:
            out.append(body)
    return sorted(out, key=lambda n: n["time"])


def has(notes: list[dict], trigger: str, **fields) -> bool:
    return any(n["type"] == trigger and all(n["data"]["object"].get(k) == v for k, v in fields.items())
               for n in notes)


def wait_for(receiver: Receiver, nid: str, trigger: str, timeout: float = 5.0, **fields) -> list[dict]:
    """Waits (wall time: deliveries are asynchronous) until a `trigger` notification about the bot whose object
    has `fields` arrived; returns all the bot's notifications."""
    deadline = time.monotonic() + timeout
    while True:
        got = notifications(receiver, nid)
        if has(got, trigger, **fields):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"no {trigger} {fields} about {nid} within {timeout}s: "
                                 f"{[(n['type'], n['data']['object'].get('state')) for n in got]}")
        time.sleep(0.02)


def meeting_states(notes: list[dict]) -> list[tuple[str, str]]:
    """(state, meeting_state) of the notetaker.meeting_state notifications or history snapshots, without the
    optional `dispatched` step (documented by some sources only)."""
    return [(n["state"], n["meeting_state"]) for n in notes if n.get("meeting_state") != "dispatched"]


@pytest.fixture
def grant(reset) -> dict:
    return reset.create_grant(OWNER, "google")


@pytest.fixture
def receiver():
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


# --- invite, find, scoping ----------------------------------------------------------------------

def test_invite_grant_scoped_with_defaults(reset, nylas, grant):
    gid = grant["id"]
    join = reset.now() + 3600
    bot = invite(nylas, gid, join_time=join, name="Sales call notes")
    assert reset.last_status("POST", f"/v3/grants/{gid}/notetakers") == 201
    assert bot.id and bot.object == "notetaker"
    assert (bot.name, bot.join_time, bot.meeting_link) == ("Sales call notes", join, MEET)
    assert bot.meeting_provider == MeetingProvider.GOOGLE_MEET
    assert bot.state == NotetakerState.SCHEDULED and bot.is_scheduled()
    ms = bot.meeting_settings
    assert (ms.video_recording, ms.audio_recording, ms.transcription) == (True, True, True)

    wire = raw(nylas, "GET", f"/v3/grants/{gid}/notetakers/{bot.id}")["data"]
    assert wire["grant_id"] == gid and wire["object"] == "notetaker"
    assert wire["state"] == "scheduled"
    assert wire.get("status", "scheduled") == "scheduled"
    s = wire["meeting_settings"]
    assert (s["summary"], s["action_items"], s["leave_after_silence_seconds"]) == (True, True, 300)

    # The name defaults to "Nylas Notetaker"; no join_time means "join now": join_time is the invite time.
    now = reset.now()
    plain = invite(nylas, gid)
    assert plain.name == "Nylas Notetaker"
    assert plain.join_time == now and plain.state == NotetakerState.SCHEDULED
    # No de-duplication: the same meeting twice makes two bots.
    again = invite(nylas, gid)
    assert again.id not in (plain.id, bot.id)

    found = nylas.notetakers.find(bot.id, identifier=gid)
    assert found.request_id and found.data.id == bot.id and found.data.join_time == join
    # The grant can be named by its email address, as on every grant route.
    assert find(nylas, OWNER, bot.id).id == bot.id


def test_invite_settings_are_echoed(reset, nylas, grant):
    gid = grant["id"]
    bot = invite(nylas, gid, meeting_settings={
        "video_recording": False, "audio_recording": True, "transcription": True, "summary": False,
        "action_items": False, "leave_after_silence_seconds": 600})
    assert (bot.meeting_settings.video_recording, bot.meeting_settings.audio_recording) == (False, True)
    wire = raw(nylas, "GET", f"/v3/grants/{gid}/notetakers/{bot.id}")["data"]["meeting_settings"]
    assert (wire["summary"], wire["action_items"], wire["leave_after_silence_seconds"]) == (False, False, 600)

    # An omitted flag whose prerequisite is off defaults to off (only an explicit contradiction is refused).
    quiet = invite(nylas, gid, meeting_settings={"transcription": False})
    wire = raw(nylas, "GET", f"/v3/grants/{gid}/notetakers/{quiet.id}")["data"]["meeting_settings"]
    assert (wire["transcription"], wire["summary"], wire["action_items"]) == (False, False, False)
    assert (wire["video_recording"], wire["audio_recording"]) == (True, True)


def test_standalone_invite_and_scoping(reset, nylas, grant):
    gid = grant["id"]
    other = reset.create_grant(OTHER, "microsoft")
    zoom = invite(nylas, None, meeting_link=ZOOM, name="Standalone")
    assert reset.last_status("POST", "/v3/notetakers") == 201
    assert zoom.meeting_provider == MeetingProvider.ZOOM and zoom.state == NotetakerState.SCHEDULED
    teams = invite(nylas, None, meeting_link=TEAMS)
    assert teams.meeting_provider == MeetingProvider.MICROSOFT_TEAMS
    wire = raw(nylas, "GET", f"/v3/notetakers/{zoom.id}")["data"]
    assert "grant_id" not in wire and wire["meeting_provider"] == "Zoom Meeting"
    assert find(nylas, None, zoom.id).name == "Standalone"

    owned = invite(nylas, gid)
    standalone = nylas.notetakers.list()
    assert isinstance(standalone, ListResponse)
    assert {n.id for n in standalone.data} == {zoom.id, teams.id}
    assert [n.id for n in nylas.notetakers.list(identifier=gid).data] == [owned.id]
    assert nylas.notetakers.list(identifier=other["id"]).data == []

    # Each bot is reachable only through its own scope.
    refused(lambda: nylas.notetakers.find(owned.id), 404, "not_found_error")
    refused(lambda: nylas.notetakers.find(zoom.id, identifier=gid), 404, "not_found_error")
    refused(lambda: nylas.notetakers.find(owned.id, identifier=other["id"]), 404, "not_found_error")


# --- list ---------------------------------------------------------------------------------------

def test_list_filters_order_and_pages(reset, nylas, grant):
    gid = grant["id"]
    now = reset.now()
    charlie = invite(nylas, gid, name="Charlie", join_time=now + 1 * 3600)
    alpha = invite(nylas, gid, name="Alpha", join_time=now + 2 * 3600)
    bravo = invite(nylas, gid, name="Bravo", join_time=now + 3 * 3600)
    nylas.notetakers.cancel(alpha.id, identifier=gid)  # alpha leaves `scheduled`

    def ids(**params) -> list[str]:
        return [n.id for n in nylas.notetakers.list(identifier=gid, query_params=params).data]

    assert ids() == [charlie.id, alpha.id, bravo.id]  # default: created_at asc
    assert ids(order_by="name") == [alpha.id, bravo.id, charlie.id]
    assert ids(order_by="join_time", order_direction="desc") == [bravo.id, alpha.id, charlie.id]
    assert ids(order_by="created_at", order_direction="desc") == [bravo.id, alpha.id, charlie.id]
    assert ids(state="scheduled") == [charlie.id, bravo.id]
    assert ids(state=NotetakerState.FAILED_ENTRY.value) == [alpha.id]
    assert ids(state="attending") == []
    assert ids(join_time_start=now + 2 * 3600) == [alpha.id, bravo.id]        # inclusive
    assert ids(join_time_end=now + 2 * 3600) == [charlie.id, alpha.id]        # inclusive
    assert ids(join_time_start=now + 90 * 60, join_time_end=now + 150 * 60) == [alpha.id]

    first = nylas.notetakers.list(identifier=gid, query_params={"limit": 2, "order_by": "name"})
    assert [n.id for n in first.data] == [alpha.id, bravo.id] and first.next_cursor
    second = nylas.notetakers.list(identifier=gid, query_params={
        "limit": 2, "order_by": "name", "page_token": first.next_cursor})
    assert [n.id for n in second.data] == [charlie.id] and not second.next_cursor
    wire = raw(nylas, "GET", f"/v3/grants/{gid}/notetakers",
               query={"limit": 2, "order_by": "name", "page_token": first.next_cursor})
    assert wire["prev_cursor"]
    back = raw(nylas, "GET", f"/v3/grants/{gid}/notetakers",
               query={"limit": 2, "order_by": "name", "prev_page_token": wire["prev_cursor"]})
    assert [n["id"] for n in back["data"]] == [alpha.id, bravo.id]

    refused(lambda: nylas.notetakers.list(identifier=gid, query_params={"state": "sleeping"}), 400,
            "invalid_request_error")
    refused(lambda: nylas.notetakers.list(identifier=gid, query_params={"limit": 201}), 400)


# --- update and cancel before joining -------------------------------------------------------------

def test_update_before_joining(reset, nylas, grant):
    gid = grant["id"]
    now = reset.now()
    bot = invite(nylas, gid, join_time=now + 600, name="Before")
    updated = nylas.notetakers.update(bot.id, request_body={
        "name": "After", "join_time": now + 1200, "meeting_settings": {"video_recording": False}},
        identifier=gid)
    assert isinstance(updated, Response) and updated.request_id
    assert (updated.data.name, updated.data.join_time) == ("After", now + 1200)
    assert updated.data.meeting_settings.video_recording is False
    assert updated.data.meeting_settings.audio_recording is True  # the rest of meeting_settings is kept
    assert updated.data.meeting_link == MEET and updated.data.state == NotetakerState.SCHEDULED
    assert find(nylas, gid, bot.id).name == "After"

    # The old join time passes without effect; the new one dispatches the bot.
    advance_s(reset, 600 + CONNECTING_S + ADMISSION_S)
    assert state(nylas, gid, bot.id) == NotetakerState.SCHEDULED
    advance_s(reset, 1200 - (600 + CONNECTING_S + ADMISSION_S) + DISPATCH_DELAY_S)
    assert state(nylas, gid, bot.id) == NotetakerState.CONNECTING

    # Only a scheduled bot can be updated.
    refused(lambda: nylas.notetakers.update(bot.id, request_body={"name": "Late"}, identifier=gid),
            WRONG_STATE_STATUS, "conflict")

    other = invite(nylas, None, join_time=reset.now() + 3600)
    refused(lambda: nylas.notetakers.update(other.id, request_body={"join_time": reset.now() - 60}), 400,
            "invalid_request_error")
    assert find(nylas, None, other.id).join_time == reset.now() + 3600


def test_cancel_before_joining(reset, nylas, grant):
    gid = grant["id"]
    bot = invite(nylas, gid, join_time=reset.now() + 600)
    cancelled = nylas.notetakers.cancel(bot.id, identifier=gid)
    assert isinstance(cancelled, DeleteResponse) and cancelled.request_id
    assert state(nylas, gid, bot.id) == NotetakerState.FAILED_ENTRY
    advance_s(reset, 600 + JOIN_TO_ATTENDING_S)
    assert state(nylas, gid, bot.id) == NotetakerState.FAILED_ENTRY  # it never joins
    refused(lambda: nylas.notetakers.cancel(bot.id, identifier=gid), WRONG_STATE_STATUS, "conflict")

    # Cancel also works while the bot waits in the lobby, not once it attends (leave does, then).
    waiting = invite(nylas, None)
    advance_s(reset, DISPATCH_DELAY_S + CONNECTING_S)
    assert state(nylas, None, waiting.id) == NotetakerState.WAITING_FOR_ENTRY
    nylas.notetakers.cancel(waiting.id)
    assert state(nylas, None, waiting.id) == NotetakerState.FAILED_ENTRY

    attending = to_attending(reset, nylas, gid)
    refused(lambda: nylas.notetakers.cancel(attending.id, identifier=gid), WRONG_STATE_STATUS, "conflict")
    scheduled = invite(nylas, gid, join_time=reset.now() + 3600)
    refused(lambda: nylas.notetakers.leave(scheduled.id, identifier=gid), WRONG_STATE_STATUS, "conflict")


# --- lifecycle on the clock ---------------------------------------------------------------------

def test_lifecycle_on_the_clock(reset, nylas, grant):
    gid = grant["id"]
    join = reset.now() + 600
    bot = invite(nylas, gid, join_time=join)

    advance_s(reset, 600 - 1)
    assert state(nylas, gid, bot.id) == NotetakerState.SCHEDULED
    advance_s(reset, 1 + DISPATCH_DELAY_S)
    assert state(nylas, gid, bot.id) == NotetakerState.CONNECTING
    advance_s(reset, CONNECTING_S)
    assert state(nylas, gid, bot.id) == NotetakerState.WAITING_FOR_ENTRY
    advance_s(reset, ADMISSION_S)
    found = find(nylas, gid, bot.id)
    assert found.is_attending() and found.join_time == join
    refused(lambda: nylas.notetakers.get_media(bot.id, identifier=gid), MEDIA_NOT_READY_STATUS)

    # The bot records until told to leave; it does not leave on its own while the clock moves.
    advance_s(reset, 3600)
    assert state(nylas, gid, bot.id) == NotetakerState.ATTENDING

    left = nylas.notetakers.leave(bot.id, identifier=gid)
    assert reset.last_status("POST", f"/v3/grants/{gid}/notetakers/{bot.id}/leave") == 200
    assert isinstance(left.data, NotetakerLeaveResponse) and left.request_id
    assert left.data.id == bot.id and left.data.message
    assert state(nylas, gid, bot.id) == NotetakerState.MEDIA_PROCESSING
    again = nylas.notetakers.leave(bot.id, identifier=gid)  # already left: accepted, nothing more happens
    assert reset.last_status("POST", f"/v3/grants/{gid}/notetakers/{bot.id}/leave") == 202
    assert again.data.id == bot.id
    refused(lambda: nylas.notetakers.get_media(bot.id, identifier=gid), MEDIA_NOT_READY_STATUS)

    advance_s(reset, MEDIA_PROCESSING_S - 1)
    assert state(nylas, gid, bot.id) == NotetakerState.MEDIA_PROCESSING
    advance_s(reset, 1)
    done = find(nylas, gid, bot.id)
    assert done.has_media_available()
    refused(lambda: nylas.notetakers.leave(bot.id, identifier=gid), WRONG_STATE_STATUS, "conflict")
    # The list filter speaks the same vocabulary as the objects.
    listed = nylas.notetakers.list(identifier=gid, query_params={"state": "media_available"}).data
    assert [n.id for n in listed] == [bot.id]


def test_invite_without_join_time_joins_at_once(reset, nylas):
    bot = invite(nylas, None)
    advance_s(reset, DISPATCH_DELAY_S + CONNECTING_S)
    assert state(nylas, None, bot.id) == NotetakerState.WAITING_FOR_ENTRY
    advance_s(reset, ADMISSION_S)
    assert state(nylas, None, bot.id) == NotetakerState.ATTENDING


# --- media ----------------------------------------------------------------------------------------

def test_media_links_download_and_expire(reset, nylas, grant):
    gid = grant["id"]
    bot = to_media_available(reset, nylas, gid, name="Quarterly review")
    now = reset.now()
    media = nylas.notetakers.get_media(bot.id, identifier=gid)
    assert isinstance(media, Response) and media.request_id
    assert isinstance(media.data, NotetakerMedia)
    rec, tr = media.data.recording, media.data.transcript
    assert isinstance(rec, NotetakerMediaRecording) and isinstance(tr, NotetakerMediaRecording)
    assert rec.type == "video/mp4" and tr.type == "application/json"
    for f in (rec, tr):
        assert f.url.startswith("http") and f.name and f.size > 0
        assert f.expires_at == now + MEDIA_LINK_TTL_S and f.ttl == MEDIA_LINK_TTL_S
        assert f.created_at <= now

    wire = raw(nylas, "GET", f"/v3/grants/{gid}/notetakers/{bot.id}/media")["data"]
    expected_types = {"recording": "video/mp4", "transcript": "application/json", "summary": "application/json",
                      "action_items": "application/json", "thumbnail": "image/png"}
    assert set(wire) >= set(expected_types), wire.keys()
    assert isinstance(wire["recording"].get("duration"), int)

    # Every link downloads without credentials: 200, the declared type, exactly `size` bytes.
    for kind, mime in expected_types.items():
        f = wire[kind]
        r = requests.get(f["url"], timeout=10)
        assert r.status_code == 200, (kind, r.status_code, r.text[:200])
        assert r.headers["Content-Type"].split(";")[0] == mime == f["type"], (kind, r.headers)
        assert r.content and len(r.content) == f["size"], (kind, len(r.content), f["size"])
    transcript = requests.get(wire["transcript"]["url"], timeout=10).json()
    assert transcript
    assert requests.get(wire["thumbnail"]["url"], timeout=10).content.startswith(b"\x89PNG\r\n\x1a\n")

    # Links expire on the clock; a new GET …/media mints fresh ones.
    advance_s(reset, MEDIA_LINK_TTL_S - 60)
    assert requests.get(rec.url, timeout=10).status_code == 200
    advance_s(reset, 61)
    assert requests.get(rec.url, timeout=10).status_code == EXPIRED_LINK_STATUS
    assert requests.get(tr.url, timeout=10).status_code == EXPIRED_LINK_STATUS
    fresh = nylas.notetakers.get_media(bot.id, identifier=gid).data
    assert fresh.recording.expires_at == reset.now() + MEDIA_LINK_TTL_S
    assert requests.get(fresh.recording.url, timeout=10).status_code == 200


def test_audio_only_media(reset, nylas):
    bot = to_media_available(reset, nylas, None, meeting_settings={
        "video_recording": False, "audio_recording": True, "transcription": True,
        "summary": False, "action_items": False})
    wire = raw(nylas, "GET", f"/v3/notetakers/{bot.id}/media")["data"]
    assert wire["recording"]["type"] == "audio/mpeg"
    assert "transcript" in wire
    for kind in ("thumbnail", "summary", "action_items"):
        assert wire.get(kind) is None, (kind, wire)
    r = requests.get(wire["recording"]["url"], timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].split(";")[0] == "audio/mpeg"


# --- history ------------------------------------------------------------------------------------

def test_history_lists_the_transitions(reset, nylas):
    bot = invite(nylas, None, join_time=reset.now() + 300)
    nylas.notetakers.update(bot.id, request_body={"name": "Renamed"})
    advance_s(reset, 300 + JOIN_TO_ATTENDING_S)
    nylas.notetakers.leave(bot.id)
    advance_s(reset, MEDIA_PROCESSING_S)

    events = history(nylas, None, bot.id)
    stamps = [e["created_at"] for e in events]
    assert stamps == sorted(stamps, reverse=True), "history is most recent first"
    chrono = list(reversed(events))
    types = [e["event_type"] for e in chrono]
    assert types[0] == "notetaker.created" and types[1] == "notetaker.updated"
    assert types[-1] == "notetaker.media"
    assert set(types) <= set(TRIGGERS)
    for e in chrono:
        assert e["data"]["id"] == bot.id and "grant_id" not in e["data"]
        assert e["data"]["state"] in NOTIFICATION_STATES, e
    assert chrono[0]["data"]["state"] == "scheduled"
    assert chrono[1]["data"]["name"] == "Renamed"
    assert meeting_states([e["data"] for e in chrono if e["event_type"] == "notetaker.meeting_state"]) == [
        ("connecting", "waiting_for_entry"), ("attending", "recording_active"), ("disconnected", "api_request")]
    media_events = [e["data"] for e in chrono if e["event_type"] == "notetaker.media"]
    assert [m["state"] for m in media_events] == ["processing", "available"]
    assert "media" not in media_events[0]
    assert media_events[1]["media"]["recording"].startswith("http")
    assert media_events[1]["media"]["transcript"].startswith("http")
    # The transitions happened at the clock's times: admitted 60 s after the join time, media 5 min after leaving.
    joined = next(e for e in chrono if e["data"].get("meeting_state") == "recording_active")
    left = next(e for e in chrono if e["data"].get("meeting_state") == "api_request")
    assert joined["created_at"] == bot.join_time + JOIN_TO_ATTENDING_S
    assert media_events and chrono[-1]["created_at"] == left["created_at"] + MEDIA_PROCESSING_S


# --- notifications ------------------------------------------------------------------------------

def test_notifications_of_a_recorded_meeting(reset, nylas, grant, receiver):
    gid = grant["id"]
    create_hook(nylas, receiver)
    bot = invite(nylas, gid, join_time=reset.now() + 300)
    [created] = wait_for(receiver, bot.id, "notetaker.created")
    assert created["type"] == "notetaker.created" and created["source"] == "/nylas/notetaker"
    assert created["specversion"] == "1.0" and created["data"]["application_id"] == reset.us.application_id
    obj = created["data"]["object"]
    assert obj["grant_id"] == gid and obj["object"] == "notetaker" and obj["state"] == "scheduled"
    assert obj["meeting_link"] == MEET and obj["meeting_provider"] == "Google Meet"

    nylas.notetakers.update(bot.id, request_body={"name": "Board meeting"}, identifier=gid)
    notes = wait_for(receiver, bot.id, "notetaker.updated")
    assert [n["type"] for n in notes] == ["notetaker.created", "notetaker.updated"]
    assert notes[1]["data"]["object"]["name"] == "Board meeting"
    assert notes[1]["data"]["object"]["state"] == "scheduled"

    advance_s(reset, 300 + JOIN_TO_ATTENDING_S)
    wait_for(receiver, bot.id, "notetaker.meeting_state", state="attending", meeting_state="recording_active")
    nylas.notetakers.leave(bot.id, identifier=gid)
    wait_for(receiver, bot.id, "notetaker.media", state="processing")
    advance_s(reset, MEDIA_PROCESSING_S)
    notes = wait_for(receiver, bot.id, "notetaker.media", state="available")
    assert [n["webhook_delivery_attempt"] for n in notes] == [1] * len(notes)

    states = [n["data"]["object"] for n in notes if n["type"] == "notetaker.meeting_state"]
    assert meeting_states(states) == [
        ("connecting", "waiting_for_entry"), ("attending", "recording_active"), ("disconnected", "api_request")]
    for s in states:
        assert s["grant_id"] == gid and s["object"] == "notetaker"
    media = [n["data"]["object"] for n in notes if n["type"] == "notetaker.media"]
    assert [m["state"] for m in media] == ["processing", "available"]
    assert [m.get("status", m["state"]) for m in media] == ["processing", "available"]
    assert "media" not in media[0]
    files = media[1]["media"]
    assert files["recording_file_format"] == "mp4" and int(files["recording_duration"]) >= 0
    for kind in ("recording", "transcript", "thumbnail", "summary", "action_items"):
        assert requests.get(files[kind], timeout=10).status_code == 200, kind

    raw(nylas, "DELETE", f"/v3/grants/{gid}/notetakers/{bot.id}")
    deleted = next(n for n in wait_for(receiver, bot.id, "notetaker.deleted") if n["type"] == "notetaker.deleted")
    assert deleted["data"]["object"]["id"] == bot.id and deleted["data"]["object"]["grant_id"] == gid


def test_host_refuses_entry(reset, nylas, grant, receiver):
    gid = grant["id"]
    create_hook(nylas, receiver, ["notetaker.meeting_state"])
    bot = invite(nylas, gid)
    advance_s(reset, DISPATCH_DELAY_S + CONNECTING_S)
    assert state(nylas, gid, bot.id) == NotetakerState.WAITING_FOR_ENTRY
    moved = set_state(reset, bot.id, "failed_entry", "entry_denied")
    assert moved.get("data", moved)["state"] == "failed_entry"  # the API object, SDK vocabulary

    assert state(nylas, gid, bot.id) == NotetakerState.FAILED_ENTRY
    advance_s(reset, ADMISSION_S + 3600)
    assert state(nylas, gid, bot.id) == NotetakerState.FAILED_ENTRY  # never admitted afterwards
    refused(lambda: nylas.notetakers.leave(bot.id, identifier=gid), WRONG_STATE_STATUS, "conflict")
    refused(lambda: nylas.notetakers.get_media(bot.id, identifier=gid), MEDIA_NOT_READY_STATUS)

    got = wait_for(receiver, bot.id, "notetaker.meeting_state", state="failed_entry")
    notes = [n["data"]["object"] for n in got]
    assert {n["type"] for n in got} == {"notetaker.meeting_state"}  # the hook's only trigger
    assert meeting_states(notes)[-1] == ("failed_entry", "entry_denied")
    assert ("attending", "recording_active") not in meeting_states(notes)
    last = history(nylas, gid, bot.id)[0]
    assert last["event_type"] == "notetaker.meeting_state"
    assert (last["data"]["state"], last["data"]["meeting_state"]) == ("failed_entry", "entry_denied")


def test_meeting_ends_on_its_own(reset, nylas):
    bot = to_attending(reset, nylas, None)
    set_state(reset, bot.id, "disconnected", "meeting_ended")
    assert state(nylas, None, bot.id) == NotetakerState.MEDIA_PROCESSING
    advance_s(reset, MEDIA_PROCESSING_S)
    assert state(nylas, None, bot.id) == NotetakerState.MEDIA_AVAILABLE
    chrono = list(reversed(history(nylas, None, bot.id)))
    assert ("disconnected", "meeting_ended") in meeting_states(
        [e["data"] for e in chrono if e["event_type"] == "notetaker.meeting_state"])


# --- delete -------------------------------------------------------------------------------------

def test_delete_in_any_state(reset, nylas, grant):
    gid = grant["id"]
    done = to_media_available(reset, nylas, gid)
    url = nylas.notetakers.get_media(done.id, identifier=gid).data.recording.url
    scheduled = invite(nylas, gid, join_time=reset.now() + 3600)
    for bot in (done, scheduled):
        resp = raw(nylas, "DELETE", f"/v3/grants/{gid}/notetakers/{bot.id}")
        assert resp["request_id"]
        refused(lambda: nylas.notetakers.find(bot.id, identifier=gid), 404, "not_found_error")
    assert nylas.notetakers.list(identifier=gid).data == []
    assert requests.get(url, timeout=10).status_code == 404  # the files went with the bot
    standalone = invite(nylas, None)
    assert raw(nylas, "DELETE", f"/v3/notetakers/{standalone.id}")["request_id"]
    refused(lambda: nylas.notetakers.find(standalone.id), 404, "not_found_error")


# --- bad input and unknown IDs --------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"name": "no link"},
    {"meeting_link": ""},
    {"meeting_link": UNSUPPORTED},
    {"meeting_link": "not a url"},
    {"meeting_link": MEET, "meeting_settings": {"audio_recording": False, "transcription": True}},
    {"meeting_link": MEET, "meeting_settings": {"transcription": False, "summary": True}},
    {"meeting_link": MEET, "meeting_settings": {"leave_after_silence_seconds": 5}},
], ids=["missing-link", "empty-link", "unsupported-link", "not-a-url", "transcription-without-audio",
        "summary-without-transcription", "silence-too-short"])
def test_bad_invites_are_refused(reset, nylas, grant, body):
    refused(lambda: nylas.notetakers.invite(request_body=body, identifier=grant["id"]), 400,
            "invalid_request_error")
    refused(lambda: nylas.notetakers.invite(request_body=body), 400, "invalid_request_error")
    assert nylas.notetakers.list(identifier=grant["id"]).data == []


def test_invite_with_a_past_join_time(reset, nylas, grant):
    body = {"meeting_link": MEET, "join_time": reset.now() - 60}
    refused(lambda: nylas.notetakers.invite(request_body=body, identifier=grant["id"]),
            INVITE_PAST_JOIN_TIME_STATUS, "invalid_request_error")


def test_unknown_ids_are_404(reset, nylas, grant):
    gid = grant["id"]
    missing = "0123456789abcdef0123456789abcdef"
    for scope in (gid, None):
        refused(lambda: nylas.notetakers.find(missing, identifier=scope), 404, "not_found_error")
        refused(lambda: nylas.notetakers.update(missing, request_body={"name": "x"}, identifier=scope), 404,
                "not_found_error")
        refused(lambda: nylas.notetakers.cancel(missing, identifier=scope), 404, "not_found_error")
        refused(lambda: nylas.notetakers.leave(missing, identifier=scope), 404, "not_found_error")
        refused(lambda: nylas.notetakers.get_media(missing, identifier=scope), 404, "not_found_error")
        refused(lambda: raw(nylas, "GET", f"{base(scope)}/{missing}/history"), 404, "not_found_error")
        refused(lambda: raw(nylas, "DELETE", f"{base(scope)}/{missing}"), 404, "not_found_error")
    refused(lambda: nylas.notetakers.list(identifier="no-such-grant"), 404)
    refused(lambda: nylas.notetakers.invite(request_body={"meeting_link": MEET}, identifier="no-such-grant"), 404)
    r = requests.post(f"{reset.us_url}/__sim/notetakers/{missing}/state", json={"state": "attending"}, timeout=10)
    assert r.status_code == 404
    bot = invite(nylas, gid)
    r = requests.post(f"{reset.us_url}/__sim/notetakers/{bot.id}/state", json={"state": "asleep"}, timeout=10)
    assert r.status_code == 400
