"""The notification channels against real servers on the loopback interface.

E-mail goes to an aiosmtpd server running in this process (scripted by recipient and subject to
refuse, defer or accept); push and text messages go to an HTTP server in a thread that records
every request and answers as its path says (``/ok``, ``/accepted``, ``/status/<code>``,
``/slow``). Nothing leaves the machine: a refusal is checked to happen before any connection,
by the servers having received nothing.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from services.notifications.channels import (
    Channel,
    DeliveryError,
    Message,
    Refused,
    allowed_domains,
)
from services.notifications.channels.email import EmailChannel
from services.notifications.channels.setup import build_channels
from services.notifications.channels.webhook import WebhookChannel, is_loopback_host

SECRET = "test-webhook-secret"
SENDER = "Concierge Alerts <alerts@bank.example.com>"


def mail(to: str = "ana@example.com", **changes: Any) -> Message:
    fields: dict[str, Any] = {
        "channel": "email",
        "to": to,
        "subject": "Large purchase: €1,250.00 at Café Nord",
        "text": "We saw a card payment of €1,250.00 at Café Nord.\nWas this you?",
        "html": "<p>We saw a card payment of <b>€1,250.00</b> at Café Nord.</p>",
        "dedupe_key": "large_transaction:ledger:123:email",
        "data": {"notification_id": 41, "kind": "large_transaction"},
    }
    return Message(**{**fields, **changes})


def text_message(channel: str, to: str, **changes: Any) -> Message:
    fields: dict[str, Any] = {
        "channel": channel,
        "to": to,
        "subject": "Low balance",
        "text": "Your checking balance is $42.17.",
        "html": None,
        "dedupe_key": f"low_balance:account:9:{channel}",
        "data": {"notification_id": 7, "kind": "low_balance", "link": "/accounts/9"},
    }
    return Message(**{**fields, **changes})


def body_of(part: EmailMessage) -> str:
    """A text part's content as written (SMTP carries lines ending CRLF)."""
    return str(part.get_content()).replace("\r\n", "\n").rstrip("\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the SMTP server -------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    authenticated: bool
    login: str | None


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it accepts and refuses as the address says.

    Recipients ``gone@...`` are refused for good (550), ``busy@...`` for now (450); a subject
    starting ``reject`` is refused at DATA (554), one starting ``defer`` deferred (451).
    """

    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        local = address.split("@", 1)[0]
        if local == "gone":
            return "550 5.1.1 No such mailbox"
        if local == "busy":
            return "450 4.2.1 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        subject = str(parsed["Subject"])
        if subject.startswith("reject"):
            return "554 5.7.1 Message rejected"
        if subject.startswith("defer"):
            return "451 4.3.0 Temporary failure"
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                message=parsed,
                authenticated=session.authenticated,
                login=login,
            )
        )
        return "250 Message accepted"


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and auth_data == (b"concierge", b"s3cret")
    # handled=False: the server answers 235 or 535 itself
    return AuthResult(success=good, handled=False, auth_data=auth_data.login if good else None)


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int

    def channel(self, **options: Any) -> EmailChannel:
        return EmailChannel("127.0.0.1", self.port, SENDER, timeout=5.0, **options)


def _serve_smtp(**smtp_options: Any) -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    try:
        yield SmtpServer(inbox, port)
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A plain SMTP server: no STARTTLS, no AUTH."""
    yield from _serve_smtp()


@pytest.fixture
def smtp_auth() -> Iterator[SmtpServer]:
    """An SMTP server that requires AUTH (user ``concierge``, password ``s3cret``)."""
    yield from _serve_smtp(authenticator=_authenticator, auth_required=True, auth_require_tls=False)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections (bound, never listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and then never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


# --- e-mail ----------------------------------------------------------------------------------


async def test_the_mail_arrives_with_both_parts_the_subject_and_the_dedupe_header(
    smtp: SmtpServer,
) -> None:
    sent = mail()
    message_id = await smtp.channel().send(sent)

    (got,) = smtp.inbox.received
    assert got.mail_from == "alerts@bank.example.com"
    assert got.rcpt_tos == ["ana@example.com"]
    m = got.message
    assert m["To"] == "ana@example.com"
    assert m["From"].addresses[0].addr_spec == "alerts@bank.example.com"
    assert m["From"].addresses[0].display_name == "Concierge Alerts"
    assert m["Subject"] == sent.subject
    assert m["X-Concierge-Dedupe"] == sent.dedupe_key
    assert m["Message-ID"] == message_id
    assert message_id.startswith("<") and message_id.endswith("@bank.example.com>")
    assert m["Date"]
    assert m.get_content_type() == "multipart/alternative"
    parts = list(m.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert body_of(parts[0]) == sent.text
    assert body_of(parts[1]) == sent.html


async def test_a_retried_send_carries_the_same_message_id(smtp: SmtpServer) -> None:
    channel = smtp.channel()
    first = await channel.send(mail())
    again = await channel.send(mail())
    other = await channel.send(mail(dedupe_key="large_transaction:ledger:124:email"))
    assert first == again != other
    assert [got.message["Message-ID"] for got in smtp.inbox.received] == [first, first, other]


async def test_a_message_without_html_is_plain_text(smtp: SmtpServer) -> None:
    await smtp.channel().send(mail(html=None))
    (got,) = smtp.inbox.received
    assert got.message.get_content_type() == "text/plain"
    assert body_of(got.message) == mail().text


async def test_a_subject_with_line_breaks_cannot_add_headers(smtp: SmtpServer) -> None:
    await smtp.channel().send(mail(subject="Hello\r\nBcc: victim@gmail.com"))
    (got,) = smtp.inbox.received
    assert got.message["Subject"] == "Hello Bcc: victim@gmail.com"
    assert got.message["Bcc"] is None
    assert got.rcpt_tos == ["ana@example.com"]


@pytest.mark.parametrize(
    "to", ["ana@example.com", "bo@mail.example.org", "Cy@EXAMPLE.NET", "di@a.b.example.net"]
)
async def test_reserved_domains_and_their_subdomains_are_reached(smtp: SmtpServer, to: str) -> None:
    await smtp.channel().send(mail(to=to))
    assert smtp.inbox.received[0].rcpt_tos == [to]


@pytest.mark.parametrize(
    "to",
    [
        "ana@gmail.com",
        "ana@example.co",
        "ana@notexample.com",
        "ana@example.com.attacker.io",
        "ana@bank.test",
    ],
)
async def test_other_domains_are_refused_before_connecting(
    smtp: SmtpServer, closed_port: int, to: str
) -> None:
    with pytest.raises(Refused) as refused:
        await smtp.channel().send(mail(to=to))
    assert refused.value.permanent
    # The same channel aimed at a port nobody listens on refuses too: no connection was tried
    # (one would have failed transiently instead).
    unreachable = EmailChannel("127.0.0.1", closed_port, SENDER, timeout=5.0)
    with pytest.raises(Refused):
        await unreachable.send(mail(to=to))
    assert smtp.inbox.received == []


@pytest.mark.parametrize(
    "to",
    [
        "",
        "ana",
        "ana@example.com, bob@gmail.com",
        "Ana <ana@gmail.com>",
        "ana@example.com\r\nBcc: bob@gmail.com",
        '"ana@example.com"@gmail.com',
    ],
)
async def test_malformed_addresses_fail_permanently_and_send_nothing(
    smtp: SmtpServer, to: str
) -> None:
    with pytest.raises(DeliveryError) as failed:
        await smtp.channel().send(mail(to=to))
    assert failed.value.permanent
    assert smtp.inbox.received == []


async def test_the_banks_own_domains_are_reached_when_allowed(smtp: SmtpServer) -> None:
    channel = smtp.channel(allowed_domains=["bank.test"])
    await channel.send(mail(to="ana@bank.test"))
    await channel.send(mail(to="bo@eu.bank.test"))
    with pytest.raises(Refused):
        await channel.send(mail(to="cy@gmail.com"))
    assert [got.rcpt_tos for got in smtp.inbox.received] == [["ana@bank.test"], ["bo@eu.bank.test"]]


async def test_allow_real_reaches_any_domain(smtp: SmtpServer) -> None:
    await smtp.channel(allow_real=True).send(mail(to="ana@gmail.com"))
    assert smtp.inbox.received[0].rcpt_tos == ["ana@gmail.com"]


@pytest.mark.parametrize(
    ("changes", "permanent"),
    [
        ({"to": "gone@example.com"}, True),
        ({"to": "busy@example.com"}, False),
        ({"subject": "reject me"}, True),
        ({"subject": "defer me"}, False),
    ],
)
async def test_smtp_refusals_are_classified_by_reply_code(
    smtp: SmtpServer, changes: dict[str, str], permanent: bool
) -> None:
    with pytest.raises(DeliveryError) as failed:
        await smtp.channel().send(mail(**changes))
    assert not isinstance(failed.value, Refused)
    assert failed.value.permanent is permanent
    assert smtp.inbox.received == []


async def test_a_refused_connection_is_transient(closed_port: int) -> None:
    channel = EmailChannel("127.0.0.1", closed_port, SENDER, timeout=5.0)
    with pytest.raises(DeliveryError) as failed:
        await channel.send(mail())
    assert failed.value.permanent is False


async def test_a_server_that_never_answers_times_out_transiently(silent_port: int) -> None:
    channel = EmailChannel("127.0.0.1", silent_port, SENDER, timeout=0.3)
    with pytest.raises(DeliveryError) as failed:
        await channel.send(mail())
    assert failed.value.permanent is False


async def test_starttls_is_required_when_configured(smtp: SmtpServer) -> None:
    with pytest.raises(DeliveryError) as failed:
        await smtp.channel(starttls=True).send(mail())
    assert failed.value.permanent
    assert "STARTTLS" in str(failed.value)
    assert smtp.inbox.received == []  # never in the clear instead


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_credentials_are_used_when_configured(smtp_auth: SmtpServer) -> None:
    with pytest.raises(DeliveryError) as anonymous:
        await smtp_auth.channel().send(mail())
    assert anonymous.value.permanent  # 530 authentication required

    await smtp_auth.channel(username="concierge", password="s3cret").send(mail())
    (got,) = smtp_auth.inbox.received
    assert got.authenticated and got.login == "concierge"

    with pytest.raises(DeliveryError) as wrong:
        await smtp_auth.channel(username="concierge", password="guess").send(mail())
    assert wrong.value.permanent  # 535: the same password fails again
    assert len(smtp_auth.inbox.received) == 1


async def test_credentials_for_a_server_without_auth_fail_permanently(smtp: SmtpServer) -> None:
    with pytest.raises(DeliveryError) as failed:
        await smtp.channel(username="concierge", password="s3cret").send(mail())
    assert failed.value.permanent
    assert smtp.inbox.received == []


async def test_a_message_for_another_channel_is_not_mailed(smtp: SmtpServer) -> None:
    with pytest.raises(DeliveryError) as failed:
        await smtp.channel().send(mail(channel="sms"))
    assert failed.value.permanent
    assert smtp.inbox.received == []


def test_a_sender_must_be_an_address() -> None:
    with pytest.raises(ValueError, match="sender"):
        EmailChannel("127.0.0.1", 25, "Concierge")


# --- the HTTP receiver -----------------------------------------------------------------------


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Request]


class _Provider(BaseHTTPRequestHandler):
    """Answers as the path says; the server's ``requests`` list keeps every request."""

    server: Any

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append(Request(self.path, dict(self.headers.items()), body))
        if self.path == "/ok":
            self._answer(200, b'{"id": "prov-123", "status": "queued"}', "application/json")
        elif self.path == "/accepted":
            self._answer(202, b"", "text/plain")
        elif self.path.startswith("/status/"):
            self._answer(int(self.path.rsplit("/", 1)[1]), b'{"error": "scripted"}', "")
        elif self.path == "/slow":
            self.server.release.wait(10)
            self._answer(200, b'{"id": "late"}', "application/json")
        else:
            self._answer(404, b"", "text/plain")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type or "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    server.requests = []  # type: ignore[attr-defined]
    server.release = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}", server.requests)  # type: ignore[attr-defined]
    finally:
        server.release.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
        thread.join(10)


def hook(receiver: Receiver, path: str, name: str = "sms", **options: Any) -> WebhookChannel:
    return WebhookChannel(name, receiver.url + path, SECRET, **options)


# --- webhooks --------------------------------------------------------------------------------


async def test_the_body_and_its_signature_verify_with_the_secret(receiver: Receiver) -> None:
    sent = text_message("sms", "(202) 555-0142")
    provider_id = await hook(receiver, "/ok").send(sent)

    assert provider_id == "prov-123"
    (got,) = receiver.requests
    assert got.path == "/ok"
    expected = hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Concierge-Signature"] == f"sha256={expected}"
    wrong = hmac.new(b"another-secret", got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Concierge-Signature"] != f"sha256={wrong}"
    assert got.headers["Idempotency-Key"] == sent.dedupe_key
    assert got.headers["Content-Type"].startswith("application/json")
    assert json.loads(got.body) == {
        "channel": "sms",
        "to": "+12025550142",
        "title": sent.subject,
        "text": sent.text,
        "data": sent.data,
        "dedupe_key": sent.dedupe_key,
    }


async def test_without_an_id_the_idempotency_key_names_the_message(receiver: Receiver) -> None:
    sent = text_message("push", "customer-7")
    assert await hook(receiver, "/accepted", name="push").send(sent) == sent.dedupe_key
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (503, False), (429, False), (408, False), (400, True), (401, True),
     (404, True), (422, True), (301, True)],
)  # fmt: skip
async def test_provider_answers_are_classified(
    receiver: Receiver, status: int, permanent: bool
) -> None:
    with pytest.raises(DeliveryError) as failed:
        await hook(receiver, f"/status/{status}").send(text_message("sms", "+1 202-555-0142"))
    assert not isinstance(failed.value, Refused)
    assert failed.value.permanent is permanent
    assert str(status) in str(failed.value)
    assert len(receiver.requests) == 1


