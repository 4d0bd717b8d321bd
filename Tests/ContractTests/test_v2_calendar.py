"""v2 contract, calendar half: the UNMODIFIED official legacy Python SDK (`nylas-legacy==5.15.0`)
against the TLS simulator of test_v2.py (its fixtures and helpers are reused from there).

Covered with the SDK's own methods: calendars (list, create, get, update, delete, the read-only
calendar's error), events (create with `notify_participants`, get, update, delete, `when` shapes,
recurring with its own timezone and `expand_recurring`, `Event.rsvp` by an invited account),
contacts (typed lists, birthday, update, delete, picture), `free_busy`, `availability` with
`open_hours`, `consecutive_availability`, the outbox (`send`, `update`, `delete`) and job statuses.
"""
from __future__ import annotations

import time
from datetime import date

import pytest
from nylas_legacy.client.errors import NylasApiError
from nylas_legacy.client.restful_models import Calendar, Contact, Event, JobStatus

from test_v2 import (  # noqa: F401  (pytest fixtures are found by name in this module)
    GMAIL,
    admin,
    app,
    error_body,
    gmail,
    hosted_auth,
    sdk_error,
    tls_sim,
    v2,
)

GUEST = "guest.person@gmail.com"
# Monday 2026-03-02 09:00 in New York (14:00Z); US daylight saving time starts on 2026-03-08.
MONDAY_NY_9AM = 1_772_460_000
WEEK = 7 * 86400


def primary_calendar(client) -> Calendar:
    calendars = client.calendars.all()
    return next(c for c in calendars if c.is_primary)


# --- calendars ---------------------------------------------------------------------------------

def test_calendars_crud_and_read_only(v2, gmail):
    calendars = gmail.calendars.all()
    assert all(isinstance(c, Calendar) for c in calendars)
    primary = next(c for c in calendars if c.is_primary)
    assert primary.account_id == gmail.account.id
    assert len(primary.id) == 25
    holidays = next(c for c in calendars if c.read_only)

    cal = gmail.calendars.create()
    cal.name = "Side projects"
    cal.description = "evenings"
    cal.metadata = {"team": "core"}
    cal.save()
    assert cal.id and cal.job_status_id
    got = gmail.calendars.get(cal.id)
    assert (got.name, got.description, got.metadata, got.read_only, got.is_primary) == \
        ("Side projects", "evenings", {"team": "core"}, False, False)
    got.name = "Weekend projects"
    got.save()
    assert gmail.calendars.get(cal.id).name == "Weekend projects"
    assert [c.id for c in gmail.calendars.where(metadata_pair={"team": "core"}).all()] == [cal.id]

    holidays.name = "Mine now"
    with pytest.raises(NylasApiError) as e:
        holidays.save()
    assert sdk_error(e, 400)["message"] == "Cannot update read_only calendar."

    gmail.calendars.delete(cal.id)
    with pytest.raises(NylasApiError) as e:
        gmail.calendars.get(cal.id)
    sdk_error(e, 404)
    r = v2.raw("GET", "/calendars/" + cal.id, token=gmail.access_token)
    assert r.status_code == 404 and error_body(r)["message"] == f"Couldn't find calendar {cal.id}"


# --- events ------------------------------------------------------------------------------------

