"""v3 calendar contract: calendars CRUD, events (each `when` shape, recurring series expanded across a
DST change, occurrence edits, moves), RSVP, free/busy, availability and contacts — driven by the
unmodified official Python SDK 6.18.0 with the application's API key.

Provider-side data (an organizer's invitation, busy blocks, other people's calendars) is made from
outside through the control API (`/__sim/providers/mailboxes/{email}/events|contacts`) and the calendar
fixture (`POST /__sim/fixtures/calendar`); grants come from `POST /__sim/grants`. The seeded clock starts
at 2026-01-01T09:00:00Z, so the events below are in the future and every list passes `start`/`end`.
"""
from __future__ import annotations

from urllib.parse import quote

import pytest
from nylas.models.availability import GetAvailabilityResponse
from nylas.models.calendars import Calendar
from nylas.models.contacts import Contact, ContactGroup
from nylas.models.errors import NylasApiError
from nylas.models.events import Date, Datespan, Event, Time, Timespan
from nylas.models.free_busy import FreeBusy, FreeBusyError
from nylas.models.response import DeleteResponse, ListResponse, RequestIdOnlyResponse, Response

from conftest import REPO_ROOT, Sim

OWNER = "cal.owner@gmail.com"
FIXTURE = REPO_ROOT / "fixtures" / "calendar.json"
MONDAY = 1767571200  # 2026-01-05T00:00:00Z
WINDOW = {"start": 1767225600, "end": 1780000000}


