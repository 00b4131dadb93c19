"""How the Graph API client calls out: the lean urllib3 pool unless a proxy must be honoured."""

from __future__ import annotations

import pytest

from messaging.providers import whatsapp_cloud as wa

ALL_VARIABLES = (*wa._PROXY_VARIABLES, *wa._CA_BUNDLE_VARIABLES)


@pytest.fixture
def clean_environment(monkeypatch):
    for name in ALL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(wa, "_pools", {})
    monkeypatch.setattr(wa, "_sessions", {})
    return monkeypatch


def test_a_ca_bundle_variable_keeps_the_lean_pool_and_is_its_trust_store(clean_environment, tmp_path):
    """Many hosts set REQUESTS_CA_BUNDLE for every program: it used to send every call through requests."""
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    clean_environment.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    pool = wa._pool("https://graph.facebook.com")
    assert pool is not None
    assert pool.connection_pool_kw["ca_certs"] == str(bundle)
    session = wa._session("https://graph.facebook.com")
    assert session.trust_env is False and session.verify == str(bundle)


def test_a_proxy_sends_calls_through_requests_which_honours_it(clean_environment):
    clean_environment.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert wa._pool("https://graph.facebook.com") is None
    assert wa._session("https://graph.facebook.com").trust_env is True


def test_without_variables_the_pool_trusts_certifi(clean_environment):
    import certifi

    assert wa._pool("https://graph.facebook.com").connection_pool_kw["ca_certs"] == certifi.where()