async def test_a_slow_provider_times_out_transiently(receiver: Receiver) -> None:
    channel = hook(receiver, "/slow", timeout=0.3)
    with pytest.raises(DeliveryError) as failed:
        await channel.send(text_message("sms", "+1 202-555-0142"))
    assert failed.value.permanent is False
    assert len(receiver.requests) == 1


async def test_an_unreachable_provider_is_transient(closed_port: int) -> None:
    channel = WebhookChannel("sms", f"http://127.0.0.1:{closed_port}/send", SECRET, 5.0)
    with pytest.raises(DeliveryError) as failed:
        await channel.send(text_message("sms", "+1 202-555-0142"))
    assert failed.value.permanent is False


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("+1 202-555-0142", "+12025550142"),
        ("(202) 555-0142", "+12025550142"),
        ("202.555.0100", "+12025550100"),
        ("+14155550199", "+14155550199"),
    ],
)
async def test_reserved_numbers_are_texted_in_e164(
    receiver: Receiver, written: str, e164: str
) -> None:
    await hook(receiver, "/ok").send(text_message("sms", written))
    assert json.loads(receiver.requests[0].body)["to"] == e164


@pytest.mark.parametrize(
    "to",
    ["+1 202-555-0200", "(202) 555-0099", "+1 202-555-1234", "+44 20 7946 0958", "+1 555-0142"],
)
@pytest.mark.parametrize("name", ["sms", "push"])
async def test_other_numbers_are_refused_before_connecting(
    receiver: Receiver, closed_port: int, name: str, to: str
) -> None:
    with pytest.raises(DeliveryError) as failed:
        await hook(receiver, "/ok", name=name).send(text_message(name, to))
    assert failed.value.permanent
    unreachable = WebhookChannel(name, f"http://127.0.0.1:{closed_port}/send", SECRET)
    with pytest.raises(DeliveryError) as again:
        await unreachable.send(text_message(name, to))
    assert again.value.permanent  # a connection attempt would have failed transiently
    assert receiver.requests == []


