"""v3 notification channels contract: Pub/Sub and Amazon SNS channels (`/v3/channels/pubsub`,
`/v3/channels/sns`) — CRUD, validation with Nylas's numeric error codes, and real deliveries into real
emulators: Google's Pub/Sub emulator (`gcloud beta emulators pubsub start`) and moto's server (SNS, SQS, IAM
and STS), both started and stopped by this module.

nylas 6.18.0 has no channels resource: the API is called with `requests` and the application's API key.
Every v3 response is still checked against the official OpenAPI description by `openapi_check`.

The simulator reads the emulator endpoints from its environment at start-up (`PUBSUB_EMULATOR_HOST`,
`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`), so this module runs its OWN simulator
process (the binary named by NYLAS_SIM_BIN, as the session one) instead of the suite's shared one.

What is read back:
- Pub/Sub: a pull subscription on the channel's topic (REST `…/subscriptions/S:pull`); the message `data`
  is base64 of the notification JSON (CloudEvents, as a webhook body), or of its gzip with the attribute
  `content_encoding: gzip` when `compressed_delivery` is on.
- SNS: an SQS queue subscribed to the channel's topic. Without raw delivery the SQS body is SNS's envelope
  JSON whose `Message` is the notification JSON (or base64(gzip(JSON)) with the message attribute
  `content_encoding: gzip+base64`); with raw delivery the SQS body is the message itself.

A channel whose topic does not exist fails its first attempt and goes `failing`; it retries as webhooks do
(20 min, 2 h, 8 h, 24 h, 72 h after the first attempt, virtual clock) and is `failed` at the last one; a
successful retry makes it `active` again. The module is skipped only when `gcloud` or moto is missing.
"""
from __future__ import annotations

import base64
import gzip
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import DEFAULT_BIN, REPO_ROOT, SEED, Sim, _free_port, _stop

try:
    import boto3
except ImportError:  # pragma: no cover - listed in requirements.txt
    boto3 = None

PROJECT = "nylas-sim-test"
ACCOUNT = "123456789012"  # moto's default account
AWS_REGION = "us-east-1"
#: Attempts of a failing destination, seconds after the first one (the webhook schedule).
SCHEDULE = [0, 20 * 60, 2 * 3600, 8 * 3600, 24 * 3600, 72 * 3600]
PUBSUB_START_TIMEOUT = 60.0
MOTO_START_TIMEOUT = 30.0
SIM_START_TIMEOUT = 20.0
WAIT = 10.0  # wall seconds to wait for a publish to show up


def _moto_command() -> list[str] | None:
    """moto's server: the one installed beside this interpreter (requirements.txt), else `moto_server` on PATH."""
    if importlib.util.find_spec("moto") and importlib.util.find_spec("flask") and importlib.util.find_spec("moto.server"):
        return [sys.executable, "-m", "moto.server"]
    beside = Path(sys.executable).parent / "moto_server"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("moto_server")
    return [found] if found else None


GCLOUD = shutil.which("gcloud")
MOTO = _moto_command()
pytestmark = pytest.mark.skipif(
    not (GCLOUD and MOTO and boto3),
    reason=f"needs gcloud (Pub/Sub emulator) and moto[server] with boto3: gcloud={GCLOUD}, moto={MOTO}, "
           f"boto3={'yes' if boto3 else 'no'}")


# --- background processes ------------------------------------------------------------------------