def test_events_create_update_delete(v2, gmail):
    cal = primary_calendar(gmail)
    ev = gmail.events.create()
    ev.calendar_id = cal.id
    ev.title = "Planning"
    ev.location = "Room 1"
    ev.when = {"start_time": 1_767_625_200, "end_time": 1_767_628_800}
    ev.participants = [{"email": "Someone@Example.com", "name": "Someone"}]
    ev.metadata = {"k": "v"}
    ev.save(notify_participants="false")
    assert isinstance(ev, Event) and ev.id and ev.job_status_id
    assert ev.when["object"] == "timespan"
    assert ev.participants == [{"name": "Someone", "email": "someone@example.com", "status": "noreply",
                                "comment": None, "phone_number": None}]
    assert ev.owner.endswith(f"<{GMAIL}>") and ev.ical_uid and ev.status == "confirmed"

    # The SDK sends the whole object back (the `when` without `object`, participants without status).
    ev.title = "Planning v2"
    ev.save()
    fetched = gmail.events.get(ev.id)
    assert fetched.title == "Planning v2" and fetched.location == "Room 1" and fetched.metadata == {"k": "v"}
    assert [e.id for e in gmail.events.where(calendar_id=cal.id, title="Planning").all()] == [ev.id]
    assert [e.id for e in gmail.events.where(starts_after=1_767_600_000, ends_before=1_767_700_000).all()] == [ev.id]

    day = gmail.events.create()
    day.calendar_id = cal.id
    day.title = "Offsite"
    day.when = {"start_date": "2026-01-07", "end_date": "2026-01-07"}
    day.save()
    assert day.when == {"object": "date", "date": "2026-01-07"}

    bad = gmail.events.create()
    bad.calendar_id = cal.id
    bad.when = {"start_time": 10, "end_time": 5}
    with pytest.raises(NylasApiError) as e:
        bad.save()
    assert sdk_error(e, 400)["message"] == "'start_time' must be < 'end_time'."
    holidays = next(c for c in gmail.calendars.all() if c.read_only)
    bad.calendar_id = holidays.id
    bad.when = {"time": 1_767_625_200}
    with pytest.raises(NylasApiError) as e:
        bad.save()
    assert sdk_error(e, 400)["message"] == "Can't create events on read_only calendar."

    gmail.events.delete(ev.id, notify_participants="false")
    with pytest.raises(NylasApiError) as e:
        gmail.events.get(ev.id)
    sdk_error(e, 404)