async def test_out_of_range_numbers_are_refusals(receiver: Receiver) -> None:
    with pytest.raises(Refused):
        await hook(receiver, "/ok").send(text_message("sms", "+1 202-555-0200"))
    assert receiver.requests == []


async def test_a_text_message_needs_a_phone_number(receiver: Receiver) -> None:
    with pytest.raises(DeliveryError) as failed:
        await hook(receiver, "/ok").send(text_message("sms", "customer-7"))
    assert failed.value.permanent and not isinstance(failed.value, Refused)
    assert receiver.requests == []


async def test_a_push_goes_to_a_device_token_as_given(receiver: Receiver) -> None:
    token = "fcm:APA91bH-x_y.z"
    await hook(receiver, "/ok", name="push").send(text_message("push", token))
    await hook(receiver, "/ok", name="push").send(text_message("push", "+1 (202) 555-0142"))
    assert [json.loads(r.body)["to"] for r in receiver.requests] == [token, "+12025550142"]
    assert json.loads(receiver.requests[0].body)["channel"] == "push"


async def test_allow_real_texts_any_number(receiver: Receiver) -> None:
    await hook(receiver, "/ok", allow_real=True).send(text_message("sms", "+44 20 7946 0958"))
    assert json.loads(receiver.requests[0].body)["to"] == "+442079460958"