def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _stop_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM to the whole process group (gcloud runs the emulator as a java child), SIGKILL if it lingers."""
    pgid = proc.pid
    if _group_alive(pgid):
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        proc.poll()
        if not _group_alive(pgid):
            break
        time.sleep(0.1)
    else:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return "(no log)"


def _spawn(cmd: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)


# --- the Pub/Sub emulator --------------------------------------------------------------------------

class PubSub:
    """The emulator's REST API (no credentials needed)."""

    def __init__(self, host_port: str):
        self.host_port = host_port
        self.base = f"http://{host_port}"
        self.http = requests.Session()

    def topic_path(self, topic: str) -> str:
        return f"projects/{PROJECT}/topics/{topic}"

    def create_topic(self, topic: str) -> str:
        r = self.http.put(f"{self.base}/v1/{self.topic_path(topic)}", timeout=10)
        assert r.status_code == 200, r.text
        return self.topic_path(topic)

    def create_subscription(self, subscription: str, topic: str) -> None:
        r = self.http.put(f"{self.base}/v1/projects/{PROJECT}/subscriptions/{subscription}",
                          json={"topic": self.topic_path(topic)}, timeout=10)
        assert r.status_code == 200, r.text

    def sink(self) -> tuple[str, str]:
        """A fresh topic with a pull subscription: (topic path for the channel, subscription name)."""
        name = f"nylas-{uuid.uuid4().hex[:12]}"
        path = self.create_topic(name)
        self.create_subscription(name + "-sub", name)
        return path, name + "-sub"

    def pull(self, subscription: str) -> list[dict]:
        """The messages waiting now (acknowledged), each {data (bytes), attributes}."""
        r = self.http.post(f"{self.base}/v1/projects/{PROJECT}/subscriptions/{subscription}:pull",
                           json={"maxMessages": 10, "returnImmediately": True}, timeout=30)
        assert r.status_code == 200, r.text
        got = r.json().get("receivedMessages") or []
        if got:
            ack = self.http.post(f"{self.base}/v1/projects/{PROJECT}/subscriptions/{subscription}:acknowledge",
                                 json={"ackIds": [m["ackId"] for m in got]}, timeout=10)
            assert ack.status_code == 200, ack.text
        return [{"data": base64.b64decode(m["message"].get("data", "")),
                 "attributes": m["message"].get("attributes") or {}} for m in got]

    def wait(self, subscription: str, count: int, timeout: float = WAIT) -> list[dict]:
        out: list[dict] = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            out += self.pull(subscription)
            if len(out) >= count:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(out)} Pub/Sub messages on {subscription} (expected {count}) within {timeout}s")
            time.sleep(0.1)
        return out


@pytest.fixture(scope="module")
def pubsub():
    workdir = Path(tempfile.mkdtemp(prefix="pubsub-emulator-"))
    log = workdir / "emulator.log"
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    last = ""
    for _attempt in range(2):
        port = _free_port()
        host_port = f"127.0.0.1:{port}"
        env = {**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}
        proc = _spawn([GCLOUD, "beta", "emulators", "pubsub", "start", f"--host-port={host_port}",
                       f"--project={PROJECT}", f"--data-dir={workdir / 'data'}"], log, env)
        deadline = time.monotonic() + PUBSUB_START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(f"http://{host_port}/", timeout=2).status_code == 200:
                    try:
                        yield PubSub(host_port)
                    finally:
                        _stop_group(proc)
                        shutil.rmtree(workdir, ignore_errors=True)
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        _stop_group(proc)
        last = _tail(log)
    pytest.fail(f"the Pub/Sub emulator did not start within {PUBSUB_START_TIMEOUT}s:\n{last}")


# --- moto (SNS, SQS, IAM, STS) ----------------------------------------------------------------------