def world_event(sim: Sim, mailbox: str, **fields) -> dict:
    """An event made in the user's own calendar app (or an invitation landing there)."""
    r = sim.http.post(f"{sim.us_url}/__sim/providers/mailboxes/{mailbox}/events", json=fields, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def grant(reset) -> dict:
    return reset.create_grant(OWNER, "google")


# --- calendars ---------------------------------------------------------------------------------

def test_calendars_crud(grant, nylas):
    gid = grant["id"]
    listed = nylas.calendars.list(gid)
    assert isinstance(listed, ListResponse) and listed.request_id
    assert [c.is_primary for c in listed.data] == [True, False]
    primary = nylas.calendars.find(gid, "primary").data
    assert isinstance(primary, Calendar)
    assert primary.id == OWNER and primary.is_primary and not primary.read_only and primary.is_owned_by_user
    holidays = listed.data[1]
    assert holidays.read_only and not holidays.is_owned_by_user

    created = nylas.calendars.create(gid, {"name": "Projects", "description": "Side projects", "location": "Dublin",
                                           "timezone": "Europe/Dublin", "metadata": {"key1": "projects"}})
    cal = created.data
    assert isinstance(cal, Calendar) and created.request_id
    assert (cal.name, cal.timezone, cal.metadata, cal.is_primary) == ("Projects", "Europe/Dublin", {"key1": "projects"}, False)
    assert cal.id.endswith("@group.calendar.google.com")
    # The SDK's TypedDict spells the colors hexColor; the simulator takes both spellings.
    updated = nylas.calendars.update(gid, cal.id, {"name": "Projects 2026", "hexColor": "#0B8043"}).data
    assert (updated.name, updated.hex_color, updated.metadata) == ("Projects 2026", "#0B8043", {"key1": "projects"})
    assert nylas.calendars.find(gid, cal.id).data.name == "Projects 2026"
    assert [c.name for c in nylas.calendars.list(gid, query_params={"metadata_pair": {"key1": "projects"}}).data] == ["Projects 2026"]
    assert nylas.calendars.find(gid, OWNER).data.is_primary  # the address names the primary calendar

    with pytest.raises(NylasApiError) as e:
        nylas.calendars.update(gid, quote(holidays.id, safe=""), {"name": "Mine now"})
    assert e.value.status_code == 403
    with pytest.raises(NylasApiError) as e:
        nylas.calendars.destroy(gid, "primary")
    assert e.value.status_code == 400 and "primary" in e.value.args[0]
    with pytest.raises(NylasApiError) as e:
        nylas.calendars.create(gid, {"name": "Bad zone", "timezone": "Atlantis/Capital"})
    assert e.value.status_code == 400 and e.value.type == "invalid_request_error"

    deleted = nylas.calendars.destroy(gid, cal.id)
    assert isinstance(deleted, DeleteResponse) and deleted.request_id
    with pytest.raises(NylasApiError) as e:
        nylas.calendars.find(gid, cal.id)
    assert e.value.status_code == 404


# --- events ------------------------------------------------------------------------------------

def test_each_when_shape(grant, nylas):
    gid = grant["id"]
    q = {"calendar_id": "primary"}
    shapes = {
        "time": ({"time": MONDAY + 8 * 3600, "timezone": "America/New_York"}, Time),
        "timespan": ({"start_time": MONDAY + 9 * 3600, "end_time": MONDAY + 10 * 3600,
                      "start_timezone": "Europe/Dublin", "end_timezone": "Europe/Dublin"}, Timespan),
        "date": ({"date": "2026-01-06"}, Date),
        "datespan": ({"start_date": "2026-01-07", "end_date": "2026-01-09"}, Datespan),
    }
    ids = {}
    for title, (when, cls) in shapes.items():
        ev = nylas.events.create(gid, {"title": title, "when": when, "busy": True, "location": "Room 1",
                                       "participants": [{"email": "guest@example.com", "name": "Guest"}],
                                       "reminders": {"use_default": False, "overrides": [{"reminder_minutes": 10, "reminder_method": "email"}]},
                                       "conferencing": {"provider": "Google Meet", "autocreate": {}}},
                                 query_params={**q, "notify_participants": False}).data
        assert isinstance(ev, Event) and isinstance(ev.when, cls), (title, ev.when)
        assert ev.when.object == title and ev.calendar_id == OWNER and ev.ical_uid and ev.grant_id == gid
        assert ev.participants[0].email == "guest@example.com" and ev.participants[0].status == "noreply"
        assert ev.reminders.use_default is False and ev.reminders.overrides[0].reminder_minutes == 10
        assert ev.conferencing.provider == "Google Meet" and ev.conferencing.details["url"].startswith("https://meet.google.com/")
        ids[title] = ev.id
    found = nylas.events.find(gid, ids["timespan"], query_params=q).data
    assert (found.when.start_timezone, found.when.end_time - found.when.start_time) == ("Europe/Dublin", 3600)
    listed = nylas.events.list(gid, query_params={**q, **WINDOW})
    assert isinstance(listed, ListResponse)
    assert [e.title for e in listed.data] == ["time", "timespan", "date", "datespan"]
    assert [e.title for e in nylas.events.list(gid, query_params={**q, **WINDOW, "title": "SPAN"}).data] == ["timespan", "datespan"]
    page = nylas.events.list(gid, query_params={**q, **WINDOW, "limit": 3})
    assert len(page.data) == 3 and page.next_cursor
    rest = nylas.events.list(gid, query_params={**q, **WINDOW, "limit": 3, "page_token": page.next_cursor})
    assert [e.title for e in rest.data] == ["datespan"] and rest.next_cursor is None


def test_recurring_series_across_dst(grant, nylas):
    gid = grant["id"]
    q = {"calendar_id": "primary"}
    # Mondays 09:00 New York from 2026-02-23: DST starts on 2026-03-08, so UTC moves from 14:00 to 13:00.
    master = nylas.events.create(gid, {"title": "Weekly sync", "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4"],
                                       "when": {"start_time": 1771855200, "end_time": 1771858800,
                                                "start_timezone": "America/New_York", "end_timezone": "America/New_York"}},
                                 query_params=q).data
    assert master.recurrence == ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4"]
    instances = nylas.events.list(gid, query_params={**q, **WINDOW, "expand_recurring": True}).data
    assert [e.when.start_time for e in instances] == [1771855200, 1772460000, 1773061200, 1773666000]
    assert [e.id for e in instances] == [f"{master.id}_20260223T140000Z", f"{master.id}_20260302T140000Z",
                                         f"{master.id}_20260309T130000Z", f"{master.id}_20260316T130000Z"]
    assert all(e.master_event_id == master.id and e.ical_uid == master.ical_uid for e in instances)
    only_master = nylas.events.list(gid, query_params={**q, **WINDOW, "expand_recurring": False}).data
    assert [e.id for e in only_master] == [master.id]
    by_master = nylas.events.list(gid, query_params={**q, **WINDOW, "master_event_id": master.id}).data
    assert len(by_master) == 4

    occurrence = nylas.events.find(gid, instances[2].id, query_params=q).data
    assert occurrence.master_event_id == master.id and occurrence.when.start_time == 1773061200
    changed = nylas.events.update(gid, instances[2].id, {"title": "Weekly sync (longer)",
                                                         "when": {"end_time": 1773061200 + 7200}}, query_params=q).data
    assert changed.id == instances[2].id and changed.title == "Weekly sync (longer)"
    assert changed.when.end_time - changed.when.start_time == 7200
    nylas.events.destroy(gid, instances[3].id, query_params=q)
    titles = [e.title for e in nylas.events.list(gid, query_params={**q, **WINDOW}).data]
    assert titles == ["Weekly sync", "Weekly sync", "Weekly sync (longer)"]

    with pytest.raises(NylasApiError) as e:
        nylas.events.create(gid, {"title": "x", "when": {"start_time": 1771855200, "end_time": 1771858800},
                                  "recurrence": ["RRULE:FREQ=FORTNIGHTLY"]}, query_params=q)
    assert e.value.status_code == 400 and "recurrence" in e.value.args[0]


