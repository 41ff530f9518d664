"""SSRF: which URLs an endpoint may have, at creation and again before each delivery."""

from __future__ import annotations

import pytest

from events import delivery, safety, services
from events.models import Delivery, Endpoint
from tests.factories import ChatSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_refused(settings):
    settings.EVENTS_ALLOW_PRIVATE_URLS = False


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://127.1.2.3/hook", "loopback"),
        ("https://localhost/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://172.16.0.1/hook", "private"),
        ("https://192.168.1.10/hook", "private"),
        ("https://[fc00::1]/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "cloud metadata"),
        ("https://[fd00:ec2::254]/", "cloud metadata"),
        ("https://169.254.10.1/", "link-local"),
        ("https://[fe80::1]/", "link-local"),
        ("https://224.0.0.1/", "multicast"),
        ("https://[ff02::1]/", "multicast"),
        ("https://240.0.0.1/", "reserved"),
        ("https://0.0.0.0/", "reserved"),
        ("https://100.64.0.1/", "reserved"),
    ],
)
def test_private_addresses_are_refused_at_creation(private_refused, url, kind):
    with pytest.raises(services.EndpointError, match=f"resolves to a {kind} address"):
        services.endpoint_add(url=url)
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com/hook", "Only https://"),
        ("ftp://example.com/hook", "must start with https://"),
        ("https:///nohost", "must start with https://"),
        ("not a url", "must start with https://"),
        ("https://user:pw@example.com/", "user name or password"),
        ("https://example.com:99999/", "Not a valid URL"),
        ("https://no-such-host.invalid/", "does not resolve"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(private_refused, url, message):
    with pytest.raises(services.EndpointError, match=message):
        services.endpoint_add(url=url)
    assert not Endpoint.objects.exists()


def test_a_public_address_is_allowed(private_refused):
    target = safety.check_url("https://93.184.215.14:8443/hook")
    assert (target.address, target.port, target.host) == ("93.184.215.14", 8443, "93.184.215.14")


def test_http_and_private_addresses_are_allowed_when_the_setting_is_on(settings):
    settings.EVENTS_ALLOW_PRIVATE_URLS = True
    created = services.endpoint_add(url="http://127.0.0.1:9/hook")
    assert Endpoint.objects.get().pk == created.endpoint_id


@pytest.mark.django_db(transaction=True)
def test_a_delivery_is_refused_when_the_host_became_private(
    receiver, endpoint, auto_assign_on, settings
):
    """Created while private URLs were allowed; checked again before the delivery."""
    ChatSessionFactory()
    settings.EVENTS_ALLOW_PRIVATE_URLS = False

    delivery.deliver_all_due()

    assert receiver.requests == []
    refused = Delivery.objects.get()
    assert refused.status == Delivery.Status.PENDING
    assert refused.last_error.startswith("refused: Only https://")


def test_a_delivery_connects_to_the_address_it_checked(private_refused, monkeypatch):
    """DNS rebinding: the address checked is the one connected to, the host still named."""
    answers = iter(["93.184.215.14", "127.0.0.1"])
    monkeypatch.setattr(
        safety.socket,
        "getaddrinfo",
        lambda host, port, **kw: [(2, 1, 6, "", (next(answers), port))],
    )
    target = safety.check_url("https://hooks.example.com/in")

    url, extensions, headers = delivery._pinned(target, {"webhook-id": "evt_1"})

    assert url == "https://93.184.215.14:443/in"
    assert extensions == {"sni_hostname": "hooks.example.com"}
    assert headers["host"] == "hooks.example.com"