@pytest.mark.parametrize(
    "url",
    [
        "https://push.example.net/v1/send",
        "http://10.0.0.1/send",
        "http://192.168.1.20:8080/send",
        "http://127.0.0.1.nip.io/send",
        "http://localhost.attacker.io/send",
    ],
)
async def test_providers_off_the_loopback_interface_are_refused(url: str) -> None:
    # Offline, a connection attempt would fail transiently; a refusal is permanent.
    with pytest.raises(Refused):
        await WebhookChannel("push", url, SECRET, 5.0).send(text_message("push", "customer-7"))


def test_allow_real_lifts_the_loopback_rule_but_keeps_https() -> None:
    WebhookChannel("push", "https://push.example.net/v1", SECRET, allow_real=True).check_url()
    with pytest.raises(Refused, match="https"):
        WebhookChannel("push", "http://push.example.net/v1", SECRET, allow_real=True).check_url()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("128.0.0.1", False),
        ("::2", False),
        ("localhost.example.com", False),
        ("0.0.0.0", False),
    ],
)
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


async def test_data_that_is_not_json_fails_permanently(receiver: Receiver) -> None:
    with pytest.raises(DeliveryError) as failed:
        await hook(receiver, "/ok").send(
            text_message("sms", "+1 202-555-0142", data={"when": object()})
        )
    assert failed.value.permanent
    assert receiver.requests == []