def test_update_move_and_destroy(grant, nylas, reset):
    gid = grant["id"]
    q = {"calendar_id": "primary"}
    side = nylas.calendars.create(gid, {"name": "Side"}).data
    ev = nylas.events.create(gid, {"title": "Move me", "when": {"start_time": MONDAY + 3600, "end_time": MONDAY + 7200},
                                   "metadata": {"key2": "tracked"}}, query_params=q).data
    updated = nylas.events.update(gid, ev.id, {"title": "Moved", "calendar_id": side.id, "visibility": "private"},
                                  query_params={**q, "notify_participants": False}).data
    assert (updated.id, updated.calendar_id, updated.title, updated.visibility) == (ev.id, side.id, "Moved", "private")
    assert updated.metadata == {"key2": "tracked"}
    assert nylas.events.list(gid, query_params={**q, **WINDOW}).data == []
    assert [e.id for e in nylas.events.list(gid, query_params={"calendar_id": side.id, **WINDOW}).data] == [ev.id]
    assert [e.id for e in nylas.events.list(gid, query_params={"calendar_id": side.id, "metadata_pair": {"key2": "tracked"}}).data] == [ev.id]
    with pytest.raises(NylasApiError) as e:
        nylas.events.find(gid, ev.id, query_params=q)
    assert e.value.status_code == 404
    gone = nylas.events.destroy(gid, ev.id, query_params={"calendar_id": side.id, "notify_participants": False})
    assert isinstance(gone, DeleteResponse) and gone.request_id
    with pytest.raises(NylasApiError) as e:
        nylas.events.find(gid, ev.id, query_params={"calendar_id": side.id})
    assert e.value.status_code == 404


def test_bad_event_requests(grant, nylas, reset):
    gid = grant["id"]
    good = {"title": "ok", "when": {"start_time": MONDAY + 3600, "end_time": MONDAY + 7200}}
    cases = [
        (lambda: nylas.events.list(gid, query_params={}), 400, "calendar_id"),
        (lambda: nylas.events.list(gid, query_params={"calendar_id": "no-such-calendar"}), 404, "no-such-calendar"),
        (lambda: nylas.events.create(gid, {**good, "when": {"start_time": MONDAY + 7200, "end_time": MONDAY + 3600}},
                                     query_params={"calendar_id": "primary"}), 400, "end_time"),
        (lambda: nylas.events.create(gid, {**good, "when": {"time": MONDAY, "timezone": "Moon/Tranquility"}},
                                     query_params={"calendar_id": "primary"}), 400, "Moon/Tranquility"),
        (lambda: nylas.events.create(gid, {**good, "recurrence": ["RRULE:FREQ=DAILY;BYDAY=FUNDAY"]},
                                     query_params={"calendar_id": "primary"}), 400, "recurrence"),
        (lambda: nylas.events.find(gid, "nope", query_params={"calendar_id": "primary"}), 404, "nope"),
    ]
    for call, status, mention in cases:
        with pytest.raises(NylasApiError) as e:
            call()
        assert e.value.status_code == status and mention in e.value.args[0], (status, mention, e.value.args)
        assert e.value.request_id
    assert nylas.events.list(gid, query_params={"calendar_id": "primary", **WINDOW}).data == []