def test_recurring_event_keeps_its_timezone(v2, gmail):
    cal = primary_calendar(gmail)
    ev = gmail.events.create()
    ev.calendar_id = cal.id
    ev.title = "Standup"
    ev.when = {"start_time": MONDAY_NY_9AM, "end_time": MONDAY_NY_9AM + 1800}
    ev.recurrence = {"rrule": ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3"], "timezone": "America/New_York"}
    ev.save()
    assert ev.recurrence == {"rrule": ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3"], "timezone": "America/New_York"}

    masters = gmail.events.where(calendar_id=cal.id).all()
    assert [m.id for m in masters] == [ev.id]
    instances = gmail.events.where(calendar_id=cal.id, expand_recurring=True).all()
    # 09:00 New York each week: 14:00Z, then 13:00Z once daylight saving time starts.
    assert [i.when["start_time"] for i in instances] == [MONDAY_NY_9AM, MONDAY_NY_9AM + WEEK - 3600,
                                                         MONDAY_NY_9AM + 2 * WEEK - 3600]
    assert all(i.master_event_id == ev.id and i.recurrence is None for i in instances)
    assert instances[1].original_start_at is not None

    # One instance changed by its own ID; the series goes on.
    second = instances[1]
    second.title = "Standup (moved)"
    second.save()
    titles = [i.title for i in gmail.events.where(calendar_id=cal.id, expand_recurring=True).all()]
    assert titles == ["Standup", "Standup (moved)", "Standup"]


def test_rsvp_by_an_invited_account(v2, app, gmail):
    guest, _ = hosted_auth(v2, app, GUEST, provider="gmail")
    ev = gmail.events.create()
    ev.calendar_id = primary_calendar(gmail).id
    ev.title = "Review"
    ev.when = {"start_time": 1_767_625_200, "end_time": 1_767_628_800}
    ev.participants = [{"email": GUEST, "name": "Guest"}]
    ev.save(notify_participants="true")

    own = gmail.events.get(ev.id)
    with pytest.raises(ValueError):
        own.rsvp("yes")  # the organizer's own event came from no invitation (the SDK checks message_id)

    copy = guest.events.where(title="Review").first()
    assert copy.id != ev.id and copy.ical_uid == ev.ical_uid and copy.message_id
    # `Event.rsvp` posts through the client's bare `requests.Session`, which carries no
    # `Authorization` in nylas-legacy 5.15.0: the API answers 401 as it does for any call
    # without a credential.
    with pytest.raises(NylasApiError) as e:
        copy.rsvp("yes")
    assert sdk_error(e, 401)["message"] == "Could not verify access credential."
    # With the token on that session (the usual workaround), the SDK's own call goes through.
    guest.session.headers["Authorization"] = f"Bearer {guest.access_token}"
    answered = copy.rsvp("yes", "See you there")
    assert answered["participants"][0]["status"] == "yes"
    assert gmail.events.get(ev.id).participants[0]["status"] == "yes"
    with pytest.raises(ValueError):
        copy.rsvp("perhaps")
    r = v2.raw("POST", "/send-rsvp", token=guest.access_token, json={"event_id": copy.id, "status": "perhaps"})
    assert r.status_code == 400 and error_body(r)["message"] == "Invalid status perhaps"
    subjects = [m.subject for m in gmail.messages.all()]
    assert any(s.startswith("Accepted: Review") for s in subjects), subjects


# --- contacts ----------------------------------------------------------------------------------

def test_contacts(v2, gmail):
    c = gmail.contacts.create()
    c.given_name = "Charlie"
    c.surname = "Bucket"
    c.job_title = "Student"
    c.birthday = date(1964, 10, 5)
    c.emails["work"].append("charlie@example.com")
    c.emails["personal"].append("c@home.example")
    c.phone_numbers["mobile"].append("+1 555 0100")
    c.physical_addresses["home"].append({"type": "home", "format": "structured", "street_address": "1 Chocolate Way",
                                         "city": "Town", "state": "CA", "postal_code": "90000", "country": "US"})
    c.web_pages["profile"].append("https://example.com/charlie")
    c.save()
    assert isinstance(c, Contact) and c.id and c.job_status_id

    got = gmail.contacts.get(c.id)
    assert got.birthday == date(1964, 10, 5)
    assert dict(got.emails) == {"work": ["charlie@example.com"], "personal": ["c@home.example"]}
    assert dict(got.phone_numbers) == {"mobile": ["+1 555 0100"]}
    assert got.physical_addresses["home"][0]["postal_code"] == "90000"
    assert got.source == "address_book"
    assert got.get_picture() is None

    got.nickname = "Charlie B"
    got.save()
    assert gmail.contacts.get(c.id).nickname == "Charlie B"
    assert [x.id for x in gmail.contacts.where(email="charlie@example.com").all()] == [c.id]
    assert gmail.contacts.where(email="nobody@example.com").all() == []
    groups = v2.raw("GET", "/contacts/groups", token=gmail.access_token)
    assert groups.status_code == 200 and all(g["object"] == "contact_group" for g in groups.json())

    bad = gmail.contacts.create()
    bad.emails["work"].append("not an address")
    with pytest.raises(NylasApiError) as e:
        bad.save()
    sdk_error(e, 400)

    gmail.contacts.delete(c.id)
    with pytest.raises(NylasApiError) as e:
        gmail.contacts.get(c.id)
    sdk_error(e, 404)


# --- free/busy and availability -----------------------------------------------------------------

def test_free_busy_and_availability(v2, gmail):
    ev = gmail.events.create()
    ev.calendar_id = primary_calendar(gmail).id
    ev.title = "Busy"
    ev.when = {"start_time": 1_767_625_200, "end_time": 1_767_628_800}  # Monday 2026-01-05 15:00–16:00Z
    ev.save()

    fb = gmail.free_busy([GMAIL], 1_767_600_000, 1_767_700_000)
    assert fb == [{"object": "free_busy", "email": GMAIL, "time_slots": [
        {"object": "time_slot", "status": "busy", "start_time": 1_767_625_200, "end_time": 1_767_628_800}]}]

    hours = gmail.open_hours([GMAIL], [0], "UTC", "9:00", "17:00")  # Mondays (0 = Monday in v2)
    avail = gmail.availability([GMAIL], 60, 60, 1_767_618_000, 1_767_632_400, open_hours=[hours])
    assert avail["object"] == "availability"
    starts = [s["start_time"] for s in avail["time_slots"]]
    assert starts == [1_767_618_000, 1_767_621_600, 1_767_628_800], avail  # 13:00, 14:00, 16:00 (15:00 is busy)
    assert all(s["status"] == "free" and s["emails"] == [GMAIL] for s in avail["time_slots"])

    consecutive = gmail.consecutive_availability([[GMAIL], ["other@example.com"]], 30, 30, 1_767_618_000, 1_767_625_200)
    assert consecutive and all(len(seq) == 2 and seq[0]["end_time"] == seq[1]["start_time"] for seq in consecutive)

    r = v2.raw("POST", "/calendars/free-busy", token=gmail.access_token, json={"start_time": 1, "end_time": 2})
    assert r.status_code == 400 and error_body(r)["type"] == "invalid_request_error"


# --- outbox and job statuses ---------------------------------------------------------------------

def test_outbox_and_job_statuses(v2, app):
    # The SDK checks send_at against the machine's clock: bring the virtual clock there first.
    wall = int(time.time())
    if v2.now() < wall:
        v2.control("POST", "/__sim/clock", {"to": wall})
    client, _ = hosted_auth(v2, app, GMAIL, provider="gmail")

    draft = client.drafts.create()
    draft.to = [{"name": "Ann", "email": "ann@example.com"}]
    draft.subject = "Scheduled hello"
    draft.body = "Hi Ann"
    send_at = max(wall, v2.now()) + 3600
    job = client.outbox.send(draft, send_at)
    assert job.status == "pending" and job.job_status_id
    assert job.original_data["send_at"] == send_at

    job = client.outbox.update(job.job_status_id, send_at=send_at + 600)
    assert job.original_data["send_at"] == send_at + 600

    other = client.outbox.send(draft, send_at + 60)
    client.outbox.delete(other.job_status_id)

    v2.control("POST", "/__sim/clock", {"to": send_at + 700})
    status = client.job_statuses.get(job.job_status_id)
    assert isinstance(status, JobStatus) and status.is_successful()
    assert status.object == "message"
    sent = client.messages.get(status.metadata["message_id"])
    assert sent.subject == "Scheduled hello"
    assert client.job_statuses.get(other.job_status_id).status == "cancelled"
    assert {s.job_status_id for s in client.job_statuses.all()} >= {job.job_status_id, other.job_status_id}

    with pytest.raises(NylasApiError) as e:
        client.job_statuses.get("nope")
    sdk_error(e, 404)


def test_room_resources(v2, app):
    """`client.room_resources` (GET /resources): the rooms of the account's domain, v2 strings; the
    account needs the `room_resources.read_only` scope."""
    gmail, _ = hosted_auth(v2, app, "rooms@gmail.com", provider="gmail",
                           scopes=("email", "calendar", "room_resources.read_only"))
    from nylas_legacy.client.restful_models import RoomResource
    for email, name in (("atlas@gmail.com", "Atlas"), ("cove@other.example", "Cove")):
        v2.control("POST", "/__sim/providers/resources",
                   {"email": email, "name": name, "capacity": 8, "building": "HQ", "floor_name": "2", "floor_number": 2})
    rooms = gmail.room_resources.all()
    assert all(isinstance(r, RoomResource) for r in rooms)
    assert [(r.email, r.name, r.capacity, r.building, r.floor_name, r.floor_number) for r in rooms] == [
        ("atlas@gmail.com", "Atlas", "8", "HQ", "2", "2")]
