"""v3 Scheduler contract: configurations (CRUD, validation), sessions (private configurations, deletion,
expiry on the virtual clock), availability (busy events excluded, two participants across a DST change,
round-robin order), bookings (book, find, reschedule, confirm or reject an organizer-confirmation booking,
cancel with a reason, a taken slot refused), public configurations reached without a session, the
`booking.*` notifications, and group events — driven by the unmodified official Python SDK 6.18.0.

What the SDK has, it is used for: `scheduler.configurations`, `scheduler.sessions`, `scheduler.bookings`, and
`events` to see the booked event in the organizer's calendar. What it lacks (scheduling availability, group
events, import, validate-timeslot, should-redirect) goes through the SDK's own transport
(`client.http_client._execute`: same headers, same error parsing). Every response is checked against the
official OpenAPI description by `openapi_check`.

Authentication as the SDK sends it: an API-key client always sends `Authorization: Bearer <api key>`; a
session is used by building a client whose key is the session id; `overrides={"skip_auth": True}` sends no
Authorization header at all (a public configuration reached by its ID alone).

The seeded clock starts at 2026-01-01T09:00:00Z; bookings are made on Monday 2026-01-05, inside open hours of
9:00-13:00 UTC, and on Mondays 2026-03-02/09 around the DST change of America/New_York.
"""
from __future__ import annotations

import base64
import re
import time
import uuid

import pytest
from nylas.models.availability import GetAvailabilityResponse, TimeSlot
from nylas.models.errors import NylasApiError
from nylas.models.response import DeleteResponse, ListResponse, Response
from nylas.models.scheduler import Booking, BookingOrganizer, ConfigParticipant, Configuration, Session

from conftest import Sim
from receiver import Receiver

OWNER = "sched.owner@gmail.com"
OWNER_NAME = "Calendar Owner"
SECOND = "sched.second@outlook.com"
GUEST = "booking.guest@example.com"
H = 3600
MONDAY = 1767571200  # 2026-01-05T00:00:00Z
DAY = {"start": MONDAY, "end": MONDAY + 86400}
MAR2 = 1772409600  # 2026-03-02T00:00:00Z, a Monday in EST (UTC-5)
MAR9 = 1773014400  # 2026-03-09T00:00:00Z, the Monday after DST starts (EDT, UTC-4)
MAR10 = 1773100800
OPEN_MONDAY = {"days": [1], "timezone": "UTC", "start": "9:00", "end": "13:00", "exdates": []}
PUBLIC = {"skip_auth": True}
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


# --- helpers -----------------------------------------------------------------------------------

