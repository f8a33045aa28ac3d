"""The registry client's HTTP transport against the in-process fake registry: retries, tokens, TLS, and
failures below HTTP, each ending in a RegistryError that says whether trying again may help."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time

import pytest
from fake_registry import TLS_CERT, TLS_KEY, FakeRegistry, make_image

from baseimages.core.errors import Abandoned, RegistryError
from baseimages.core.reference import Reference
from baseimages.core.retry import RetryPolicy
from baseimages.registry.http import Response, base_url, describe_body, error_reason, is_local
from baseimages.settings.config import Credentials

TAG = "team/tiny:1.0.0"


@pytest.fixture
def tiny(fake_registry):
    """The fake registry holding team/tiny:1.0.0; returns the image."""
    image = make_image()
    fake_registry.preload("team/tiny", image, tag="1.0.0")
    return image


def _head(client, fake, text=TAG, **kw):
    ref = fake.ref(text)
    return client.call("HEAD", ref, f"/v2/{ref.path}/manifests/{ref.tag or ref.digest}", **kw)


# ---------------------------------------------------------------------- retries


@pytest.mark.parametrize("mode", ["503", "429", "500", "reset", "incomplete"])
def test_transient_fault_is_retried_and_the_request_then_succeeds(fake_registry, tiny, make_client, retries, mode):
    fake_registry.fault(mode, times=2, methods=["GET"])
    client = make_client()
    ref = fake_registry.ref(TAG)
    answer = client.call("GET", ref, f"/v2/{ref.path}/manifests/1.0.0")
    assert answer.status == 200 and answer.body == tiny.index
    assert [r.attempt for r in retries] == [1, 2]
    for notice in retries:  # the request as fields: no image at this level (the factory attributes it)
        assert notice.image is None and notice.request is not None
        assert (notice.request.method, notice.request.path) == ("GET", f"/v2/{ref.path}/manifests/1.0.0")
        assert notice.request.repository == ref.repository
    assert fake_registry.count("GET", "manifest") == 3


@pytest.mark.parametrize("mode", ["503", "reset", "incomplete"])
def test_transient_fault_that_never_heals_gives_up_after_the_attempts_with_a_final_error(
    fake_registry, tiny, make_client, mode
):
    fake_registry.fault(mode, methods=["GET"])
    ref = fake_registry.ref(TAG)
    with pytest.raises(RegistryError) as info:
        make_client().call("GET", ref, f"/v2/{ref.path}/manifests/1.0.0")
    assert "gave up after 3 attempts" in str(info.value)
    assert not info.value.transient, "a final error must not be retried again further up"
    assert fake_registry.count("GET", "manifest") == 3


def test_request_whose_cancel_event_is_set_is_abandoned_without_being_sent(fake_registry, tiny, make_client):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Abandoned, match="abandoned") as info:
        _head(make_client(), fake_registry, cancel=cancel)
    assert not info.value.transient and fake_registry.requests == []


def test_cancel_cuts_the_wait_between_attempts_short(fake_registry, tiny, make_client):
    fake_registry.fault("503", methods=["HEAD"])
    slow = RetryPolicy(attempts=5, max_seconds=60, initial_wait=20, max_wait=20)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Abandoned):
        _head(make_client(retry=slow), fake_registry, cancel=cancel)
    assert time.monotonic() - started < 5, "it must not wait the 20 s before its next attempt"
    assert fake_registry.count("HEAD") == 1


def test_connection_refused_is_transient_and_retried(make_client, retries):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RegistryError) as info:
        make_client().call("GET", Reference(f"127.0.0.1:{port}", "team/tiny"), "/v2/")
    assert len(retries) == 2
    assert "unreachable" in str(info.value) and f"127.0.0.1:{port}" in str(info.value)


def test_expected_error_status_is_returned_without_a_retry(fake_registry, make_client, retries):
    assert _head(make_client(), fake_registry, expect=(200, 404)).status == 404
    assert retries == []


def test_unexpected_4xx_fails_at_once_with_the_registrys_own_error_code(fake_registry, make_client, retries):
    with pytest.raises(RegistryError) as info:
        _head(make_client(), fake_registry)
    assert info.value.status == 404 and not info.value.transient
    assert "HTTP 404" in str(info.value)
    assert retries == [] and fake_registry.count() == 1


def test_error_reason_prefers_the_registrys_error_code_and_falls_back_to_the_status_phrase():
    body = json.dumps({"errors": [{"code": "DIGEST_INVALID", "message": "digest did not match"}]}).encode()
    assert error_reason(Response(400, {}, body)) == "DIGEST_INVALID: digest did not match"
    assert error_reason(Response(502, {}, b"<html>bad gateway</html>")) == "Bad Gateway"
    assert error_reason(Response(599, {}, b"")) == "unexpected status"


# ---------------------------------------------------------------------- auth


def test_bearer_challenge_gets_a_token_with_the_login_and_reuses_it(fake_registry, tiny, make_client):
    fake_registry.require_token("bob", "s3cret")
    client = make_client(credentials={fake_registry.address: Credentials("bob", "s3cret")})
    assert _head(client, fake_registry).status == 200
    assert _head(client, fake_registry).status == 200
    assert fake_registry.tokens_issued == ["repository:team/tiny:pull"]
    token_request = next(r for r in fake_registry.requests if r.kind == "token")
    assert token_request.headers["authorization"] == "Basic " + base64.b64encode(b"bob:s3cret").decode()
    last = fake_registry.requests[-1]
    assert (last.status, last.headers["authorization"].split()[0]) == (200, "Bearer")


def test_push_scope_gets_a_token_of_its_own(fake_registry, tiny, make_client):
    fake_registry.require_token()
    client = make_client()
    _head(client, fake_registry)
    _head(client, fake_registry, scope="pull,push")
    assert fake_registry.tokens_issued == ["repository:team/tiny:pull", "repository:team/tiny:pull,push"]


def test_login_from_docker_config_is_used_when_the_client_has_none(fake_registry, tiny, make_client, tmp_path):
    fake_registry.require_token("bob", "s3cret")
    config = tmp_path / "docker"
    config.mkdir()
    auth = base64.b64encode(b"bob:s3cret").decode()
    (config / "config.json").write_text(json.dumps({"auths": {fake_registry.address: {"auth": auth}}}))
    assert _head(make_client(docker_config=config), fake_registry).status == 200


def test_wrong_login_is_access_denied_at_once_naming_the_ways_to_log_in(fake_registry, tiny, make_client, retries):
    fake_registry.require_token("bob", "s3cret")
    client = make_client(credentials={fake_registry.address: Credentials("bob", "wrong")})
    with pytest.raises(RegistryError) as info:
        _head(client, fake_registry)
    assert info.value.status == 401 and not info.value.transient and retries == []
    assert "access denied" in str(info.value) and "BASEIMAGES_REGISTRY_USER" in str(info.value)


def test_token_service_answering_html_is_a_permanent_one_line_error(fake_registry, tiny, make_client, retries):
    fake_registry.require_token()
    fake_registry.fault("html", methods=["GET"], path="^/token$")
    with pytest.raises(RegistryError) as info:
        _head(make_client(), fake_registry)
    message = str(info.value)
    assert "token service" in message and "HTML page" in message and "\n" not in message
    assert not info.value.transient and retries == []


def test_password_never_appears_in_the_clients_repr():
    assert "s3cret" not in repr(Credentials("bob", "s3cret"))


# ---------------------------------------------------------------------- TLS


@pytest.fixture
def tls_registry():
    with FakeRegistry(tls=True) as registry:
        registry.preload("team/tiny", make_image(), tag="1.0.0")
        yield registry


def test_untrusted_certificate_is_permanent_and_says_to_pass_a_ca_bundle(tls_registry, make_client, retries):
    with pytest.raises(RegistryError) as info:
        _head(make_client(), tls_registry)
    message = str(info.value)
    assert not info.value.transient and retries == [], "a certificate nobody trusts never heals"
    assert "certificate verification failed" in message and tls_registry.address in message
    assert "--ca-bundle" in message and "BASEIMAGES_CA_BUNDLE" in message and "\n" not in message
    assert tls_registry.requests == []


def test_the_ca_bundle_the_message_asks_for_makes_the_certificate_trusted(tls_registry, make_client):
    assert _head(make_client(ca_bundle=TLS_CERT), tls_registry).status == 200


def test_untrusted_certificate_with_a_ca_bundle_names_that_bundle(tls_registry, make_client):
    other_ca = TLS_CERT.with_name("other_ca_cert.pem")
    with pytest.raises(RegistryError) as info:
        _head(make_client(ca_bundle=other_ca), tls_registry)
    assert f"the CA bundle {other_ca} does not trust" in str(info.value) and not info.value.transient


def test_ca_bundle_that_is_not_a_pem_of_certificates_is_a_permanent_error_naming_it(tls_registry, make_client):
    with pytest.raises(RegistryError) as info:
        _head(make_client(ca_bundle=TLS_KEY), tls_registry)
    assert f"CA bundle {TLS_KEY} cannot be used" in str(info.value) and "--ca-bundle" in str(info.value)
    assert not info.value.transient


def test_https_to_a_plain_http_port_is_a_permanent_tls_error(fake_registry, tiny, make_client, retries):
    ref = Reference(f"https://{fake_registry.address}", "team/tiny", "1.0.0")
    with pytest.raises(RegistryError) as info:
        make_client().call("HEAD", ref, "/v2/team/tiny/manifests/1.0.0")
    assert "TLS handshake failed" in str(info.value) and "speak HTTPS" in str(info.value)
    assert not info.value.transient and retries == []


# ---------------------------------------------------------------------- answers that are not HTTP


def test_redirect_loop_is_permanent_and_named(fake_registry, tiny, make_client, retries):
    fake_registry.fault("redirect-loop")
    with pytest.raises(RegistryError) as info:
        _head(make_client(), fake_registry)
    assert "redirects in a loop" in str(info.value) and fake_registry.address in str(info.value)
    assert not info.value.transient and retries == []


def test_huge_header_is_permanent_not_an_http_client_exception(fake_registry, tiny, make_client, retries):
    fake_registry.fault("huge-header", methods=["HEAD"])
    with pytest.raises(RegistryError) as info:
        _head(make_client(), fake_registry)
    assert "header line too long" in str(info.value)
    assert not info.value.transient and retries == []


def test_answer_larger_than_any_document_is_refused_for_good(fake_registry, make_client, monkeypatch):
    monkeypatch.setattr("baseimages.registry.http.MAX_BODY", 100)
    fake_registry.preload("team/tiny", make_image(), tag="1.0.0")
    ref = fake_registry.ref(TAG)
    with pytest.raises(RegistryError) as info:
        make_client().call("GET", ref, "/v2/team/tiny/manifests/1.0.0")
    assert "answered more than 100 bytes" in str(info.value) and not info.value.transient


# ---------------------------------------------------------------------- small helpers


def test_local_registries_are_spoken_to_over_http_others_over_https():
    assert base_url("localhost:5000") == "http://localhost:5000"
    assert base_url("127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert base_url("registry.example:5000") == "https://registry.example:5000"
    assert base_url("docker.io") == "https://registry-1.docker.io"
    assert base_url("http://mirror:5000/") == "http://mirror:5000"
    assert is_local("::1") and not is_local("10.0.0.1")


def test_describe_body_tells_html_from_other_bodies():
    assert describe_body(Response(200, {"content-type": "text/html"}, b"<html></html>")) == "an HTML page (text/html)"
    assert describe_body(Response(200, {}, b"abc")) == "3 bytes of no Content-Type"
    assert describe_body(Response(200, {"content-type": "text/html"}, b"")) == "no body (text/html)"