def test_send_rsvp(grant, nylas, reset):
    sim = reset
    gid = grant["id"]
    organizer = sim.create_grant("organizer@gmail.com", "google")
    invite = world_event(sim, "organizer@gmail.com", title="Roadmap review",
                         participants=[{"email": OWNER, "name": "Owner"}],
                         when={"start_time": MONDAY + 15 * 3600, "end_time": MONDAY + 16 * 3600})
    mine = nylas.events.list(gid, query_params={"calendar_id": "primary", **WINDOW}).data
    assert [e.title for e in mine] == ["Roadmap review"]
    assert mine[0].ical_uid == invite["ical_uid"] and mine[0].organizer["email"] == "organizer@gmail.com"
    answered = nylas.events.send_rsvp(gid, mine[0].id, {"status": "maybe"}, query_params={"calendar_id": "primary"})
    assert isinstance(answered, RequestIdOnlyResponse) and answered.request_id
    me = nylas.events.find(gid, mine[0].id, query_params={"calendar_id": "primary"}).data
    assert [p.status for p in me.participants if p.email == OWNER] == ["maybe"]
    theirs = nylas.events.list(organizer["id"], query_params={"calendar_id": "primary", "ical_uid": invite["ical_uid"]}).data
    assert [p.status for p in theirs[0].participants if p.email == OWNER] == ["maybe"]
    with pytest.raises(NylasApiError) as e:
        nylas.events.send_rsvp(gid, mine[0].id, {"status": "sure"}, query_params={"calendar_id": "primary"})
    assert e.value.status_code == 400


# --- free/busy and availability --------------------------------------------------------------------

def test_free_busy(grant, nylas, reset):
    sim = reset
    world_event(sim, OWNER, title="Busy", when={"start_time": MONDAY + 9 * 3600, "end_time": MONDAY + 10 * 3600})
    world_event(sim, OWNER, title="Overlap", when={"start_time": MONDAY + 9 * 3600 + 1800, "end_time": MONDAY + 11 * 3600})
    world_event(sim, OWNER, title="Free", busy=False, when={"start_time": MONDAY + 13 * 3600, "end_time": MONDAY + 14 * 3600})
    r = nylas.calendars.get_free_busy(grant["id"], {"start_time": MONDAY, "end_time": MONDAY + 86400,
                                                    "emails": [OWNER, "unknown@nowhere.example"]})
    assert isinstance(r, Response) and r.request_id
    ok, err = r.data
    assert isinstance(ok, FreeBusy) and isinstance(err, FreeBusyError)
    assert [(s.start_time, s.end_time, s.status) for s in ok.time_slots] == [(MONDAY + 9 * 3600, MONDAY + 11 * 3600, "busy")]
    assert err.email == "unknown@nowhere.example" and err.error
    with pytest.raises(NylasApiError) as e:
        nylas.calendars.get_free_busy(grant["id"], {"start_time": MONDAY + 10, "end_time": MONDAY, "emails": [OWNER]})
    assert e.value.status_code == 400