class Aws:
    """boto3 clients on moto's server."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        kw = dict(endpoint_url=endpoint, region_name=AWS_REGION, aws_access_key_id="test",
                  aws_secret_access_key="test")
        self.sns = boto3.client("sns", **kw)
        self.sqs = boto3.client("sqs", **kw)
        self.iam = boto3.client("iam", **kw)

    def role(self) -> str:
        name = f"nylas-sns-{uuid.uuid4().hex[:8]}"
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                       "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
        return self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(doc))["Role"]["Arn"]

    def topic_arn(self, name: str) -> str:
        return f"arn:aws:sns:{AWS_REGION}:{ACCOUNT}:{name}"

    def create_topic(self, name: str) -> str:
        return self.sns.create_topic(Name=name)["TopicArn"]

    def queue_on(self, topic_arn: str, raw: bool = False) -> str:
        """A fresh SQS queue subscribed to the topic; returns its URL."""
        url = self.sqs.create_queue(QueueName=f"nylas-q-{uuid.uuid4().hex[:12]}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn,
                           Attributes={"RawMessageDelivery": "true" if raw else "false"})
        return url

    def sink(self, raw: bool = False) -> tuple[str, str, str]:
        """(topic ARN, queue URL, role ARN) for a fresh channel."""
        topic = self.create_topic(f"nylas-{uuid.uuid4().hex[:12]}")
        return topic, self.queue_on(topic, raw), self.role()

    def receive(self, queue_url: str) -> list[dict]:
        out = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                       MessageAttributeNames=["All"]).get("Messages", [])
        for m in out:
            self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        return out

    def wait(self, queue_url: str, count: int, timeout: float = WAIT) -> list[dict]:
        out: list[dict] = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            out += self.receive(queue_url)
            if len(out) >= count:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(out)} SQS messages (expected {count}) within {timeout}s")
        return out


@pytest.fixture(scope="module")
def aws():
    workdir = Path(tempfile.mkdtemp(prefix="moto-server-"))
    log = workdir / "moto.log"
    last = ""
    for _attempt in range(2):
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        proc = _spawn([*MOTO, "-H", "127.0.0.1", "-p", str(port)], log)
        deadline = time.monotonic() + MOTO_START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(f"{endpoint}/moto-api/", timeout=2).status_code < 500:
                    try:
                        yield Aws(endpoint)
                    finally:
                        _stop_group(proc)
                        shutil.rmtree(workdir, ignore_errors=True)
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        _stop_group(proc)
        last = _tail(log)
    pytest.fail(f"moto's server did not start within {MOTO_START_TIMEOUT}s:\n{last}")


# --- the module's own simulator --------------------------------------------------------------------

def _start_sim(binary: str, env: dict) -> Sim:
    """As conftest's session simulator (manual clock, fixed seed), with the emulators in its environment."""
    last_error = None
    for _attempt in range(3):
        us_port, eu_port = _free_port(), _free_port()
        if us_port == eu_port:
            continue
        log = tempfile.NamedTemporaryFile(prefix="nylas-sim-channels-", suffix=".log", delete=False)
        proc = subprocess.Popen(
            [binary, "serve", "--us-port", str(us_port), "--eu-port", str(eu_port), "--seed", SEED,
             "--clock", "manual", "--log-level", "warning", "--file-root", str(REPO_ROOT)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
        sim = Sim(proc, f"http://127.0.0.1:{us_port}", f"http://127.0.0.1:{eu_port}", log.name)
        deadline = time.monotonic() + SIM_START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                r = requests.get(sim.us_url + "/__sim/state", timeout=1)
                requests.get(sim.eu_url + "/__sim/state", timeout=1).raise_for_status()
                if r.status_code == 200:
                    sim.load_apps(r.json())
                    return sim
            except requests.RequestException as exc:
                last_error = exc
            time.sleep(0.05)
        _stop(proc)
        last_error = f"{last_error}; log:\n{Path(log.name).read_text(errors='replace')}"
    raise RuntimeError(f"nylas-sim did not start: {last_error}")


@pytest.fixture(scope="module")
def chsim(pubsub, aws):
    binary = os.environ.get("NYLAS_SIM_BIN", str(DEFAULT_BIN))
    if not os.access(binary, os.X_OK):
        pytest.fail(f"simulator binary not found: {binary} (run `swift build` or set NYLAS_SIM_BIN)")
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL_SNS"}
    env.update({"PUBSUB_EMULATOR_HOST": pubsub.host_port, "AWS_ENDPOINT_URL": aws.endpoint,
                "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"})
    sim = _start_sim(binary, env)
    try:
        yield sim
    finally:
        _stop(sim.proc)


@pytest.fixture
def sim(chsim) -> Sim:
    """The module's simulator, freshly reset (this shadows conftest's shared `sim` inside this module)."""
    chsim.reset()
    return chsim


# --- helpers -----------------------------------------------------------------------------------

_UNSET = object()


def api(sim: Sim, method: str, path: str, body=_UNSET, *, key: str | None = None, auth: bool = True,
        data: bytes | None = None, region: str = "us") -> requests.Response:
    app = sim.us if region == "us" else sim.eu
    headers = {"Authorization": f"Bearer {key or app.api_key}"} if auth else {}
    kwargs = {}
    if body is not _UNSET:
        kwargs["json"] = body
    elif data is not None:
        kwargs["data"] = data
        headers["Content-Type"] = "application/json"
    return requests.request(method, app.base_url + path, headers=headers, timeout=15, **kwargs)


def ok(r: requests.Response) -> dict:
    assert r.status_code == 200, f"{r.request.method} {r.url} -> {r.status_code}: {r.text[:500]}"
    body = r.json()
    assert body.get("request_id"), body
    return body


def refused(r: requests.Response, code: str, status: int = 400) -> dict:
    """A channel error: 400 with Nylas's numeric code as the error type."""
    assert r.status_code == status, f"{r.request.method} {r.url} -> {r.status_code}: {r.text[:500]}"
    body = r.json()
    e = body["error"]
    assert e["type"] == code, body
    assert isinstance(e["message"], str) and e["message"], body
    return e


def pubsub_channel(sim: Sim, topic: str, triggers=("grant.created",), **extra) -> dict:
    return ok(api(sim, "POST", "/v3/channels/pubsub", {"trigger_types": list(triggers), "topic": topic, **extra}))["data"]


def sns_channel(sim: Sim, topic: str, role: str, triggers=("grant.created",), **extra) -> dict:
    return ok(api(sim, "POST", "/v3/channels/sns", {"trigger_types": list(triggers), "topic": topic,
                                                     "role_arn": role, **extra}))["data"]


def status(sim: Sim, kind: str, channel_id: str) -> str:
    return ok(api(sim, "GET", f"/v3/channels/{kind}/{channel_id}"))["data"]["status"]


def deliveries(sim: Sim, **params) -> list[dict]:
    r = sim.http.get(sim.us_url + "/__sim/webhooks/deliveries", params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def wait_deliveries(sim: Sim, count: int, timeout: float = WAIT, **params) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        items = deliveries(sim, **params)
        if len(items) >= count:
            return items
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(items)} deliveries (expected {count}) within {timeout}s: {items}")
        time.sleep(0.05)


def new_grant(sim: Sim, email: str) -> dict:
    """A grant (grant.created), then a nudge of the clock so due jobs run."""
    grant = sim.create_grant(email, "google")
    sim.advance("1s")
    return grant


def assert_grant_created(event: dict, sim: Sim, grant: dict, attempt: int = 1) -> None:
    assert event["specversion"] == "1.0"
    assert event["type"] == "grant.created"
    assert event["source"] == "/nylas/system"
    assert isinstance(event["id"], str) and event["id"]
    assert isinstance(event["time"], int)
    assert event["webhook_delivery_attempt"] == attempt
    assert event["data"]["application_id"] == sim.us.application_id
    assert event["data"]["object"]["grant_id"] == grant["id"]
    assert event["data"]["object"]["email"] == grant["email"]


# --- CRUD --------------------------------------------------------------------------------------

def test_pubsub_channel_crud(sim, pubsub):
    topic, _sub = pubsub.sink()
    t0 = sim.now()
    c = pubsub_channel(sim, topic, description="Grants to Pub/Sub",
                       notification_email_addresses=["ops@example.com"])
    assert c["id"] and c["topic"] == topic and c["description"] == "Grants to Pub/Sub"
    assert (c["trigger_types"], c["notification_email_addresses"]) == (["grant.created"], ["ops@example.com"])
    assert (c["status"], c["compressed_delivery"]) == ("active", False)
    assert c["created_at"] == c["updated_at"] == c["status_updated_at"] == t0

    assert ok(api(sim, "GET", f"/v3/channels/pubsub/{c['id']}"))["data"] == c
    listed = ok(api(sim, "GET", "/v3/channels/pubsub"))
    assert [x["id"] for x in listed["data"]] == [c["id"]] and listed["data"][0]["status"] == "active"
    assert ok(api(sim, "GET", "/v3/channels/sns"))["data"] == []

    sim.advance("1h")
    other_topic, _ = pubsub.sink()
    upd = ok(api(sim, "PUT", f"/v3/channels/pubsub/{c['id']}", {
        "description": "Grants, gzip", "trigger_types": ["grant.created", "grant.deleted"],
        "compressed_delivery": True, "topic": other_topic}))["data"]
    assert (upd["id"], upd["description"], upd["trigger_types"], upd["compressed_delivery"], upd["topic"]) == (
        c["id"], "Grants, gzip", ["grant.created", "grant.deleted"], True, other_topic)
    assert upd["notification_email_addresses"] == ["ops@example.com"]  # not in the PUT: kept
    assert (upd["created_at"], upd["updated_at"], upd["status"]) == (t0, t0 + 3600, "active")

    gone = ok(api(sim, "DELETE", f"/v3/channels/pubsub/{c['id']}"))
    assert gone["data"] == {"status": "success"}
    for method, code in (("GET", "70001"), ("PUT", "70000"), ("DELETE", "70000")):
        body = {"description": "x"} if method == "PUT" else _UNSET
        e = refused(api(sim, method, f"/v3/channels/pubsub/{c['id']}", body), code)
        assert e["message"] == "destination.id.not.found : record not found"
    assert ok(api(sim, "GET", "/v3/channels/pubsub"))["data"] == []


def test_sns_channel_crud(sim, aws, pubsub):
    topic, _queue, role = aws.sink()
    c = sns_channel(sim, topic, role, triggers=("grant.created", "grant.expired"))
    assert (c["topic"], c["role_arn"], c["trigger_types"]) == (topic, role, ["grant.created", "grant.expired"])
    assert (c["status"], c["compressed_delivery"]) == ("active", False)
    assert ok(api(sim, "GET", f"/v3/channels/sns/{c['id']}"))["data"] == c
    assert [x["id"] for x in ok(api(sim, "GET", "/v3/channels/sns"))["data"]] == [c["id"]]

    other_role = aws.role()
    upd = ok(api(sim, "PUT", f"/v3/channels/sns/{c['id']}", {"role_arn": other_role,
                                                             "compressed_delivery": True}))["data"]
    assert (upd["role_arn"], upd["compressed_delivery"], upd["topic"]) == (other_role, True, topic)

    # One kind's channel is unknown under the other kind's routes.
    p = pubsub_channel(sim, pubsub.sink()[0])
    refused(api(sim, "GET", f"/v3/channels/sns/{p['id']}"), "70001")
    refused(api(sim, "GET", f"/v3/channels/pubsub/{c['id']}"), "70001")
    refused(api(sim, "DELETE", f"/v3/channels/pubsub/{c['id']}"), "70000")
    assert [x["id"] for x in ok(api(sim, "GET", "/v3/channels/pubsub"))["data"]] == [p["id"]]

    assert ok(api(sim, "DELETE", f"/v3/channels/sns/{c['id']}"))["data"] == {"status": "success"}
    e = refused(api(sim, "GET", f"/v3/channels/sns/{c['id']}"), "70001")
    assert e["message"] == "destination.id.not.found : record not found"
    refused(api(sim, "PUT", f"/v3/channels/sns/{c['id']}", {"description": "x"}), "70000")


def test_channel_validation(sim, pubsub, aws):
    topic = pubsub.topic_path("some-topic")
    sns_topic, role = aws.topic_arn("some-topic"), f"arn:aws:iam::{ACCOUNT}:role/nylas"
    bad_pubsub = {
        "no topic": {"trigger_types": ["grant.created"]},
        "no trigger_types": {"topic": topic},
        "empty trigger_types": {"trigger_types": [], "topic": topic},
        "unknown trigger": {"trigger_types": ["grant.exploded"], "topic": topic},
        "trigger_types not a list": {"trigger_types": "grant.created", "topic": topic},
        "bare topic name": {"trigger_types": ["grant.created"], "topic": "some-topic"},
        "subscription path": {"trigger_types": ["grant.created"], "topic": f"projects/{PROJECT}/subscriptions/s"},
        "SNS ARN as topic": {"trigger_types": ["grant.created"], "topic": sns_topic},
        "compressed_delivery not a boolean": {"trigger_types": ["grant.created"], "topic": topic,
                                              "compressed_delivery": "yes"},
        "emails not a list": {"trigger_types": ["grant.created"], "topic": topic,
                              "notification_email_addresses": "ops@example.com"},
    }
    bad_sns = {
        "no role_arn": {"trigger_types": ["grant.created"], "topic": sns_topic},
        "no topic": {"trigger_types": ["grant.created"], "role_arn": role},
        "user instead of role": {"trigger_types": ["grant.created"], "topic": sns_topic,
                                 "role_arn": f"arn:aws:iam::{ACCOUNT}:user/bob"},
        "SQS ARN as topic": {"trigger_types": ["grant.created"], "role_arn": role,
                             "topic": f"arn:aws:sqs:{AWS_REGION}:{ACCOUNT}:q"},
        "Pub/Sub path as topic": {"trigger_types": ["grant.created"], "role_arn": role, "topic": topic},
        "unknown trigger": {"trigger_types": ["nope"], "topic": sns_topic, "role_arn": role},
    }
    problems = []
    for kind, cases in (("pubsub", bad_pubsub), ("sns", bad_sns)):
        for label, body in cases.items():
            r = api(sim, "POST", f"/v3/channels/{kind}", body)
            e = r.json().get("error", {}) if r.headers.get("Content-Type", "").startswith("application/json") else {}
            if r.status_code != 400 or e.get("type") != "70005" or not str(e.get("message", "")).startswith(
                    "invalid.input.format : "):
                problems.append(f"{kind} {label}: {r.status_code} {r.text[:200]}")
        r = api(sim, "POST", f"/v3/channels/{kind}", data=b'{"trigger_types": [')
        if r.status_code != 400 or r.json()["error"]["type"] != "70005":
            problems.append(f"{kind} malformed JSON: {r.status_code} {r.text[:200]}")
    assert not problems, "\n".join(problems)
    assert refused(api(sim, "POST", "/v3/channels/pubsub", {"trigger_types": ["grant.created"]}),
                   "70005")["message"] == "invalid.input.format : topic is required"

    # PUT: bad values are refused and change nothing; the status takes only active or pause.
    c = pubsub_channel(sim, topic)
    for body in ({"status": "failed"}, {"status": "paused-ish"}, {"topic": "nope"}, {"trigger_types": []},
                 {"trigger_types": ["grant.exploded"]}):
        refused(api(sim, "PUT", f"/v3/channels/pubsub/{c['id']}", body), "70005")
    assert ok(api(sim, "GET", f"/v3/channels/pubsub/{c['id']}"))["data"] == c
    s = sns_channel(sim, sns_topic, role)
    refused(api(sim, "PUT", f"/v3/channels/sns/{s['id']}", {"role_arn": "arn:aws:iam::x"}), "70005")

    # Authentication as on every v3 route: none, or another region's key, is 401.
    for kind in ("pubsub", "sns"):
        assert api(sim, "GET", f"/v3/channels/{kind}", auth=False).status_code == 401
        assert api(sim, "GET", f"/v3/channels/{kind}", key=sim.eu.api_key).status_code == 401
        assert api(sim, "POST", f"/v3/channels/{kind}", {"trigger_types": ["grant.created"], "topic": topic},
                   auth=False).status_code == 401
    # Channels belong to their region.
    assert ok(api(sim, "GET", "/v3/channels/pubsub", region="eu"))["data"] == []
    refused(api(sim, "GET", f"/v3/channels/pubsub/{c['id']}", region="eu"), "70001")


# --- deliveries ---------------------------------------------------------------------------------

def test_grant_created_reaches_pubsub(sim, pubsub):
    topic, sub = pubsub.sink()
    c = pubsub_channel(sim, topic)
    now = sim.now()
    grant = new_grant(sim, "pubsub.user@gmail.com")

    [msg] = pubsub.wait(sub, 1)
    assert "content_encoding" not in msg["attributes"]
    event = json.loads(msg["data"])
    assert_grant_created(event, sim, grant)
    assert event["time"] == now

    journal = wait_deliveries(sim, 1, webhook_id=c["id"])
    assert len(journal) == 1
    entry = journal[0]
    assert (entry["webhook_id"], entry["outcome"], entry["type"], entry["attempt"]) == (
        c["id"], "delivered", "grant.created", 1)
    assert status(sim, "pubsub", c["id"]) == "active"
    time.sleep(0.3)
    assert pubsub.pull(sub) == []  # exactly one message


def test_grant_created_reaches_sqs_through_sns(sim, aws):
    topic, queue, role = aws.sink()
    c = sns_channel(sim, topic, role)
    grant = new_grant(sim, "sns.user@gmail.com")

    [m] = aws.wait(queue, 1)
    envelope = json.loads(m["Body"])
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic
    assert "content_encoding" not in (envelope.get("MessageAttributes") or {})
    assert_grant_created(json.loads(envelope["Message"]), sim, grant)
    entry = wait_deliveries(sim, 1, webhook_id=c["id"])[0]
    assert (entry["outcome"], entry["type"]) == ("delivered", "grant.created")
    assert status(sim, "sns", c["id"]) == "active"


def test_compressed_delivery_to_pubsub(sim, pubsub):
    topic, sub = pubsub.sink()
    pubsub_channel(sim, topic, compressed_delivery=True)
    grant = new_grant(sim, "gzip.pubsub@gmail.com")
    [msg] = pubsub.wait(sub, 1)
    assert msg["attributes"].get("content_encoding") == "gzip"
    assert msg["data"][:2] == b"\x1f\x8b", msg["data"][:20]
    assert_grant_created(json.loads(gzip.decompress(msg["data"])), sim, grant)


def test_compressed_delivery_to_sns(sim, aws):
    topic, queue, role = aws.sink()
    raw_queue = aws.queue_on(topic, raw=True)
    sns_channel(sim, topic, role, compressed_delivery=True)
    grant = new_grant(sim, "gzip.sns@gmail.com")

    [m] = aws.wait(queue, 1)
    envelope = json.loads(m["Body"])
    assert envelope["MessageAttributes"]["content_encoding"] == {"Type": "String", "Value": "gzip+base64"}
    packed = base64.b64decode(envelope["Message"], validate=True)
    assert packed[:2] == b"\x1f\x8b"
    assert_grant_created(json.loads(gzip.decompress(packed)), sim, grant)
    # Raw delivery: the SQS body is the message itself, the attribute an SQS message attribute.
    [r] = aws.wait(raw_queue, 1)
    assert r["MessageAttributes"]["content_encoding"]["StringValue"] == "gzip+base64"
    assert_grant_created(json.loads(gzip.decompress(base64.b64decode(r["Body"], validate=True))), sim, grant)


def test_only_subscribed_triggers_are_published(sim, pubsub, aws):
    created_topic, created_sub = pubsub.sink()
    deleted_topic, deleted_sub = pubsub.sink()
    on_created = pubsub_channel(sim, created_topic, triggers=("grant.created",))
    on_deleted = pubsub_channel(sim, deleted_topic, triggers=("grant.deleted",))
    sns_topic, queue, role = aws.sink()
    sns_deleted = sns_channel(sim, sns_topic, role, triggers=("grant.deleted",))

    grant = new_grant(sim, "triggers.user@gmail.com")
    assert len(pubsub.wait(created_sub, 1)) == 1
    assert pubsub.pull(deleted_sub) == []
    ok(api(sim, "DELETE", f"/v3/grants/{grant['id']}"))
    sim.advance("1s")
    [gone] = pubsub.wait(deleted_sub, 1)
    event = json.loads(gone["data"])
    assert event["type"] == "grant.deleted" and event["data"]["object"]["grant_id"] == grant["id"]
    [m] = aws.wait(queue, 1)
    assert json.loads(json.loads(m["Body"])["Message"])["type"] == "grant.deleted"
    assert [d["type"] for d in wait_deliveries(sim, 1, webhook_id=on_created["id"])] == ["grant.created"]
    assert [d["type"] for d in wait_deliveries(sim, 1, webhook_id=on_deleted["id"])] == ["grant.deleted"]
    assert [d["type"] for d in wait_deliveries(sim, 1, webhook_id=sns_deleted["id"])] == ["grant.deleted"]
    time.sleep(0.3)
    assert pubsub.pull(created_sub) == []


# --- failures, retries and pauses ----------------------------------------------------------------

def test_missing_topic_goes_failing_then_failed(sim, pubsub):
    topic = pubsub.topic_path(f"nylas-missing-{uuid.uuid4().hex[:8]}")  # never created
    c = pubsub_channel(sim, topic, notification_email_addresses=["ops@example.com"])
    t0 = sim.now()
    sim.create_grant("failing.user@gmail.com", "google")

    got = wait_deliveries(sim, 1, webhook_id=c["id"])
    assert (got[0]["attempt"], got[0]["outcome"], got[0]["time_unix"]) == (1, "failed", t0)
    assert status(sim, "pubsub", c["id"]) == "failing"
    for n in range(2, 7):
        due = t0 + SCHEDULE[n - 1]
        sim.control("POST", "/__sim/clock", {"to": due - 1})
        assert len(deliveries(sim, webhook_id=c["id"])) == n - 1, f"attempt {n} came early"
        sim.advance("1s")
        got = wait_deliveries(sim, n, webhook_id=c["id"])
        assert (got[-1]["attempt"], got[-1]["outcome"], got[-1]["time_unix"]) == (n, "failed", due)
        assert status(sim, "pubsub", c["id"]) == ("failed" if n == 6 else "failing"), f"after attempt {n}"
    final = ok(api(sim, "GET", f"/v3/channels/pubsub/{c['id']}"))["data"]
    assert final["status"] == "failed" and final["status_updated_at"] == t0 + SCHEDULE[-1]
    assert [x["status"] for x in ok(api(sim, "GET", "/v3/channels/pubsub"))["data"]] == ["failed"]

    # Failed is final: later events are not attempted.
    sim.advance("100h")
    sim.create_grant("while.failed@gmail.com", "google")
    sim.advance("1s")
    time.sleep(0.3)
    assert len(deliveries(sim, webhook_id=c["id"])) == 6
    # Re-activated by hand with the topic now in place, the channel publishes again.
    sub = "nylas-late-sub-" + uuid.uuid4().hex[:8]
    pubsub.create_topic(topic.rsplit("/", 1)[1])
    pubsub.create_subscription(sub, topic.rsplit("/", 1)[1])
    assert ok(api(sim, "PUT", f"/v3/channels/pubsub/{c['id']}", {"status": "active"}))["data"]["status"] == "active"
    grant = new_grant(sim, "after.reactivation@gmail.com")
    [msg] = pubsub.wait(sub, 1)
    assert json.loads(msg["data"])["data"]["object"]["grant_id"] == grant["id"]
    assert status(sim, "pubsub", c["id"]) == "active"


def test_failing_sns_channel_recovers_when_the_topic_appears(sim, aws):
    name = f"nylas-later-{uuid.uuid4().hex[:8]}"
    topic = aws.topic_arn(name)  # not created yet
    c = sns_channel(sim, topic, aws.role())
    t0 = sim.now()
    grant = sim.create_grant("recovering.user@gmail.com", "google")
    first = wait_deliveries(sim, 1, webhook_id=c["id"])[0]
    assert (first["attempt"], first["outcome"]) == (1, "failed")
    assert status(sim, "sns", c["id"]) == "failing"

    assert aws.create_topic(name) == topic
    queue = aws.queue_on(topic)
    sim.control("POST", "/__sim/clock", {"to": t0 + SCHEDULE[1]})
    got = wait_deliveries(sim, 2, webhook_id=c["id"])
    assert (got[-1]["attempt"], got[-1]["outcome"]) == (2, "delivered")
    [m] = aws.wait(queue, 1)
    assert_grant_created(json.loads(json.loads(m["Body"])["Message"]), sim, grant, attempt=2)
    assert status(sim, "sns", c["id"]) == "active"
    # No further retries once delivered.
    sim.control("POST", "/__sim/clock", {"to": t0 + SCHEDULE[-1] + 60})
    time.sleep(0.3)
    assert len(deliveries(sim, webhook_id=c["id"])) == 2


def test_paused_channels_receive_nothing(sim, pubsub, aws):
    topic, sub = pubsub.sink()
    sns_topic, queue, role = aws.sink()
    p = pubsub_channel(sim, topic)
    s = sns_channel(sim, sns_topic, role)
    sim.advance("10m")
    for kind, c in (("pubsub", p), ("sns", s)):
        paused = ok(api(sim, "PUT", f"/v3/channels/{kind}/{c['id']}", {"status": "pause"}))["data"]
        assert paused["status"] == "pause" and paused["status_updated_at"] == c["created_at"] + 600
        assert status(sim, kind, c["id"]) == "pause"

    new_grant(sim, "while.paused@gmail.com")
    sim.advance("1h")
    time.sleep(0.5)
    assert pubsub.pull(sub) == []
    assert aws.receive(queue) == []
    assert deliveries(sim, webhook_id=p["id"]) == [] and deliveries(sim, webhook_id=s["id"]) == []

    for kind, c in (("pubsub", p), ("sns", s)):
        assert ok(api(sim, "PUT", f"/v3/channels/{kind}/{c['id']}", {"status": "active"}))["data"]["status"] == "active"
    grant = new_grant(sim, "after.pause@gmail.com")
    [msg] = pubsub.wait(sub, 1)
    assert json.loads(msg["data"])["data"]["object"]["email"] == "after.pause@gmail.com"  # nothing replayed
    [m] = aws.wait(queue, 1)
    assert json.loads(json.loads(m["Body"])["Message"])["data"]["object"]["grant_id"] == grant["id"]
    time.sleep(0.3)
    assert pubsub.pull(sub) == [] and aws.receive(queue) == []