def world_event(sim: Sim, mailbox: str, **fields) -> dict:
    """An event made in the user's own calendar app (a busy block the Scheduler must respect)."""
    r = sim.http.post(f"{sim.us_url}/__sim/providers/mailboxes/{mailbox}/events", json=fields, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def raw(client, method: str, path: str, body=None, query=None, public: bool = False) -> dict:
    """A request through the SDK's own transport; returns the raw JSON (errors raise NylasApiError)."""
    response_json, _headers = client.http_client._execute(
        method, path, None, query, body, overrides=PUBLIC if public else None)
    return response_json


def availability(client, cfg_id: str | None = None, *, start: int = MONDAY + 8 * H, end: int = MONDAY + 14 * H,
                 public: bool = False, **params) -> dict:
    """`GET /v3/scheduling/availability` (no SDK method in 6.18): the `data` object, `time_slots` never null."""
    query = {"start_time": start, "end_time": end, **params}
    if cfg_id:
        query["configuration_id"] = cfg_id
    resp = raw(client, "GET", "/v3/scheduling/availability", query=query, public=public)
    assert resp["request_id"]
    data = dict(resp["data"])
    data["time_slots"] = data.get("time_slots") or []
    return data


def hours(slots: list[dict], base: int = MONDAY) -> list[int]:
    return [(s["start_time"] - base) // H for s in slots]


def owner_participant(**extra) -> dict:
    return {"name": OWNER_NAME, "email": OWNER, "is_organizer": True,
            "availability": {"calendar_ids": ["primary"]}, "booking": {"calendar_id": "primary"}, **extra}


def config_body(**overrides) -> dict:
    """A one-on-one configuration of the owner: 60-minute meetings on Mondays 9:00-13:00 UTC."""
    body = {
        "requires_session_auth": False,
        "participants": [owner_participant()],
        "availability": {"duration_minutes": 60, "interval_minutes": 60,
                         "availability_rules": {"default_open_hours": [OPEN_MONDAY]}},
        "event_booking": {"title": "Intro call", "description": "A first conversation", "location": "Room 4",
                          "timezone": "UTC", "booking_type": "booking"},
    }
    body.update(overrides)
    return body


def make_config(nylas, grant_id: str, **overrides) -> Configuration:
    created = nylas.scheduler.configurations.create(identifier=grant_id, request_body=config_body(**overrides))
    assert isinstance(created, Response) and created.request_id
    assert isinstance(created.data, Configuration)
    return created.data


def booking_body(start: int, minutes: int = 60, **extra) -> dict:
    return {"start_time": start, "end_time": start + minutes * 60,
            "guest": {"name": "Booking Guest", "email": GUEST}, **extra}


def refused(call, status: int, error_type: str | None = None) -> NylasApiError:
    with pytest.raises(NylasApiError) as e:
        call()
    err = e.value
    assert err.status_code == status, (status, err.status_code, err.args)
    if error_type:
        assert err.type == error_type, (error_type, err.type, err.args)
    assert err.request_id
    return err


def decode_booking_ref(ref: str) -> tuple[str, str, str]:
    """The configuration ID, booking ID and salt packed in a booking reference: base64 of the two UUIDs'
    16 bytes each followed by the salt, whose URL-safe base64 (no padding) is what the confirm call takes."""
    packed = base64.urlsafe_b64decode(ref.replace("+", "-").replace("/", "_") + "=" * (-len(ref) % 4))
    assert len(packed) > 32, ref
    salt = base64.urlsafe_b64encode(packed[32:]).rstrip(b"=").decode()
    return str(uuid.UUID(bytes=packed[:16])), str(uuid.UUID(bytes=packed[16:32])), salt


def deliveries(sim: Sim, **params) -> list[dict]:
    r = sim.http.get(sim.us_url + "/__sim/webhooks/deliveries", params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def wait_deliveries(sim: Sim, count: int, timeout: float = 5.0, **params) -> list[dict]:
    """Polls the delivery journal (wall time) until it holds at least `count` matching attempts."""
    deadline = time.monotonic() + timeout
    while True:
        items = deliveries(sim, **params)
        if len(items) >= count:
            return items
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(items)} deliveries (expected {count}) within {timeout}s: {items}")
        time.sleep(0.02)


def create_hook(nylas, receiver: Receiver, triggers: list[str]) -> str:
    hook = nylas.webhooks.create({"trigger_types": triggers, "webhook_url": receiver.url}).data
    return hook.id


@pytest.fixture
def organizer(reset) -> dict:
    return reset.create_grant(OWNER, "google")


@pytest.fixture
def receiver():
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


# --- configurations ----------------------------------------------------------------------------

def test_configurations_crud(reset, nylas, organizer):
    gid = organizer["id"]
    cfg = make_config(nylas, gid, scheduler={
        "available_days_in_future": 14, "min_booking_notice": 120, "cancellation_policy": "Cancel a day ahead",
        "rescheduling_url": "https://book.example.com/reschedule/:booking_ref"},
        event_booking={"title": "Intro call", "description": "A first conversation", "location": "Room 4",
                       "timezone": "UTC", "reminders": [{"type": "email", "minutes_before_event": 30, "recipient": "guest"}]})
    assert UUID_RE.match(cfg.id), cfg.id
    assert cfg.slug is None and cfg.requires_session_auth is False
    [p] = cfg.participants
    assert isinstance(p, ConfigParticipant)
    assert (p.email, p.name, p.is_organizer) == (OWNER, OWNER_NAME, True)
    assert p.availability.calendar_ids == ["primary"] and p.booking.calendar_id == "primary"
    av = cfg.availability
    assert (av.duration_minutes, av.interval_minutes, av.round_to) == (60, 60, 15)  # round_to: documented default
    assert av.availability_rules["availability_method"] == "collective"  # documented default
    assert av.availability_rules["default_open_hours"] == [OPEN_MONDAY]
    eb = cfg.event_booking
    assert (eb.title, eb.description, eb.location, eb.timezone) == ("Intro call", "A first conversation", "Room 4", "UTC")
    assert eb.booking_type == "booking"  # documented default
    assert [(r.type, r.minutes_before_event, r.recipient) for r in eb.reminders] == [("email", 30, "guest")]
    sch = cfg.scheduler
    assert (sch.available_days_in_future, sch.min_booking_notice, sch.min_cancellation_notice) == (14, 120, 0)
    assert sch.cancellation_policy == "Cancel a day ahead"
    assert sch.rescheduling_url == "https://book.example.com/reschedule/:booking_ref"
    wire = raw(nylas, "GET", f"/v3/grants/{gid}/scheduling/configurations/{cfg.id}")["data"]
    assert wire["id"] == cfg.id and wire["name"] == OWNER_NAME  # the page name defaults to the organizer's name
    assert wire.get("appearance") is None

    second = make_config(nylas, gid, slug="team-intro", event_booking={"title": "Team intro"})
    assert second.slug == "team-intro" and second.event_booking.title == "Team intro"
    listed = nylas.scheduler.configurations.list(gid)
    assert isinstance(listed, ListResponse) and listed.request_id
    assert {c.id for c in listed.data} == {cfg.id, second.id}
    page = nylas.scheduler.configurations.list(gid, query_params={"limit": 1})
    assert len(page.data) == 1 and page.next_cursor
    rest = nylas.scheduler.configurations.list(gid, query_params={"limit": 1, "page_token": page.next_cursor})
    assert {c.id for c in page.data + rest.data} == {cfg.id, second.id} and rest.next_cursor is None

    found = nylas.scheduler.configurations.find(gid, cfg.id)
    assert isinstance(found, Response) and found.request_id
    assert (found.data.id, found.data.event_booking.title) == (cfg.id, "Intro call")

    # PUT: the fields sent replace theirs (a nested object as a whole); the others stay.
    updated = nylas.scheduler.configurations.update(gid, cfg.id, {
        "slug": "intro", "event_booking": {"title": "Intro call (60 min)", "booking_type": "organizer-confirmation"}}).data
    assert updated.id == cfg.id and updated.slug == "intro"
    assert (updated.event_booking.title, updated.event_booking.booking_type) == ("Intro call (60 min)", "organizer-confirmation")
    assert not updated.event_booking.description
    assert updated.participants[0].email == OWNER and updated.availability.duration_minutes == 60
    assert nylas.scheduler.configurations.find(gid, cfg.id).data.event_booking.title == "Intro call (60 min)"

    # Slugs are unique in the application.
    err = refused(lambda: nylas.scheduler.configurations.create(gid, config_body(slug="intro")), 400, "invalid_request_error")
    assert "slug" in err.args[0]

    # A configuration belongs to its grant.
    other = reset.create_grant("someone.else@gmail.com", "google")
    refused(lambda: nylas.scheduler.configurations.find(other["id"], cfg.id), 404, "not_found_error")
    assert nylas.scheduler.configurations.list(other["id"]).data == []

    deleted = nylas.scheduler.configurations.destroy(gid, cfg.id)
    assert isinstance(deleted, DeleteResponse) and deleted.request_id
    refused(lambda: nylas.scheduler.configurations.find(gid, cfg.id), 404, "not_found_error")
    assert [c.id for c in nylas.scheduler.configurations.list(gid).data] == [second.id]


def test_invalid_configurations_are_refused(reset, nylas, organizer):
    gid = organizer["id"]
    base = config_body()
    cases = [
        ({k: v for k, v in base.items() if k != "participants"}, "participants"),
        (config_body(participants=[]), "participants"),
        (config_body(availability={"interval_minutes": 30}), "duration_minutes"),
        (config_body(event_booking={"description": "no title"}), "title"),
        (config_body(event_booking={"title": "x", "booking_type": "instant"}), "booking_type"),
        (config_body(availability={"duration_minutes": 60, "availability_rules": {"availability_method": "random"}}),
         "availability_method"),
        (config_body(availability={"duration_minutes": 60, "availability_rules": {
            "default_open_hours": [{**OPEN_MONDAY, "timezone": "Moon/Tranquility"}]}}), "Moon/Tranquility"),
        # a one-on-one (collective) configuration needs its organizer
        (config_body(participants=[owner_participant(is_organizer=False)]), "organizer"),
        # a participant with availability or booking data must be a grant of the application
        (config_body(participants=[owner_participant(), {"email": "nobody@unknown.example",
                                                         "availability": {"calendar_ids": ["primary"]},
                                                         "booking": {"calendar_id": "primary"}}]),
         "nobody@unknown.example"),
    ]
    for body, mention in cases:
        err = refused(lambda: nylas.scheduler.configurations.create(identifier=gid, request_body=body),
                      400, "invalid_request_error")
        assert mention in err.args[0], (mention, err.args)
    assert nylas.scheduler.configurations.list(gid).data == []

    cfg = make_config(nylas, gid)
    err = refused(lambda: nylas.scheduler.configurations.update(gid, cfg.id, {"availability": {"duration_minutes": 7}}),
                  400, "invalid_request_error")
    assert "duration_minutes" in err.args[0]
    assert nylas.scheduler.configurations.find(gid, cfg.id).data.availability.duration_minutes == 60


# --- availability and bookings of a public configuration ---------------------------------------

def test_public_configuration_booking_lifecycle(reset, us, nylas, organizer, receiver):
    sim = reset
    gid = organizer["id"]
    world_event(sim, OWNER, title="Dentist", when={"start_time": MONDAY + 10 * H, "end_time": MONDAY + 11 * H})
    hook = create_hook(nylas, receiver, ["booking.created", "booking.rescheduled", "booking.cancelled", "event.created"])
    cfg = make_config(nylas, gid, slug="intro-call")
    q = {"configuration_id": cfg.id}

    # Availability: the busy 10:00 hour is excluded; reachable with no credential (by ID, or slug + client
    # ID) and with the application's API key, as the SDK sends it.
    public = availability(nylas, cfg.id, public=True)
    assert hours(public["time_slots"]) == [9, 11, 12]
    parsed = GetAvailabilityResponse.from_dict(public)
    assert all(isinstance(s, TimeSlot) and s.emails == [OWNER] and s.end_time - s.start_time == H
               for s in parsed.time_slots)
    by_slug = availability(nylas, public=True, slug="intro-call", client_id=us.client_id)
    assert hours(by_slug["time_slots"]) == [9, 11, 12]
    assert hours(availability(nylas, cfg.id)["time_slots"]) == [9, 11, 12]

    # Book the free 9:00 slot without any credential.
    created = nylas.scheduler.bookings.create(request_body=booking_body(MONDAY + 9 * H), query_params=q, overrides=PUBLIC)
    assert isinstance(created, Response) and created.request_id
    b = created.data
    assert isinstance(b, Booking)
    assert UUID_RE.match(b.booking_id), b.booking_id
    assert b.event_id
    assert (b.title, b.description, b.status) == ("Intro call", "A first conversation", "booked")
    assert isinstance(b.organizer, BookingOrganizer)
    assert (b.organizer.email, b.organizer.name) == (OWNER, OWNER_NAME)

    # The event is in the organizer's calendar, stamped by the Scheduler.
    ev = nylas.events.find(gid, b.event_id, query_params={"calendar_id": "primary"}).data
    assert (ev.title, ev.description, ev.location, ev.calendar_id) == ("Intro call", "A first conversation", "Room 4", OWNER)
    assert (ev.when.start_time, ev.when.end_time) == (MONDAY + 9 * H, MONDAY + 10 * H)
    assert GUEST in [p.email for p in ev.participants]
    assert (ev.metadata["source"], ev.metadata["key5"]) == ("scheduler", cfg.id)
    assert (ev.metadata["scheduler_last_start"], ev.metadata["scheduler_last_end"]) == (str(MONDAY + 9 * H), str(MONDAY + 10 * H))
    day = nylas.events.list(gid, query_params={"calendar_id": "primary", **DAY}).data
    assert sorted(e.title for e in day) == ["Dentist", "Intro call"]

    got = nylas.scheduler.bookings.find(b.booking_id, query_params=q)
    assert isinstance(got, Response) and got.request_id
    assert (got.data.booking_id, got.data.event_id, got.data.status, got.data.title) == (b.booking_id, b.event_id, "booked", "Intro call")
    assert got.data.organizer.email == OWNER
    assert hours(availability(nylas, cfg.id, public=True)["time_slots"]) == [11, 12]

    # Refused: the slot just booked, the busy hour, a slot of the wrong length.
    for start, minutes, mention in ((MONDAY + 9 * H, 60, "available"), (MONDAY + 10 * H, 60, "available"),
                                    (MONDAY + 11 * H, 30, None)):
        err = refused(lambda: nylas.scheduler.bookings.create(request_body=booking_body(start, minutes), query_params=q,
                                                              overrides=PUBLIC), 400, "invalid_request_error")
        if mention:
            assert mention in err.args[0].lower(), err.args
    assert len(nylas.events.list(gid, query_params={"calendar_id": "primary", **DAY}).data) == 2

    # Reschedule (PATCH): the same event moves.
    moved = nylas.scheduler.bookings.reschedule(b.booking_id, {"start_time": MONDAY + 11 * H, "end_time": MONDAY + 12 * H},
                                                query_params=q)
    assert isinstance(moved, Response) and moved.request_id
    assert (moved.data.booking_id, moved.data.event_id, moved.data.status) == (b.booking_id, b.event_id, "booked")
    ev = nylas.events.find(gid, b.event_id, query_params={"calendar_id": "primary"}).data
    assert (ev.when.start_time, ev.when.end_time) == (MONDAY + 11 * H, MONDAY + 12 * H)
    assert ev.metadata["scheduler_last_start"] == str(MONDAY + 11 * H)
    assert hours(availability(nylas, cfg.id, public=True)["time_slots"]) == [9, 12]
    refused(lambda: nylas.scheduler.bookings.reschedule(b.booking_id, {"start_time": MONDAY + 10 * H,
                                                                       "end_time": MONDAY + 11 * H}, query_params=q),
            400, "invalid_request_error")

    # Cancel (DELETE) with a reason: the event goes, the booking stays as cancelled, the slot is free again.
    gone = nylas.scheduler.bookings.destroy(b.booking_id, {"cancellation_reason": "Plans changed"}, query_params=q,
                                            overrides=PUBLIC)
    assert isinstance(gone, DeleteResponse) and gone.request_id
    refused(lambda: nylas.events.find(gid, b.event_id, query_params={"calendar_id": "primary"}), 404)
    assert nylas.scheduler.bookings.find(b.booking_id, query_params=q).data.status == "cancelled"
    assert hours(availability(nylas, cfg.id, public=True)["time_slots"]) == [9, 11, 12]
    refused(lambda: nylas.scheduler.bookings.destroy(b.booking_id, {"cancellation_reason": "again"}, query_params=q),
            400, "invalid_request_error")

    # Notifications: the event's own event.created, then booking.created / rescheduled / cancelled.
    journal = wait_deliveries(sim, 4, webhook_id=hook)
    assert [d["type"] for d in journal if d["type"].startswith("booking.")] == [
        "booking.created", "booking.rescheduled", "booking.cancelled"]
    by_type = {d["type"]: d["body"] for d in journal}
    assert by_type["event.created"]["data"]["object"]["id"] == b.event_id

    note = by_type["booking.created"]
    assert note["source"] == "/nylas/passthru"
    assert note["data"]["application_id"] == us.application_id and note["data"]["grant_id"] == gid
    obj = note["data"]["object"]
    assert (obj["object"], obj["booking_id"], obj["configuration_id"]) == ("booking", b.booking_id, cfg.id)
    assert decode_booking_ref(obj["booking_ref"])[:2] == (cfg.id, b.booking_id)
    info = obj["booking_info"]
    assert (info["event_id"], info["start_time"], info["end_time"]) == (b.event_id, MONDAY + 9 * H, MONDAY + 10 * H)
    assert (info["title"], info["duration"]) == ("Intro call", 60)
    assert GUEST in [p["email"] for p in info["participants"]]

    resched = by_type["booking.rescheduled"]["data"]["object"]
    assert (resched["booking_id"], resched["configuration_id"]) == (b.booking_id, cfg.id)
    assert decode_booking_ref(resched["booking_ref"])[:2] == (cfg.id, b.booking_id)
    rinfo = resched["booking_info"]
    assert (rinfo["old_start_time"], rinfo["old_end_time"]) == (MONDAY + 9 * H, MONDAY + 10 * H)
    assert (rinfo["start_time"], rinfo["end_time"]) == (MONDAY + 11 * H, MONDAY + 12 * H)

    cancelled = by_type["booking.cancelled"]["data"]["object"]
    assert (cancelled["booking_id"], cancelled["configuration_id"]) == (b.booking_id, cfg.id)
    assert "booking_ref" not in cancelled
    assert cancelled["booking_info"]["cancellation_reason"] == "Plans changed"
    assert cancelled["booking_info"]["event_id"] == b.event_id


def test_slot_taken_between_availability_and_booking(reset, nylas, organizer):
    sim = reset
    gid = organizer["id"]
    cfg = make_config(nylas, gid)
    q = {"configuration_id": cfg.id}
    assert hours(availability(nylas, cfg.id, public=True)["time_slots"]) == [9, 10, 11, 12]
    # The owner fills 12:00 in their own calendar app after the guest saw the slots.
    world_event(sim, OWNER, title="Walk-in", when={"start_time": MONDAY + 12 * H, "end_time": MONDAY + 13 * H})
    err = refused(lambda: nylas.scheduler.bookings.create(request_body=booking_body(MONDAY + 12 * H), query_params=q,
                                                          overrides=PUBLIC), 400, "invalid_request_error")
    assert "available" in err.args[0].lower(), err.args
    assert hours(availability(nylas, cfg.id, public=True)["time_slots"]) == [9, 10, 11]
    ok = nylas.scheduler.bookings.create(request_body=booking_body(MONDAY + 11 * H), query_params=q, overrides=PUBLIC)
    assert ok.data.status == "booked"
    assert sorted(e.title for e in nylas.events.list(gid, query_params={"calendar_id": "primary", **DAY}).data) == [
        "Intro call", "Walk-in"]


# --- sessions and private configurations -------------------------------------------------------

def test_private_configuration_needs_a_session(reset, us, nylas, organizer):
    sim = reset
    gid = organizer["id"]
    world_event(sim, OWNER, title="Dentist", when={"start_time": MONDAY + 10 * H, "end_time": MONDAY + 11 * H})
    cfg = make_config(nylas, gid, requires_session_auth=True, slug="private-intro")
    assert cfg.requires_session_auth is True

    # Without a session the configuration ID alone is not enough.
    refused(lambda: availability(nylas, cfg.id, public=True), 401, "unauthorized")
    refused(lambda: nylas.scheduler.bookings.create(request_body=booking_body(MONDAY + 9 * H),
                                                    query_params={"configuration_id": cfg.id}, overrides=PUBLIC),
            401, "unauthorized")

    session = nylas.scheduler.sessions.create(request_body={"configuration_id": cfg.id, "time_to_live": 10})
    assert isinstance(session, Response) and session.request_id
    assert isinstance(session.data, Session)
    sid = session.data.session_id
    assert isinstance(sid, str) and sid

    # The session names the configuration: no configuration_id needed.
    guest = us.client(api_key=sid)
    assert hours(availability(guest)["time_slots"]) == [9, 11, 12]
    booked = guest.scheduler.bookings.create(request_body=booking_body(MONDAY + 9 * H)).data
    assert isinstance(booked, Booking)
    assert (booked.status, booked.title, booked.organizer.email) == ("booked", "Intro call", OWNER)
    assert guest.scheduler.bookings.find(booked.booking_id).data.status == "booked"
    assert nylas.events.find(gid, booked.event_id, query_params={"calendar_id": "primary"}).data.title == "Intro call"
    assert hours(availability(guest)["time_slots"]) == [11, 12]

    # A configuration with a live session cannot be deleted.
    refused(lambda: nylas.scheduler.configurations.destroy(gid, cfg.id), 400, "invalid_request_error")

    # A deleted session authorizes nothing.
    gone = nylas.scheduler.sessions.destroy(sid)
    assert isinstance(gone, DeleteResponse) and gone.request_id
    refused(lambda: availability(guest), 401, "unauthorized")
    refused(lambda: guest.scheduler.bookings.find(booked.booking_id), 401, "unauthorized")

    # A session by slug; time_to_live is in minutes, counted on the virtual clock.
    short = nylas.scheduler.sessions.create(request_body={"slug": "private-intro", "time_to_live": 1}).data.session_id
    short_client = us.client(api_key=short)
    assert hours(availability(short_client)["time_slots"]) == [11, 12]
    sim.advance("59s")
    assert hours(availability(short_client)["time_slots"]) == [11, 12]
    sim.advance("2s")
    refused(lambda: availability(short_client), 401, "unauthorized")

    # Bad session requests.
    refused(lambda: nylas.scheduler.sessions.create(request_body={"configuration_id": cfg.id, "time_to_live": 31}),
            400, "invalid_request_error")
    refused(lambda: nylas.scheduler.sessions.create(request_body={"time_to_live": 5}), 400, "invalid_request_error")
    refused(lambda: nylas.scheduler.sessions.create(request_body={"configuration_id": str(uuid.uuid4())}),
            404, "not_found_error")

    # No live session is left: the configuration can go.
    deleted = nylas.scheduler.configurations.destroy(gid, cfg.id)
    assert isinstance(deleted, DeleteResponse) and deleted.request_id


# --- organizer confirmation, rejection and reminders -------------------------------------------

def test_organizer_confirmation_flow(reset, us, nylas, organizer, receiver):
    sim = reset
    gid = organizer["id"]
    hook = create_hook(nylas, receiver, ["booking.pending", "booking.created", "booking.cancelled", "booking.reminder"])
    cfg = make_config(nylas, gid, event_booking={
        "title": "Consultation", "description": "Needs approval", "timezone": "UTC",
        "booking_type": "organizer-confirmation", "reminders": [{"type": "webhook", "minutes_before_event": 60}]})
    q = {"configuration_id": cfg.id}

    first = nylas.scheduler.bookings.create(request_body=booking_body(MONDAY + 9 * H), query_params=q).data
    assert (first.status, first.title, first.organizer.email) == ("pending", "Consultation", OWNER)
    # The pending placeholder is in the organizer's calendar and holds the slot.
    assert nylas.events.find(gid, first.event_id, query_params={"calendar_id": "primary"}).data.id == first.event_id
    assert hours(availability(nylas, cfg.id, public=True)["time_slots"]) == [10, 11, 12]
    assert nylas.scheduler.bookings.find(first.booking_id, query_params=q).data.status == "pending"

    pending = wait_deliveries(sim, 1, webhook_id=hook)[0]["body"]
    assert pending["type"] == "booking.pending" and pending["source"] == "/nylas/passthru"
    obj = pending["data"]["object"]
    assert (obj["booking_id"], obj["configuration_id"], obj["booking_type"]) == (
        first.booking_id, cfg.id, "organizer-confirmation")
    assert obj["booking_info"]["start_time"] == MONDAY + 9 * H
    ref_cfg, ref_booking, salt = decode_booking_ref(obj["booking_ref"])
    assert (ref_cfg, ref_booking) == (cfg.id, first.booking_id) and salt

    refused(lambda: nylas.scheduler.bookings.confirm(first.booking_id, {"salt": "not-the-salt", "status": "confirmed"},
                                                     query_params=q), 400, "invalid_request_error")
    confirmed = nylas.scheduler.bookings.confirm(first.booking_id, {"salt": salt, "status": "confirmed"}, query_params=q)
    assert isinstance(confirmed, Response) and confirmed.request_id
    assert (confirmed.data.booking_id, confirmed.data.event_id, confirmed.data.status) == (
        first.booking_id, first.event_id, "booked")
    ev = nylas.events.find(gid, first.event_id, query_params={"calendar_id": "primary"}).data
    assert (ev.title, ev.status) == ("Consultation", "confirmed")
    assert (ev.when.start_time, ev.when.end_time) == (MONDAY + 9 * H, MONDAY + 10 * H)
    assert nylas.scheduler.bookings.find(first.booking_id, query_params=q).data.status == "booked"
    # Only a pending booking can be confirmed.
    refused(lambda: nylas.scheduler.bookings.confirm(first.booking_id, {"salt": salt, "status": "confirmed"},
                                                     query_params=q), 400, "invalid_request_error")

    # A second request, rejected by the organizer.
    second = nylas.scheduler.bookings.create(request_body=booking_body(MONDAY + 11 * H), query_params=q).data
    assert second.status == "pending"
    notes = wait_deliveries(sim, 3, webhook_id=hook)
    [second_pending] = [d["body"]["data"]["object"] for d in notes
                        if d["type"] == "booking.pending" and d["body"]["data"]["object"]["booking_id"] == second.booking_id]
    salt2 = decode_booking_ref(second_pending["booking_ref"])[2]
    rejected = nylas.scheduler.bookings.confirm(second.booking_id, {
        "salt": salt2, "status": "cancelled", "cancellation_reason": "Fully booked that day"}, query_params=q)
    assert (rejected.data.booking_id, rejected.data.status) == (second.booking_id, "cancelled")
    refused(lambda: nylas.events.find(gid, second.event_id, query_params={"calendar_id": "primary"}), 404)
    assert hours(availability(nylas, cfg.id, public=True)["time_slots"]) == [10, 11, 12]

    journal = wait_deliveries(sim, 4, webhook_id=hook)
    assert [d["type"] for d in journal] == ["booking.pending", "booking.created", "booking.pending", "booking.cancelled"]
    assert journal[1]["body"]["data"]["object"]["booking_id"] == first.booking_id
    rejection = journal[3]["body"]["data"]["object"]
    assert rejection["booking_id"] == second.booking_id
    assert rejection["booking_info"]["cancellation_reason"] == "Fully booked that day"

    # The webhook reminder fires an hour before the confirmed booking, on the virtual clock.
    sim.control("POST", "/__sim/clock", {"to": MONDAY + 8 * H - 60})
    assert len(deliveries(sim, webhook_id=hook)) == 4
    sim.control("POST", "/__sim/clock", {"to": MONDAY + 8 * H})
    reminder = wait_deliveries(sim, 5, webhook_id=hook)[4]["body"]
    assert reminder["type"] == "booking.reminder" and reminder["time"] == MONDAY + 8 * H
    robj = reminder["data"]["object"]
    assert (robj["booking_id"], robj["configuration_id"]) == (first.booking_id, cfg.id)
    rinfo = robj["booking_info"]
    assert (rinfo["event_id"], rinfo["start_time"], rinfo["time_until_event"]) == (first.event_id, MONDAY + 9 * H, 3600)


# --- bad booking and availability requests -----------------------------------------------------

def test_bad_booking_and_availability_requests(reset, nylas, organizer):
    gid = organizer["id"]
    cfg = make_config(nylas, gid)
    q = {"configuration_id": cfg.id}
    ok = booking_body(MONDAY + 9 * H)

    def book(body, query=q):
        return nylas.scheduler.bookings.create(request_body=body, query_params=query, overrides=PUBLIC)

    cases = [
        (lambda: book({k: v for k, v in ok.items() if k != "guest"}), 400, "guest"),
        (lambda: book({**ok, "guest": {"name": "No Address"}}), 400, "email"),
        (lambda: book({k: v for k, v in ok.items() if k != "end_time"}), 400, "end_time"),
        (lambda: book({**ok, "participants": [{"email": "stranger@example.com"}]}), 400, "stranger@example.com"),
        (lambda: book({**ok, "email_language": "xx"}), 400, "email_language"),
        # beyond available_days_in_future (30 by default): Monday 2026-02-09
        (lambda: book(booking_body(MONDAY + 35 * 86400 + 9 * H)), 400, "available"),
        (lambda: book(ok, {"configuration_id": str(uuid.uuid4())}), 404, None),
        (lambda: raw(nylas, "GET", "/v3/scheduling/availability", public=True,
                     query={"end_time": MONDAY + 14 * H, "configuration_id": cfg.id}), 400, "start_time"),
        (lambda: availability(nylas, cfg.id, public=True, start=MONDAY + 14 * H, end=MONDAY + 8 * H), 400, None),
        (lambda: availability(nylas, str(uuid.uuid4()), public=True), 404, None),
        (lambda: nylas.scheduler.bookings.find(str(uuid.uuid4()), query_params=q), 404, None),
    ]
    for call, status, mention in cases:
        err = refused(call, status, "invalid_request_error" if status == 400 else "not_found_error")
        if mention:
            assert mention in err.args[0].lower(), (mention, err.args)
    assert nylas.events.list(gid, query_params={"calendar_id": "primary", **DAY}).data == []

    # min_booking_notice: a week's notice leaves nothing bookable on Monday (3 days away).
    notice = make_config(nylas, gid, scheduler={"min_booking_notice": 7 * 24 * 60})
    assert availability(nylas, notice.id, public=True)["time_slots"] == []
    err = refused(lambda: book(ok, {"configuration_id": notice.id}), 400, "invalid_request_error")
    assert "available" in err.args[0].lower()


# --- several participants: DST and round-robin -------------------------------------------------

def test_two_participants_across_dst(reset, nylas, organizer):
    sim = reset
    gid = organizer["id"]
    sim.create_grant(SECOND, "microsoft")
    # The second host is busy 9:00-10:00 New York time on 2026-03-09 (EDT: 13:00Z).
    world_event(sim, SECOND, title="Standup", when={"start_time": MAR9 + 13 * H, "end_time": MAR9 + 14 * H})
    ny = {"days": [1], "timezone": "America/New_York", "start": "9:00", "end": "11:00", "exdates": []}
    second = {"name": "Second Host", "email": SECOND, "availability": {"calendar_ids": ["primary"]},
              "booking": {"calendar_id": "primary"}}
    cfg = make_config(nylas, gid, participants=[owner_participant(), second],
                      availability={"duration_minutes": 60, "interval_minutes": 60,
                                    "availability_rules": {"default_open_hours": [ny]}},
                      event_booking={"title": "Pair review", "timezone": "America/New_York"},
                      scheduler={"available_days_in_future": 90})

    # Collective: both free. 9:00-11:00 New York is 14:00-16:00Z before the change, 13:00-15:00Z after.
    collective = availability(nylas, cfg.id, public=True, start=MAR2, end=MAR10)["time_slots"]
    assert [s["start_time"] for s in collective] == [MAR2 + 14 * H, MAR2 + 15 * H, MAR9 + 14 * H]
    assert all(s["emails"] == [OWNER, SECOND] and s["end_time"] - s["start_time"] == H for s in collective)

    # Round-robin (max-fairness, no organizer): either host free is enough, with the order of who is next.
    nylas.scheduler.configurations.update(gid, cfg.id, {
        "participants": [owner_participant(is_organizer=False), second],
        "availability": {"duration_minutes": 60, "interval_minutes": 60,
                         "availability_rules": {"availability_method": "max-fairness", "default_open_hours": [ny]}}})
    rr = availability(nylas, cfg.id, public=True, start=MAR2, end=MAR10)
    assert [s["start_time"] for s in rr["time_slots"]] == [MAR2 + 14 * H, MAR2 + 15 * H, MAR9 + 13 * H, MAR9 + 14 * H]
    assert sorted(rr["order"]) == sorted([OWNER, SECOND])
    [early] = [s for s in rr["time_slots"] if s["start_time"] == MAR9 + 13 * H]
    assert early["emails"] == [OWNER]


# --- group events (no SDK methods: raw calls, kept minimal) ------------------------------------

def test_group_events(reset, nylas, organizer):
    sim = reset
    gid = organizer["id"]
    base = f"/v3/grants/{gid}/scheduling/configurations"
    group = raw(nylas, "POST", base, {"type": "group", "name": "Reading circle", "requires_session_auth": False,
                                      "group_booking": {"calendar_id": "primary", "booking_type": "booking"}})["data"]
    assert UUID_RE.match(group["id"]), group
    assert (group["type"], group["name"], group["group_booking"]["calendar_id"]) == ("group", "Reading circle", "primary")
    gpath = f"{base}/{group['id']}/group-events"

    ge = raw(nylas, "POST", gpath, {
        "calendar_id": "primary", "title": "Circle night", "capacity": 2,
        "participants": [{"email": OWNER, "name": OWNER_NAME, "is_organizer": True}],
        "when": {"start_time": MONDAY + 15 * H, "end_time": MONDAY + 16 * H, "start_timezone": "UTC", "end_timezone": "UTC"}})["data"]
    assert ge["id"] and (ge["title"], ge["capacity"]) == ("Circle night", 2)
    assert (ge["when"]["start_time"], ge["when"]["end_time"]) == (MONDAY + 15 * H, MONDAY + 16 * H)
    window = {"calendar_id": "primary", "start_time": MONDAY, "end_time": MONDAY + 86400}
    assert [e["id"] for e in raw(nylas, "GET", gpath, query=window)["data"]] == [ge["id"]]
    assert nylas.events.find(gid, ge["id"], query_params={"calendar_id": "primary"}).data.title == "Circle night"

    # The availability of a group configuration is its group events.
    slots = availability(nylas, group["id"], public=True, start=MONDAY, end=MONDAY + 86400)["time_slots"]
    assert [(s["event_id"], s["start_time"], s["end_time"]) for s in slots] == [(ge["id"], MONDAY + 15 * H, MONDAY + 16 * H)]

    vpath = f"/v3/scheduling/configurations/{group['id']}/group-events/validate-timeslot"
    assert raw(nylas, "POST", vpath, {"calendar_id": "primary", "event_id": ge["id"], "capacity": 2})["request_id"]
    updated = raw(nylas, "PUT", f"{gpath}/{ge['id']}", {"capacity": 3})["data"]
    assert (updated["id"], updated["capacity"], updated["title"]) == (ge["id"], 3, "Circle night")
    # The capacity the guest saw changed: the time slot is no longer valid.
    refused(lambda: raw(nylas, "POST", vpath, {"calendar_id": "primary", "event_id": ge["id"], "capacity": 2}),
            400, "invalid_request_error")
    assert raw(nylas, "POST", vpath, {"calendar_id": "primary", "event_id": ge["id"], "capacity": 3})["request_id"]

    # Import an event already in the calendar, once.
    world_event(sim, OWNER, title="Guest reading", when={"start_time": MONDAY + 17 * H, "end_time": MONDAY + 18 * H})
    [talk] = nylas.events.list(gid, query_params={"calendar_id": "primary", **DAY, "title": "Guest reading"}).data
    ipath = f"/v3/scheduling/configurations/{group['id']}/import-group-events"
    imported = raw(nylas, "POST", ipath, {"calendar_id": "primary", "event_id": talk.id, "capacity": 5})["data"]
    assert imported["imported_events"] == [{"event_id": talk.id}] and not imported.get("import_failed")
    again = raw(nylas, "POST", ipath, {"calendar_id": "primary", "event_id": talk.id, "capacity": 5})["data"]
    assert not again.get("imported_events") and [f["event_id"] for f in again["import_failed"]] == [talk.id]
    assert sorted(e["id"] for e in raw(nylas, "GET", gpath, query=window)["data"]) == sorted([ge["id"], talk.id])

    assert raw(nylas, "DELETE", f"{gpath}/{ge['id']}")["request_id"]
    assert [e["id"] for e in raw(nylas, "GET", gpath, query=window)["data"]] == [talk.id]
    refused(lambda: raw(nylas, "POST", vpath, {"calendar_id": "primary", "event_id": ge["id"], "capacity": 3}),
            400, "invalid_request_error")


def test_v2_redirect_of_an_unknown_page(reset, nylas):
    refused(lambda: raw(nylas, "GET", "/v3/scheduling/should-redirect/never-migrated"), 404, "not_found_error")
