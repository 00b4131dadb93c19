"""Issue 9: the SSRF guard refuses IPv6 site-local (fec0::/10); allow-list entries may carry a port
(scoped to it); a credential's allowed_hosts must be a list of valid entries (API and admin)."""

from __future__ import annotations

import ipaddress

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from integrations.http import client
from integrations.http.guard import BlockedAddress, Guard, allow_entries, classify, parse_allow_entry
from integrations.models import Credential
from integrations.vault.services import credential_create
from tests.factories import make_user
from tests.integrations.conftest import execute

SECRET = "tok_live_0123456789abcdefXYZ"


@pytest.fixture
def admin_api(db):
    api = APIClient()
    api.force_authenticate(make_user("root", role="admin"))
    return api


# --- fec0::/10 -------------------------------------------------------------------------------

@pytest.mark.parametrize("address", ["fec0::1", "fec0:1234::5", "feff:ffff::1"])
def test_site_local_ipv6_is_refused(address):
    assert classify(ipaddress.ip_address(address)) == "site-local"


def test_request_to_a_site_local_literal_never_connects(company_api):
    with pytest.raises(BlockedAddress) as info:
        client.request("GET", f"http://[fec0::1]:{company_api.port}/orders/1", timeout=2)
    assert info.value.reason == "site-local"
    assert company_api.requests == []


def test_name_resolving_to_site_local_is_refused():
    guard = Guard.build([], resolver=lambda host, port: ["fec0::10"])
    with pytest.raises(BlockedAddress):
        guard.vet("printer.example.com", 443)


# --- ports in allow-list entries -------------------------------------------------------------

@pytest.mark.parametrize(("entry", "target", "port"), [
    ("erp.internal", "erp.internal", None),
    ("ERP.internal:8443", "erp.internal", 8443),
    ("*.corp.example:443", "*.corp.example", 443),
    ("10.0.0.5:8080", ipaddress.ip_network("10.0.0.5/32"), 8080),
    ("10.0.0.0/8:8080", ipaddress.ip_network("10.0.0.0/8"), 8080),
    ("fd00::5", ipaddress.ip_network("fd00::5/128"), None),
    ("[fd00::5]:8080", ipaddress.ip_network("fd00::5/128"), 8080),
    ("[fd00::/64]:443", ipaddress.ip_network("fd00::/64"), 443),
    ("[fd00::5]", ipaddress.ip_network("fd00::5/128"), None),
])
def test_entries_are_parsed_with_their_port(entry, target, port):
    assert parse_allow_entry(entry) == (target, port)


@pytest.mark.parametrize("entry", ["erp.internal:http", "erp.internal:0", "erp.internal:65536", "[fd00::1",
                                   "[fd00::1]8080", "[10.0.0.1]:80", "a b", "erp internal", "http://erp.internal",
                                   "erp.internal/api", "", "   ", ":8080"])
def test_bad_entries_are_refused(entry):
    with pytest.raises(ValueError):
        parse_allow_entry(entry)


def test_a_host_entry_with_a_port_allows_that_port_only():
    guard = Guard.build(["erp.internal:8443"], resolver=lambda host, port: ["10.1.1.1"])
    assert guard.vet("erp.internal", 8443) == ["10.1.1.1"]
    with pytest.raises(BlockedAddress):
        guard.vet("erp.internal", 22)


def test_an_ipv6_entry_with_a_port_allows_that_port_only():
    guard = Guard.build(["[fd00::5]:8080"], resolver=lambda host, port: ["fd00::5"])
    assert guard.vet("fd00::5", 8080) == ["fd00::5"]
    with pytest.raises(BlockedAddress):
        guard.vet("fd00::5", 8081)
    assert Guard.build(["[fd00::/64]:443"]).ip_allowed(ipaddress.ip_address("fd00::9"), 443)
    assert not Guard.build(["[fd00::/64]:443"]).ip_allowed(ipaddress.ip_address("fd00::9"), 80)


