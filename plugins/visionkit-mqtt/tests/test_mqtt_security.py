"""Credentials and TLS from the environment, against brokers that require them."""

from __future__ import annotations

import datetime
import logging
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from visionkit_mqtt.adapter import MqttAdapter
from visionkit_mqtt.messages import accepted_tips

from visionkit import Prediction
from visionkit.exceptions import AdapterError

if TYPE_CHECKING:  # conftest is not importable when pytest runs in importlib mode
    from conftest import Broker, Subscriber

USER, PASSWORD = "robot-arm", "c0rrect-h0rse-battery"


@pytest.fixture
def secured(tmp_path: Path, start_broker: Callable[..., Broker]) -> Broker:
    """A broker that lets in only USER with PASSWORD (a mosquitto_passwd file)."""
    passwd = shutil.which("mosquitto_passwd")
    if passwd is None:
        pytest.skip("mosquitto_passwd is not installed (Debian package mosquitto)")
    password_file = tmp_path / "passwords"
    subprocess.run([passwd, "-b", "-c", str(password_file), USER, PASSWORD], check=True)
    password_file.chmod(0o600)
    return start_broker(["allow_anonymous false", f"password_file {password_file}"])


def test_credentials_from_the_environment_get_in(
    secured: Broker,
    subscribe: Callable[..., Subscriber],
    prefix: str,
    prediction: Prediction,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("VISIONKIT_MQTT_USERNAME", USER)
    monkeypatch.setenv("VISIONKIT_MQTT_PASSWORD", PASSWORD)
    subscriber = subscribe(prefix, endpoint=secured.endpoint, username=USER, password=PASSWORD)
    with (
        caplog.at_level(logging.DEBUG, logger="visionkit_mqtt"),
        MqttAdapter(port=secured.port, topic_prefix=prefix) as adapter,
    ):
        adapter.write(prediction)
    assert len(subscriber.wait_for(1 + len(accepted_tips(prediction, 0.8)))) >= 1
    assert f"user {USER!r} with a password" in caplog.text
    assert "Sending CONNECT" in caplog.text  # paho's own packet log is captured too
    assert PASSWORD not in caplog.text


@pytest.mark.parametrize(
    ("user", "password"),
    [(USER, "wrong-password"), ("intruder", PASSWORD), (None, None)],
)
def test_refused_credentials_fail_at_once_without_showing_the_password(
    secured: Broker,
    prediction: Prediction,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    user: str | None,
    password: str | None,
) -> None:
    if user is not None:
        monkeypatch.setenv("VISIONKIT_MQTT_USERNAME", user)
    if password is not None:
        monkeypatch.setenv("VISIONKIT_MQTT_PASSWORD", password)
    adapter = MqttAdapter(port=secured.port, retries=3, backoff_s=1.0)
    started = time.monotonic()
    with (
        caplog.at_level(logging.DEBUG, logger="visionkit_mqtt"),
        pytest.raises(
            AdapterError, match=f"mqtt://127.0.0.1:{secured.port} refused the connection"
        ) as info,
    ):
        adapter.write(prediction)
    assert time.monotonic() - started < 1.0  # not retried: the same credentials cannot pass
    message = str(info.value)
    assert "VISIONKIT_MQTT_USERNAME" in message
    assert ("not authorized" in message) or ("bad user name or password" in message)
    assert (f"user {user!r}" if user else "anonymous") in message
    for secret in (PASSWORD, "wrong-password"):
        assert secret not in message
        assert secret not in caplog.text
    adapter.close()


# -- TLS


@dataclass(frozen=True)
class Pki:
    """A private CA and a server certificate it signed for 127.0.0.1."""

    ca: Path
    cert: Path
    key: Path


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A throw-away CA and server certificate (made with cryptography, nothing downloaded)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(common: str) -> Any:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("visionkit test CA"))
        .issuer_name(name("visionkit test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = Pki(tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture
def tls_broker(pki: Pki, start_broker: Callable[..., Broker]) -> Broker:
    """A broker that speaks only TLS, with the test CA's server certificate."""
    return start_broker(
        [
            "allow_anonymous true",
            f"cafile {pki.ca}",
            f"certfile {pki.cert}",
            f"keyfile {pki.key}",
        ]
    )


def test_tls_with_the_ca_file_from_the_environment_delivers(
    tls_broker: Broker,
    pki: Pki,
    subscribe: Callable[..., Subscriber],
    prefix: str,
    prediction: Prediction,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VISIONKIT_MQTT_CA_FILE", str(pki.ca))
    subscriber = subscribe(prefix, endpoint=tls_broker.endpoint, ca_file=str(pki.ca))
    with MqttAdapter(port=tls_broker.port, topic_prefix=prefix) as adapter:
        assert adapter.endpoint == f"mqtts://127.0.0.1:{tls_broker.port}"
        adapter.write(prediction)
    count = 1 + len(accepted_tips(prediction, 0.8))
    assert len(subscriber.wait_for(count)) == count


def test_tls_against_the_system_cas_refuses_a_private_certificate_at_once(
    tls_broker: Broker, prediction: Prediction, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VISIONKIT_MQTT_TLS", "1")
    adapter = MqttAdapter(port=tls_broker.port, retries=3, backoff_s=1.0)
    started = time.monotonic()
    with pytest.raises(AdapterError, match="TLS certificate does not verify") as info:
        adapter.write(prediction)
    assert time.monotonic() - started < 1.0
    assert f"mqtts://127.0.0.1:{tls_broker.port}" in str(info.value)
    assert "VISIONKIT_MQTT_CA_FILE" in str(info.value)
    adapter.close()
