"""HTTPS through the guard: the client connects to the vetted IP yet sends the host name as SNI
and verifies the certificate against it (a certificate for another name is refused)."""

from __future__ import annotations

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from integrations.http import client
from tests.english import run_in_english  # noqa: F401  (the messages checked here are the English ones)

pytestmark = pytest.mark.usefixtures("run_in_english")


def _cert(name: str, issuer_key, issuer_name, key, *, ca: bool):
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def tls_server(tmp_path):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Fluxo Test CA", ca_key, None, ca_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert("tls.test", ca_key, ca.subject, leaf_key, ca=False)
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.key").write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM,
                                                               serialization.PrivateFormat.PKCS8,
                                                               serialization.NoEncryption()))
    seen: dict[str, list] = {"sni": [], "host": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen["host"].append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    context.sni_callback = lambda sock, server_name, ctx: seen["sni"].append(server_name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd.server_address[1], str(tmp_path / "ca.pem"), seen
    httpd.shutdown()
    httpd.server_close()


def test_https_keeps_sni_and_verifies_the_name(tls_server, fake_dns, settings):
    port, ca_file, seen = tls_server
    fake_dns["tls.test"] = ["127.0.0.1"]
    settings.FLUXO_HTTP_ALLOWLIST = ["tls.test"]
    response = client.request("GET", f"https://tls.test:{port}/", timeout=5, verify=ca_file)
    assert response.status == 200 and response.content == b"ok"
    assert seen["sni"] == ["tls.test"] and seen["host"] == [f"tls.test:{port}"]


def test_https_certificate_for_another_name_is_refused(tls_server, fake_dns, settings):
    port, ca_file, seen = tls_server
    fake_dns["other.test"] = ["127.0.0.1"]
    settings.FLUXO_HTTP_ALLOWLIST = ["other.test"]
    with pytest.raises(requests.exceptions.SSLError):
        client.request("GET", f"https://other.test:{port}/", timeout=5, verify=ca_file)
    assert seen["host"] == []


def test_untrusted_certificate_takes_failure_with_a_tls_reason(db, tls_server, fake_dns, settings):
    from flows.nodes.base import StepError
    from integrations.http.services import http_request_execute

    port, _ca_file, seen = tls_server
    fake_dns["tls.test"] = ["127.0.0.1"]
    settings.FLUXO_HTTP_ALLOWLIST = ["tls.test"]
    with pytest.raises(StepError) as info:  # the system CAs do not know the test CA
        http_request_execute(request={"method": "GET", "url": f"https://tls.test:{port}/", "retries": 0})
    assert info.value.code == "http_connection" and "TLS error" in info.value.message
    assert seen["host"] == []