def test_availability(grant, nylas, reset):
    sim = reset
    sim.create_grant("second@outlook.com", "microsoft")
    world_event(sim, OWNER, title="A busy", when={"start_time": MONDAY + 10 * 3600, "end_time": MONDAY + 11 * 3600})
    world_event(sim, "second@outlook.com", title="B busy", when={"start_time": MONDAY + 13 * 3600, "end_time": MONDAY + 14 * 3600})
    request = {"start_time": MONDAY + 9 * 3600, "end_time": MONDAY + 17 * 3600, "duration_minutes": 60, "interval_minutes": 60,
               "participants": [{"email": OWNER, "calendar_ids": ["primary"]}, {"email": "second@outlook.com"}]}
    r = nylas.calendars.get_availability(request)
    assert isinstance(r.data, GetAvailabilityResponse) and r.request_id
    assert [(s.start_time - MONDAY) // 3600 for s in r.data.time_slots] == [9, 11, 12, 14, 15, 16]
    assert r.data.time_slots[0].emails == [OWNER, "second@outlook.com"]
    buffered = nylas.calendars.get_availability({**request, "availability_rules": {"buffer": {"before": 60, "after": 0}}})
    assert [(s.start_time - MONDAY) // 3600 for s in buffered.data.time_slots] == [11, 14, 15, 16]
    hours = nylas.calendars.get_availability({**request, "availability_rules": {"default_open_hours": [
        {"days": [1], "timezone": "America/New_York", "start": "9:00", "end": "11:00", "exdates": []}]}})
    assert [(s.start_time - MONDAY) // 3600 for s in hours.data.time_slots] == [14, 15]
    rr = nylas.calendars.get_availability({**request, "availability_rules": {"availability_method": "max-fairness",
                                                                              "round_robin_group_id": "sales"}})
    assert len(rr.data.time_slots) == 8 and sorted(rr.data.order) == sorted([OWNER, "second@outlook.com"])
    with pytest.raises(NylasApiError) as e:
        nylas.calendars.get_availability({**request, "duration_minutes": 17})
    assert e.value.status_code == 400 and "duration_minutes" in e.value.args[0]


# --- contacts ----------------------------------------------------------------------------------

def test_contacts(grant, nylas, reset):
    gid = grant["id"]
    created = nylas.contacts.create(gid, {
        "given_name": "Ada", "surname": "Lovelace", "company_name": "Engines", "birthday": "1815-12-10",
        "emails": [{"email": "ada@example.com", "type": "work"}],
        "phone_numbers": [{"number": "+1 555 0142", "type": "mobile"}],
        "physical_addresses": [{"type": "home", "city": "London", "country": "UK"}],
        "web_pages": [{"url": "https://example.com/ada", "type": "work"}],
        "im_addresses": [{"im_address": "ada", "type": "jabber"}],
        "groups": [{"id": "friends"}], "picture_url": "https://example.com/ada.png",
    })
    ada = created.data
    assert isinstance(ada, Contact) and created.request_id
    assert (ada.given_name, ada.emails[0].email, ada.groups[0].id, ada.source) == ("Ada", "ada@example.com", "friends", "address_book")
    nylas.contacts.create(gid, {"given_name": "Grace", "emails": [{"email": "grace@example.org", "type": "home"}]})
    everyone = nylas.contacts.list(gid)
    assert isinstance(everyone, ListResponse) and len(everyone.data) == 2
    assert [c.given_name for c in nylas.contacts.list(gid, query_params={"email": "ada@example.com"}).data] == ["Ada"]
    assert [c.given_name for c in nylas.contacts.list(gid, query_params={"phone_number": "+15550142"}).data] == ["Ada"]
    assert [c.given_name for c in nylas.contacts.list(gid, query_params={"group": "friends"}).data] == ["Ada"]
    assert nylas.contacts.list(gid, query_params={"source": "inbox"}).data == []
    with_picture = nylas.contacts.find(gid, ada.id, query_params={"profile_picture": True}).data
    assert with_picture.picture and with_picture.picture.startswith("iVBOR")
    assert nylas.contacts.find(gid, ada.id).data.picture is None
    updated = nylas.contacts.update(gid, ada.id, {"job_title": "Countess", "notes": "First programmer"}).data
    assert (updated.job_title, updated.notes, updated.surname) == ("Countess", "First programmer", "Lovelace")
    groups = nylas.contacts.list_groups(gid)
    assert all(isinstance(g, ContactGroup) for g in groups.data)
    assert {g.id for g in groups.data} >= {"myContacts", "starred", "friends"}
    for bad in ({"given_name": "Bad", "emails": [{"email": "not an address"}]},
                {"given_name": "Bad", "web_pages": [{"url": "https://example.com", "type": "profile"}]},
                {"given_name": "Bad", "birthday": "1815-13-40"}, {"notes": "no name, no address"}):
        with pytest.raises(NylasApiError) as e:
            nylas.contacts.create(gid, bad)
        assert e.value.status_code == 400, bad
    assert isinstance(nylas.contacts.destroy(gid, ada.id), DeleteResponse)
    with pytest.raises(NylasApiError) as e:
        nylas.contacts.find(gid, ada.id)
    assert e.value.status_code == 404


# --- the calendar fixture ----------------------------------------------------------------------

def test_calendar_fixture(reset, nylas):
    sim = reset
    loaded = sim.control("POST", "/__sim/fixtures/calendar", {"path": str(FIXTURE), "mailbox": "fixture.cal@gmail.com"})
    assert loaded["events"] >= 8 and loaded["contacts"] >= 4 and loaded["calendars"] == 3
    grant = sim.create_grant("fixture.cal@gmail.com", "google")
    gid = grant["id"]
    calendars = {c.name: c for c in nylas.calendars.list(gid).data}
    assert {"Work", "Family", "Team time off (shared)"} <= set(calendars)
    assert calendars["Team time off (shared)"].read_only
    january = {"start": 1767225600, "end": 1769904000}
    standups = nylas.events.list(gid, query_params={"calendar_id": "primary", **january, "title": "standup"}).data
    # Mondays, Wednesdays and Fridays from the 5th to the 30th (12), minus the excluded 19th.
    assert len(standups) == 11
    assert all(e.when.start_timezone == "America/New_York" for e in standups)
    work = nylas.events.list(gid, query_params={"calendar_id": calendars["Work"].id, **january}).data
    assert {e.title for e in work} == {"1:1 with Carol", "Company offsite"}
    assert [e.when.object for e in work if e.title == "Company offsite"] == ["datespan"]
    focus = nylas.events.list(gid, query_params={"calendar_id": "primary", **january, "event_type": "focusTime"}).data
    assert [e.title for e in focus] == ["Focus time"]
    contacts = nylas.contacts.list(gid).data
    assert {c.given_name for c in contacts} == {"Alice", "Bob", "Carol", "Sam"}


def test_room_resources_of_the_grant_domain(reset, us):
    """`GET /v3/grants/{id}/resources` (no SDK wrapper in nylas 6.18): the rooms of the grant's
    directory domain, paged with limit/page_token, checked against the OpenAPI description."""
    grant = reset.create_grant("ann@acme.example", "google")
    imap = reset.create_grant("ivan@acme.example", "imap")
    rooms = [("atlas@acme.example", "Atlas", 8, 2), ("boreal@acme.example", "Boreal", 4, 3),
             ("cove@other.example", "Cove", 6, 1)]
    for email, name, capacity, floor in rooms:
        r = reset.http.post(f"{reset.us_url}/__sim/providers/resources", timeout=10,
                            json={"email": email, "name": name, "capacity": capacity, "building": "HQ",
                                  "floor_name": f"Floor {floor}", "floor_number": floor, "floor_section": "A"})
        assert r.status_code == 201, r.text
    auth = {"Authorization": f"Bearer {us.api_key}"}
    url = f"{us.base_url}/v3/grants/{grant['id']}/resources"
    first = reset.http.get(url, params={"limit": 1}, headers=auth, timeout=10).json()
    assert [x["email"] for x in first["data"]] == ["atlas@acme.example"]
    assert first["data"][0] == {"object": "room_resource", "grant_id": grant["id"], "email": "atlas@acme.example",
                                "name": "Atlas", "capacity": 8, "building": "HQ", "floor_name": "Floor 2",
                                "floor_number": 2, "floor_section": "A"}
    second = reset.http.get(url, params={"limit": 1, "page_token": first["next_cursor"]}, headers=auth, timeout=10).json()
    assert [x["email"] for x in second["data"]] == ["boreal@acme.example"]
    assert "next_cursor" not in second or second["next_cursor"] is None
    # an IMAP grant has no room directory
    r = reset.http.get(f"{us.base_url}/v3/grants/{imap['id']}/resources", headers=auth, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
