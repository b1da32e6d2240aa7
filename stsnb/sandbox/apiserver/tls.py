"""TLS for the sandbox's API port: a certificate authority and a serving certificate made at each start.

Why: kubectl (client-go's ``clientcmd``) sends a kubeconfig's credentials only
over TLS; against ``http://`` it sends no ``Authorization`` header at all
(kubernetes/kubectl issue #744). A sandbox that authenticates must therefore
speak HTTPS to kubectl, as every real cluster does. The certificates are made
fresh for each sandbox with the ``cryptography`` package: an ECDSA P-256 CA
(``stsnb-sandbox-ca``) and a serving certificate for ``127.0.0.1`` and
``localhost`` signed by it; the CA goes into the kubeconfig as
``certificate-authority-data``, as ``kind`` and ``minikube`` write theirs.

The same port still answers plain HTTP (the server tells the two apart by the
first byte a client sends: ``0x16`` starts a TLS handshake), so in-process
clients built by :meth:`Sandbox.api_client` keep the cheaper plain connection;
they send the bearer token either way.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ServingCertificates", "make_certificates"]


@dataclass
class ServingCertificates:
    """PEM bytes of the CA, and a server context that presents the serving certificate."""

    ca_pem: bytes
    context: ssl.SSLContext


def make_certificates(common_name: str = "stsnb-sandbox") -> ServingCertificates:
    """A new CA and a serving certificate for 127.0.0.1/localhost, valid for a year from an hour ago."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(days=365)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{common_name}-ca")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    ca_pem = ca_cert.public_bytes(pem)
    chain = cert.public_bytes(pem) + ca_pem
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="stsnb-tls-") as tmp:  # load_cert_chain reads files only
        cert_file, key_file = Path(tmp) / "tls.crt", Path(tmp) / "tls.key"
        cert_file.write_bytes(chain)
        key_file.write_bytes(key_pem)
        key_file.chmod(0o600)
        context.load_cert_chain(cert_file, key_file)
    return ServingCertificates(ca_pem, context)
