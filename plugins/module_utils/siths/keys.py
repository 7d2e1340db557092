"""Key strength and signature checks, the way a TLS relying party at security level 2 sees them.

* keys: RSA (and DSA) below 2048 bits and EC below 256 bits are refused;
* signatures: SHA-1 and MD5 are no longer accepted. ``cryptography`` refuses to verify
  them through ``verify_directly_issued_by``, which would make a genuine SHA-1 signature
  look like a forgery; ``signed_by`` tells the two apart by checking the signature with
  the issuer's public key directly.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
WEAK_HASHES = frozenset({"sha1", "md5"})

# signed_by() verdicts
SIGNED = "signed"
SIGNED_WEAK = "signed_weak_hash"  # genuine, but with SHA-1/MD5
NOT_SIGNED = "not_signed"


def key_description(public_key) -> tuple[str, bool]:
    """(``"RSA 2048 bits"``-style text, too weak?) for a public key."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA {public_key.key_size} bits", public_key.key_size < MIN_RSA_BITS
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        size = public_key.curve.key_size
        return f"EC {size} bits ({public_key.curve.name})", size < MIN_EC_BITS
    if isinstance(public_key, dsa.DSAPublicKey):
        return f"DSA {public_key.key_size} bits", True
    if isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return type(public_key).__name__.removesuffix("PublicKey"), False
    return type(public_key).__name__, True


def signature_hash(cert: x509.Certificate) -> str | None:
    """The signature's hash algorithm name (``sha256``), None for Ed25519 or unknown."""
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    return algorithm.name if algorithm is not None else None


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> str:
    """``SIGNED``, ``SIGNED_WEAK`` (genuine but SHA-1/MD5) or ``NOT_SIGNED``."""
    if signature_hash(cert) in WEAK_HASHES:
        if cert.issuer != issuer.subject:
            return NOT_SIGNED
        return SIGNED_WEAK if _verify_raw(cert, issuer) else NOT_SIGNED
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return NOT_SIGNED
    return SIGNED


def _verify_raw(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    key = issuer.public_key()
    algorithm = cert.signature_hash_algorithm
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True