@pytest.mark.parametrize("key", ["", "key\r\nX-Injected: 1", "clé"])
async def test_a_dedupe_key_that_cannot_be_a_header_fails_permanently(
    receiver: Receiver, key: str
) -> None:
    with pytest.raises(DeliveryError) as failed:
        await hook(receiver, "/ok").send(text_message("sms", "+1 202-555-0142", dedupe_key=key))
    assert failed.value.permanent
    assert receiver.requests == []


def test_a_webhook_needs_a_secret_and_an_http_url() -> None:
    with pytest.raises(ValueError, match="secret"):
        WebhookChannel("sms", "http://127.0.0.1:9/send", "")
    with pytest.raises(ValueError, match="URL"):
        WebhookChannel("sms", "ftp://127.0.0.1/send", SECRET)


# --- build_channels --------------------------------------------------------------------------


def settings(**changes: Any) -> SimpleNamespace:
    values: dict[str, Any] = {
        "smtp_host": None,
        "smtp_port": 25,
        "smtp_sender": SENDER,
        "smtp_starttls": False,
        "smtp_username": None,
        "smtp_password": None,
        "push_webhook_url": None,
        "sms_webhook_url": None,
        "webhook_secret": None,
        "notify_allowed_domains": "",
    }
    return SimpleNamespace(**{**values, **changes})


