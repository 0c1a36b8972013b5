"""ServiceAccount tokens: issued by TokenRequest, checked on every request that carries one.

As pkg/serviceaccount (jwt.go, claims.go): an RS256 JWT whose `kid` is the hash of the
signing key's public half, with the registered claims (iss, sub, aud, exp, iat, nbf, jti)
and the private `kubernetes.io` claim naming the account's namespace, name and uid. A token
is accepted while it is unexpired on the sandbox's clock, was signed by this sandbox, names
an audience the API server accepts, and its account still exists with the same uid.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid

from ._user import UserInfo, service_account_groups, service_account_username

# kind's kube-apiserver: --service-account-issuer=https://kubernetes.default.svc.cluster.local,
# and the API audiences default to the issuer.
CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"
POD_NAME, POD_UID = "authentication.kubernetes.io/pod-name", "authentication.kubernetes.io/pod-uid"


def issuer_for(cluster_domain: str) -> str:
    return f"https://kubernetes.default.svc.{cluster_domain}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _canonical(obj: dict) -> bytes:
    # go-jose merges the claim structs into one map: keys come out sorted, without spaces.
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


class TokenSigner:
    """Signs and checks the sandbox's ServiceAccount tokens with one RSA key (home/pki/sa.key)."""

    def __init__(self, key_pem: bytes, issuer: str) -> None:
        from cryptography.hazmat.primitives import serialization
        self._key = serialization.load_pem_private_key(key_pem, password=None)
        self._public = self._key.public_key()
        der = self._public.public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
        self.key_id = _b64(hashlib.sha256(der).digest())     # keyIDFromPublicKey
        self.issuer = issuer
        self.audiences = (issuer,)

    # --- issuing (TokenRequest) ---------------------------------------------------------
    def issue(self, account: dict, *, now: float, seconds: int, audiences: list[str],
              bound_pod: dict | None = None, node: dict | None = None) -> str:
        meta = account["metadata"]
        k8s: dict = {"namespace": meta["namespace"],
                     "serviceaccount": {"name": meta["name"], "uid": meta["uid"]}}
        if bound_pod is not None:
            k8s["pod"] = {"name": bound_pod["metadata"]["name"], "uid": bound_pod["metadata"]["uid"]}
            if node is not None:        # the pod's node, as a pod-bound token names it since 1.30
                k8s["node"] = {"name": node["metadata"]["name"], "uid": node["metadata"]["uid"]}
        issued = int(now)
        claims = {"iss": self.issuer, "sub": service_account_username(meta["namespace"], meta["name"]),
                  "aud": list(audiences), "exp": issued + seconds, "iat": issued, "nbf": issued,
                  "jti": str(uuid.uuid4()), "kubernetes.io": k8s}
        header = {"alg": "RS256", "kid": self.key_id}
        signing_input = f"{_b64(_canonical(header))}.{_b64(_canonical(claims))}"
        return f"{signing_input}.{_b64(self._sign(signing_input.encode()))}"

    def _sign(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    # --- checking (the bearer token authenticator) ---------------------------------------
    def claims(self, token: str, now: float) -> dict | None:
        """The token's claims if this sandbox signed it and it is valid now, else None."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            header = json.loads(_unb64(parts[0]))
            claims = json.loads(_unb64(parts[1]))
            signature = _unb64(parts[2])
        except (ValueError, binascii.Error):
            return None
        if not isinstance(header, dict) or header.get("alg") != "RS256" or not isinstance(claims, dict):
            return None
        try:
            self._public.verify(signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return None
        aud = claims.get("aud")
        aud = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        exp, nbf = claims.get("exp"), claims.get("nbf", 0)
        if claims.get("iss") != self.issuer or not set(aud) & set(self.audiences):
            return None
        if not isinstance(exp, (int, float)) or now >= exp or not isinstance(nbf, (int, float)) or now < nbf:
            return None
        return claims

    def authenticate(self, token: str, now: float, lookup) -> UserInfo | None:
        """The user a token stands for; lookup(namespace, name) finds the ServiceAccount
        (and lookup_pod, when the token is bound to one, is the same with pods). A token
        whose account (or pod) is gone, or was re-created with another uid, is refused."""
        claims = self.claims(token, now)
        if claims is None:
            return None
        k8s = claims.get("kubernetes.io")
        if not isinstance(k8s, dict) or not isinstance(k8s.get("serviceaccount"), dict):
            return None
        ns, sa = k8s.get("namespace"), k8s["serviceaccount"]
        account = lookup("serviceaccounts", ns, sa.get("name"))
        if account is None or account["metadata"]["uid"] != sa.get("uid"):
            return None
        extra = {CREDENTIAL_ID: [f"JTI={claims.get('jti', '')}"]}
        pod = k8s.get("pod")
        if isinstance(pod, dict):
            live = lookup("pods", ns, pod.get("name"))
            if live is None or live["metadata"]["uid"] != pod.get("uid"):
                return None
            extra.update({POD_NAME: [pod["name"]], POD_UID: [pod["uid"]]})
        return UserInfo(service_account_username(ns, sa["name"]), service_account_groups(ns),
                        uid=account["metadata"]["uid"], extra=extra)
