"""The sandbox's own certificate authority and serving certificate.

kubectl (clientcmd) sends a bearer token only over TLS, so the sandbox serves
HTTPS on 127.0.0.1 with a certificate from a CA made for this sandbox's home.
The CA goes into the kubeconfig; nothing is added to the host's trust store.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import ipaddress
import os
from pathlib import Path

from . import _files

LOCK_FILE = ".lock"      # held while the certificates are being made


def ensure_certificates(home: Path) -> tuple[Path, Path, Path]:
    """(ca.crt, server.crt, server.key) under home/pki, made once and then reused."""
    pki = home / "pki"
    ca_crt, crt, key = pki / "ca.crt", pki / "server.crt", pki / "server.key"
    if ca_crt.exists() and crt.exists() and key.exists():
        return ca_crt, crt, key
    _files.ensure_home(pki)
    # One maker at a time: `up` makes them while the server it started is still loading its
    # modules; a server that finds them being made waits for them rather than making others.
    fd = _files.open_private(pki / LOCK_FILE, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if not (ca_crt.exists() and crt.exists() and key.exists()):
            _make_certificates(ca_crt, crt, key)
    finally:
        os.close(fd)          # drops the lock
    return ca_crt, crt, key


def _make_certificates(ca_crt: Path, crt: Path, key: Path) -> None:
    # Imported only when certificates are made: a restart need not pay for it.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    until = now + dt.timedelta(days=3650)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "labkit-sandbox-ca")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(until)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
              .issuer_name(ca_name).public_key(server_key.public_key())
              .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(until)
              .add_extension(x509.SubjectAlternativeName([
                  x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
              .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .sign(ca_key, hashes.SHA256()))
    # The key is 0600 from its creation (never written, then chmod-ed); the CA's own key
    # is never written at all. ca.crt last: its presence means the set is complete.
    _files.write_private(key, server_key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    _files.write_private(crt, server.public_bytes(serialization.Encoding.PEM))
    _files.write_private(ca_crt, ca.public_bytes(serialization.Encoding.PEM))


def server_context(crt: Path, key: Path) -> ssl.SSLContext:
    import ssl
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(crt, key)
    return ctx


def client_context(ca: Path) -> ssl.SSLContext:
    import ssl
    return ssl.create_default_context(cafile=str(ca))


def ensure_service_account_key(home: Path) -> Path:
    """home/pki/sa.key: the RSA key ServiceAccount tokens are signed with (kubeadm's sa.key,
    which kube-apiserver gets as --service-account-signing-key-file), made once and kept."""
    path = home / "pki" / "sa.key"
    if path.exists():
        return path
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    _files.ensure_home(path.parent)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # Two servers starting on one home agree on one key.
    _files.create_once(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return path
