"""The phone-mode certificates: made once, private keys private, re-issued when they must be."""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat

from cryptography import x509

from clamcoach.web.tls import CA_CERT, CA_KEY, SERVER_CERT, SERVER_KEY, ensure_certificates, spki_sha256


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _certs(path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def test_keys_are_readable_only_by_the_user_and_the_chain_verifies(tmp_path):
    folder = tmp_path / "tls"
    ident = ensure_certificates(folder, ["192.168.1.20", "127.0.0.1"], ["mybox.local", "localhost"])
    assert _mode(folder) == 0o700
    assert _mode(folder / CA_KEY) == 0o600 and _mode(folder / SERVER_KEY) == 0o600
    assert ident.key_path == folder / SERVER_KEY and ident.ca_cert_path == folder / CA_CERT
    server, ca_in_chain = _certs(ident.cert_path)
    ca = x509.load_pem_x509_certificate(ident.ca_cert_path.read_bytes())
    assert ca_in_chain == ca
    server.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    alt = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(alt.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("192.168.1.20"),
                                                            ipaddress.ip_address("127.0.0.1")}
    assert set(alt.get_values_for_type(x509.DNSName)) == {"mybox.local", "localhost"}
    days = (server.not_valid_after_utc - server.not_valid_before_utc).days
    assert days <= 398  # phones refuse longer-lived server certificates
    assert ident.spki_sha256 == spki_sha256(server) and len(ident.spki_sha256) == 44
    assert len(ident.ca_fingerprint.split(":")) == 32


def test_the_ca_is_kept_and_the_server_certificate_follows_the_addresses(tmp_path):
    folder = tmp_path / "tls"
    first = ensure_certificates(folder, ["10.0.0.5"], ["box.local"])
    ca_bytes, server_bytes = (folder / CA_CERT).read_bytes(), (folder / SERVER_CERT).read_bytes()
    again = ensure_certificates(folder, ["10.0.0.5"], ["box.local"])
    assert (folder / SERVER_CERT).read_bytes() == server_bytes and again == first  # nothing re-made
    moved = ensure_certificates(folder, ["10.0.0.9"], ["box.local"])  # a new Wi-Fi address
    assert (folder / CA_CERT).read_bytes() == ca_bytes      # a phone that trusted the CA still does
    assert moved.ca_fingerprint == first.ca_fingerprint
    assert moved.spki_sha256 != first.spki_sha256           # new server key and certificate
    alt = _certs(moved.cert_path)[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("10.0.0.9") in alt.get_values_for_type(x509.IPAddress)


def test_a_server_certificate_near_its_end_is_renewed_and_a_damaged_one_replaced(tmp_path):
    folder = tmp_path / "tls"
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    first = ensure_certificates(folder, ["10.0.0.5"], now=now)
    later = ensure_certificates(folder, ["10.0.0.5"], now=now + dt.timedelta(days=380))
    assert later.spki_sha256 != first.spki_sha256 and later.ca_fingerprint == first.ca_fingerprint
    (folder / SERVER_CERT).write_text("not a certificate")
    fixed = ensure_certificates(folder, ["10.0.0.5"], now=now + dt.timedelta(days=380))
    assert _certs(fixed.cert_path)[0].verify_directly_issued_by(
        x509.load_pem_x509_certificate(fixed.ca_cert_path.read_bytes())) is None
    assert _mode(folder / SERVER_KEY) == 0o600


def test_a_damaged_ca_key_is_one_clear_error(tmp_path):
    import pytest

    from clamcoach.web.tls import CertificateError

    folder = tmp_path / "tls"
    ensure_certificates(folder, ["10.0.0.5"])
    (folder / CA_KEY).write_text("garbage")
    with pytest.raises(CertificateError, match="delete the folder"):
        ensure_certificates(folder, ["10.0.0.5"])