def test_nothing_configured_builds_no_channel() -> None:
    assert build_channels(settings()) == {}
    assert build_channels(settings(smtp_host="  ", push_webhook_url="", sms_webhook_url="")) == {}


async def test_configured_channels_are_built_and_deliver(
    smtp: SmtpServer, receiver: Receiver
) -> None:
    channels: dict[str, Channel] = build_channels(
        settings(
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            push_webhook_url=receiver.url + "/ok",
            sms_webhook_url=receiver.url + "/accepted",
            webhook_secret=SECRET,
        )
    )
    assert set(channels) == {"email", "push", "sms"}
    assert all(channel.name == name for name, channel in channels.items())

    await channels["email"].send(mail())
    assert await channels["push"].send(text_message("push", "customer-7")) == "prov-123"
    sms = text_message("sms", "+1 202-555-0142")
    assert await channels["sms"].send(sms) == sms.dedupe_key
    assert smtp.inbox.received[0].rcpt_tos == ["ana@example.com"]
    assert [r.path for r in receiver.requests] == ["/ok", "/accepted"]
    with pytest.raises(Refused):
        await channels["email"].send(mail(to="ana@gmail.com"))
    with pytest.raises(Refused):
        await channels["sms"].send(text_message("sms", "+44 20 7946 0958"))


async def test_the_allowed_domains_setting_reaches_the_e_mail_channel(smtp: SmtpServer) -> None:
    channels = build_channels(
        settings(
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            notify_allowed_domains="bank.test, @Mail.Bank2.test.",
        )
    )
    await channels["email"].send(mail(to="ana@bank.test"))
    await channels["email"].send(mail(to="bo@mail.bank2.test"))
    with pytest.raises(Refused):
        await channels["email"].send(mail(to="cy@gmail.com"))
    assert len(smtp.inbox.received) == 2


def test_a_star_lifts_the_rule_on_every_channel() -> None:
    channels = build_channels(
        settings(
            smtp_host="mail.bank.test",
            push_webhook_url="https://push.provider.test/v1",
            sms_webhook_url="https://sms.provider.test/v1",
            webhook_secret=SECRET,
            notify_allowed_domains="*",
        )
    )
    email_channel, push = channels["email"], channels["push"]
    assert isinstance(email_channel, EmailChannel) and email_channel.allow_real
    assert isinstance(push, WebhookChannel) and push.allow_real
    push.check_url()


def test_a_webhook_without_a_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="webhook_secret"):
        build_channels(settings(sms_webhook_url="http://127.0.0.1:9/send"))


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (None, (frozenset(), False)),
        ("", (frozenset(), False)),
        ("bank.test", (frozenset({"bank.test"}), False)),
        (" Bank.Test , @mail.bank.test., ", (frozenset({"bank.test", "mail.bank.test"}), False)),
        (["bank.test", "*"], (frozenset(), True)),
        ("*", (frozenset(), True)),
    ],
)
def test_reading_the_allowed_domains(setting: Any, expected: Any) -> None:
    assert allowed_domains(setting) == expected
