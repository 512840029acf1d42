"""The certificates for phone mode: a small local certificate authority and a server
certificate for this computer's network addresses, made on first use with ``cryptography``.

A phone's browser gives a page the camera only on a secure origin, so ``clamcoach serve
--phone`` speaks HTTPS. Nobody outside can vouch for a computer on a home network, so this
computer vouches for itself: the CA (kept for years, so a phone that trusted it once keeps
trusting it) signs a short-lived server certificate, re-issued whenever the addresses change
or it nears its end. Everything lives in the user's config folder (``tls/``), the folder and
the private keys readable only by the user (0700 / 0600). Files are written atomically.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
import socket
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from clamcoach.errors import OutputError

CA_DAYS = 3650
#: Apple's platforms refuse TLS server certificates valid for more than 825 days even from a
#: user-trusted CA, and browsers cap public ones at 398: stay under both.
SERVER_DAYS = 397
RENEW_BEFORE = dt.timedelta(days=30)
CA_CERT, CA_KEY = "ca.pem", "ca-key.pem"
SERVER_CERT, SERVER_KEY = "server.pem", "server-key.pem"
ORG = "clamcoach (this computer)"


class CertificateError(OutputError):
    """The certificate folder cannot be used (not writable, or holds a damaged file)."""


@dataclass(frozen=True)
class ServerIdentity:
    """What the server and the pairing page need to know about the certificates."""

    folder: Path
    cert_path: Path        # the server certificate followed by the CA's (the chain sent)
    key_path: Path         # the server's private key (0600), never served
    ca_cert_path: Path     # the CA certificate, offered for download
    ca_fingerprint: str    # SHA-256 of the CA certificate, "AB:CD:..." as browsers show it
    spki_sha256: str       # base64 SHA-256 of the server key's SubjectPublicKeyInfo


def default_folder() -> Path:
    """``<user config dir>/clamcoach/tls`` (platformdirs: XDG_CONFIG_HOME on Linux)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("clamcoach")) / "tls"


def local_names() -> list[str]:
    """The DNS names the certificate covers: this host's ``.local`` name and localhost."""
    host = socket.gethostname().split(".")[0].strip().lower()
    names = [f"{host}.local"] if host and host != "localhost" else []
    return [*names, "localhost"]


def spki_sha256(cert: x509.Certificate) -> str:
    """The value Chromium's ``--ignore-certificate-errors-spki-list`` takes for ``cert``."""
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def fingerprint(cert: x509.Certificate) -> str:
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def ensure_certificates(folder: Path, addresses: Sequence[str], names: Sequence[str] = (), *,
                        now: dt.datetime | None = None) -> ServerIdentity:
    """The CA (made once) and a server certificate covering ``addresses`` and ``names``
    (re-issued when missing, about to expire, not covering them, or not from this CA)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    ips = sorted({ipaddress.ip_address(a) for a in addresses}, key=lambda ip: (ip.version, ip))
    dns = sorted(set(names))
    _make_private_folder(folder)
    ca_cert, ca_key = _load_or_make_ca(folder, now)
    server = _load_cert(folder / SERVER_CERT)
    if server is None or not (folder / SERVER_KEY).exists() or _needs_new(server, ca_cert, ips, dns, now):
        key = ec.generate_private_key(ec.SECP256R1())
        server = _server_cert(key, ca_cert, ca_key, ips, dns, now)
        _write(folder / SERVER_KEY, _key_pem(key), private=True)
        _write(folder / SERVER_CERT, _cert_pem(server) + _cert_pem(ca_cert))
    return ServerIdentity(folder=folder, cert_path=folder / SERVER_CERT, key_path=folder / SERVER_KEY,
                          ca_cert_path=folder / CA_CERT, ca_fingerprint=fingerprint(ca_cert),
                          spki_sha256=spki_sha256(server))


# -- making --------------------------------------------------------------------------------

def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _load_or_make_ca(folder: Path, now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = _load_cert(folder / CA_CERT)
    key_path = folder / CA_KEY
    if cert is not None and key_path.exists():
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise CertificateError(f"{key_path} is damaged ({exc}); delete the folder {folder} "
                                   "to make new certificates (phones then trust them anew)") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise CertificateError(f"{key_path} is not a key clamcoach made; delete the folder {folder}")
        if cert.not_valid_after_utc - RENEW_BEFORE > now:
            return cert, key
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(f"clamcoach local CA ({socket.gethostname()})")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    _write(key_path, _key_pem(key), private=True)
    _write(folder / CA_CERT, _cert_pem(cert))
    return cert, key


def _server_cert(key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate,
                 ca_key: ec.EllipticCurvePrivateKey, ips: list, dns: list[str],
                 now: dt.datetime) -> x509.Certificate:
    alt = [x509.DNSName(n) for n in dns] + [x509.IPAddress(ip) for ip in ips]
    common = dns[0] if dns else str(ips[0]) if ips else "clamcoach"
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (x509.CertificateBuilder()
            .subject_name(_name(common)).issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(min(now + dt.timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))


def _needs_new(cert: x509.Certificate, ca_cert: x509.Certificate, ips: list, dns: list[str],
               now: dt.datetime) -> bool:
    if cert.issuer != ca_cert.subject or cert.not_valid_after_utc - RENEW_BEFORE <= now:
        return True
    try:
        cert.verify_directly_issued_by(ca_cert)
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, x509.ExtensionNotFound, InvalidSignature):
        return True
    return not (set(ips) <= set(alt.get_values_for_type(x509.IPAddress))
                and set(dns) <= set(alt.get_values_for_type(x509.DNSName)))


# -- files ---------------------------------------------------------------------------------

def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load_cert(path: Path) -> x509.Certificate | None:
    if not path.exists():
        return None
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError:
        return None  # damaged: made anew (a certificate holds no secret)


def _make_private_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)
    except OSError as exc:
        raise CertificateError(f"cannot use the certificate folder {folder}: {exc.strerror or exc}") from None


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Atomically: a temporary file beside ``path`` (0600 from its creation), then a rename."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            os.fchmod(fd, 0o600 if private else 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CertificateError(f"cannot write {path}: {exc.strerror or exc}") from None

