"""SSRF guard: every refused address class, names that resolve to them, redirects to them, and the
allow-list. Requests go through the real client to real local servers; refused ones never connect."""

from __future__ import annotations

import ipaddress

import pytest

from flows.nodes.base import StepError
from integrations.http import client
from integrations.http.guard import BlockedAddress, Guard, classify
from integrations.http.services import http_request_execute
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)

pytestmark = pytest.mark.usefixtures("run_in_english")

REFUSED = [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.5.4", "private"), ("192.168.0.10", "private"), ("fd12:3456::1", "private"),
    ("169.254.10.10", "link-local"), ("fe80::1", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"), ("100.127.255.254", "carrier-grade NAT"),
    ("224.0.0.251", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "reserved"), ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"), ("::", "reserved"),
    ("169.254.169.254", "cloud metadata"), ("fd00:ec2::254", "cloud metadata"), ("100.100.100.200", "cloud metadata"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "cloud metadata"), ("64:ff9b::a00:1", "private"),
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_classify_refuses_each_address_class(address, reason):
    assert classify(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "200.147.67.142"])
def test_classify_lets_public_addresses_through(address):
    assert classify(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_request_to_refused_literal_never_connects(address, reason, company_api):
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(BlockedAddress) as info:
        client.request("GET", f"http://{host}:{company_api.port}/orders/1", timeout=2)
    assert info.value.reason == reason
    assert company_api.requests == []


def test_localhost_name_is_refused_after_resolution(company_api):
    with pytest.raises(BlockedAddress) as info:
        client.request("GET", f"http://localhost:{company_api.port}/orders/1", timeout=2)
    assert info.value.reason == "loopback"
    assert company_api.requests == []


ONE_PER_CLASS = [("127.0.0.1", "loopback"), ("10.0.0.7", "private"), ("fe80::2", "link-local"),
                 ("100.64.1.1", "carrier-grade NAT"), ("239.1.2.3", "multicast"), ("240.1.2.3", "reserved"),
                 ("169.254.169.254", "cloud metadata")]


@pytest.mark.parametrize(("address", "reason"), ONE_PER_CLASS)
def test_dns_name_resolving_to_internal_address_is_refused(db, fake_dns, address, reason):
    fake_dns["shop.example.com"] = [address]
    with pytest.raises(StepError) as info:
        http_request_execute(request={"method": "GET", "url": "http://shop.example.com/orders/1", "retries": 0})
    assert info.value.code == "http_blocked"
    assert reason in info.value.message and "shop.example.com" in info.value.message


def test_name_with_one_internal_address_among_public_ones_is_refused(fake_dns):
    fake_dns["mixed.example.com"] = ["93.184.216.34", "10.0.0.1"]
    with pytest.raises(BlockedAddress):
        client.request("GET", "http://mixed.example.com/", timeout=2)


def test_connects_to_the_vetted_address_and_keeps_the_host_name(company_api, fake_dns, settings):
    fake_dns["erp.internal"] = ["127.0.0.1"]
    settings.FLUXO_HTTP_ALLOWLIST = ["erp.internal"]
    response = client.request("GET", f"http://erp.internal:{company_api.port}/echo", timeout=5)
    assert response.status == 200
    assert response.json()["headers"]["host"] == f"erp.internal:{company_api.port}"


def test_redirect_to_loopback_is_refused(company_api, fake_dns, settings):
    fake_dns["api.partner.test"] = ["127.0.0.1"]
    settings.FLUXO_HTTP_ALLOWLIST = ["api.partner.test"]  # the first hop is allowed by name only
    target = f"http://127.0.0.1:{company_api.port}/orders/1"
    with pytest.raises(BlockedAddress) as info:
        client.request("GET", f"http://api.partner.test:{company_api.port}/redirect?to={target}", timeout=5)
    assert info.value.reason == "loopback"
    assert len(company_api.hits("/redirect")) == 1
    assert company_api.hits("/orders") == []  # the redirect target was never fetched


@pytest.mark.parametrize(("address", "reason"), ONE_PER_CLASS)
def test_redirect_to_each_refused_class_is_refused(company_api, fake_dns, settings, address, reason):
    fake_dns["api.partner.test"] = ["127.0.0.1"]
    settings.FLUXO_HTTP_ALLOWLIST = ["api.partner.test"]
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(BlockedAddress) as info:
        client.request("GET", f"http://api.partner.test:{company_api.port}/redirect?to=http://{host}:{company_api.port}/orders/1",
                       timeout=5)
    assert info.value.reason == reason
    assert company_api.hits("/orders") == []


def test_redirect_to_a_name_resolving_to_metadata_is_refused(company_api, fake_dns, settings):
    fake_dns["api.partner.test"] = ["127.0.0.1"]
    fake_dns["metadata.attacker.test"] = ["169.254.169.254"]
    settings.FLUXO_HTTP_ALLOWLIST = ["api.partner.test"]
    with pytest.raises(BlockedAddress) as info:
        client.request("GET", f"http://api.partner.test:{company_api.port}/redirect?"
                              "to=http://metadata.attacker.test/latest/meta-data/", timeout=5)
    assert info.value.reason == "cloud metadata"


def test_redirect_through_the_node_service_takes_failure(db, company_api, fake_dns, settings):
    fake_dns["api.partner.test"] = ["127.0.0.1"]
    settings.FLUXO_HTTP_ALLOWLIST = ["api.partner.test"]
    with pytest.raises(StepError) as info:
        http_request_execute(request={"method": "GET", "retries": 2,
                                      "url": f"http://api.partner.test:{company_api.port}/redirect?to=http://10.0.0.5/"})
    assert info.value.code == "http_blocked"
    assert len(company_api.hits("/redirect")) == 1  # a refusal is not retried


def test_allowed_redirect_is_followed(company_api, allow_local):
    target = f"http://127.0.0.1:{company_api.port}/orders/77"
    response = client.request("GET", f"{company_api.url}/redirect?to={target}", timeout=5)
    assert response.status == 200 and response.json()["id"] == "77"
    assert response.redirects == [target]


def test_allow_list_takes_cidrs(company_api, settings):
    settings.FLUXO_HTTP_ALLOWLIST = ["127.0.0.0/8"]
    assert client.request("GET", f"{company_api.url}/orders/5", timeout=5).status == 200
    settings.FLUXO_HTTP_ALLOWLIST = ["10.0.0.0/8"]
    with pytest.raises(BlockedAddress):
        client.request("GET", f"{company_api.url}/orders/5", timeout=5)


def test_allow_listed_name_still_cannot_reach_metadata(fake_dns):
    fake_dns["erp.internal"] = ["169.254.169.254"]
    guard = Guard.build(["erp.internal"], resolver=lambda host, port: ["169.254.169.254"])
    with pytest.raises(BlockedAddress):
        guard.vet("erp.internal", 80)


def test_wildcard_host_entries():
    guard = Guard.build(["*.corp.example"], resolver=lambda host, port: ["10.1.1.1"])
    assert guard.vet("erp.corp.example", 443) == ["10.1.1.1"]
    with pytest.raises(BlockedAddress):
        guard.vet("corp.example.attacker.test", 443)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1/", "ftp://example.com/x",
                                 "http://user:pass@example.com/"])
def test_only_plain_http_urls_without_inline_credentials(url):
    with pytest.raises(client.BadURL):
        client.request("GET", url, timeout=2)


def test_environment_proxy_is_not_used(company_api, allow_local, monkeypatch):
    # A proxy would connect on our behalf and bypass the address check: it must be ignored.
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("http_proxy", "http://10.9.9.9:3128")
    assert client.request("GET", f"{company_api.url}/orders/9", timeout=5).status == 200


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "017700000001", "127.1", "0"])
def test_odd_spellings_of_loopback_are_refused_after_resolution(host, company_api):
    with pytest.raises((BlockedAddress, client.BadURL)):
        client.request("GET", f"http://{host}:{company_api.port}/orders/1", timeout=2)
    assert company_api.requests == []