def test_a_port_scoped_entry_through_the_real_client(company_api, settings):
    settings.FLUXO_HTTP_ALLOWLIST = [f"127.0.0.1:{company_api.port}"]
    assert client.request("GET", f"{company_api.url}/orders/5", timeout=5).status == 200
    settings.FLUXO_HTTP_ALLOWLIST = [f"127.0.0.1:{company_api.port + 1}"]
    with pytest.raises(BlockedAddress):
        client.request("GET", f"{company_api.url}/orders/5", timeout=5)
    assert len(company_api.requests) == 1


def test_a_credential_entry_with_a_port(flow_run, company_api):
    credential_create(name="onprem", kind="bearer", secret=SECRET, allowed_hosts=[f"127.0.0.1:{company_api.port}"])
    ok = execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/orders/1",
                                            "credential": "onprem"})
    assert ok.port == "success"


# --- allowed_hosts must be a list ------------------------------------------------------------

def test_api_refuses_allowed_hosts_given_as_a_string(admin_api):
    response = admin_api.post("/api/credentials/", {"name": "erp", "kind": "bearer", "secret": SECRET,
                                                    "allowed_hosts": "erp.internal"}, format="json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] and "deve ser uma lista de hosts" in " ".join(error["details"]["allowed_hosts"])
    assert not Credential.objects.filter(name="erp").exists()


def test_api_refuses_a_bad_entry_and_names_it(admin_api):
    response = admin_api.post("/api/credentials/", {"name": "erp", "kind": "bearer", "secret": SECRET,
                                                    "allowed_hosts": ["erp.internal", "erp internal:99999", 7]},
                              format="json")
    assert response.status_code == 400, response.json()
    details = " ".join(response.json()["error"]["details"]["allowed_hosts"])
    assert "erp internal:99999" in details and "7" in details
    assert not Credential.objects.filter(name="erp").exists()


def test_api_takes_a_list_with_ports_and_refuses_a_string_on_update(admin_api):
    created = admin_api.post("/api/credentials/", {"name": "erp", "kind": "bearer", "secret": SECRET,
                                                   "allowed_hosts": ["erp.internal:8443", "[fd00::5]:8080"]},
                             format="json")
    assert created.status_code == 201, created.json()
    assert Credential.objects.get(name="erp").allowed_hosts == ["erp.internal:8443", "[fd00::5]:8080"]
    patched = admin_api.patch(f"/api/credentials/{created.json()['id']}/", {"allowed_hosts": "10.0.0.0/8"},
                              format="json")
    assert patched.status_code == 400
    assert Credential.objects.get(name="erp").allowed_hosts == ["erp.internal:8443", "[fd00::5]:8080"]


def test_admin_form_refuses_allowed_hosts_given_as_a_string(admin_client):
    data = {"name": "erp", "kind": "bearer", "secret": SECRET, "username": "", "header_name": "",
            "query_param": "", "base_url": "", "allowed_hosts": '"erp.internal"', "description": ""}
    response = admin_client.post(reverse("admin:integrations_credential_add"), data)
    assert response.status_code == 200  # the form again, with its error
    assert "deve ser uma lista de hosts" in response.content.decode()
    assert not Credential.objects.filter(name="erp").exists()
    data["allowed_hosts"] = '["erp.internal:8443"]'
    response = admin_client.post(reverse("admin:integrations_credential_add"), data)
    assert response.status_code == 302
    assert Credential.objects.get(name="erp").allowed_hosts == ["erp.internal:8443"]


def test_a_string_stored_before_the_check_is_never_read_letter_by_letter(flow_run, company_api):
    assert allow_entries("127.0.0.1, erp.internal") == ["127.0.0.1", "erp.internal"]
    credential = credential_create(name="legacy", kind="bearer", secret=SECRET)
    Credential.objects.filter(pk=credential.pk).update(allowed_hosts="127.0.0.1")  # as older versions stored it
    ok = execute(flow_run, "http_request", {"method": "GET", "url": company_api.url + "/orders/1",
                                            "credential": "legacy"})
    assert ok.port == "success"
    assert Guard.build(allow_entries("erp")).host_allowed("e") is False
