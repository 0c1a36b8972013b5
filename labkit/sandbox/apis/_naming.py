"""Names, hashes and uids: deterministic for a seed, shaped like Kubernetes' own.

Values are derived from an object's identity and the seed, never from history,
so a notebook shows the same pod names whatever ran before it.
"""
from __future__ import annotations

import hashlib
import json
import uuid

# k8s.io/apimachinery/pkg/util/rand: consonants and digits without look-alikes,
# so generated names never spell words.
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode(text: str) -> str:
    """rand.SafeEncodeString: each byte mapped onto the safe alphabet."""
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in text.encode())


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def pod_template_hash(template: dict, collision_count: int = 0) -> str:
    """controller.ComputeHash: FNV-32a over the template (and collision count), safe-encoded.

    Go hashes its struct printing, so values differ from a real cluster's; the
    shape (up to 10 safe characters) and the behaviour (it changes with the
    template) are the same.
    """
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    return safe_encode(str(fnv32a(data)))


def _digest(seed: int, *parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(map(str, (seed, *parts))).encode()).digest()


def name_suffix(seed: int, namespace: str, prefix: str, attempt: int, length: int = 5) -> str:
    """The random suffix generateName adds (names.SimpleNameGenerator: 5 safe characters)."""
    digest = _digest(seed, "name", namespace, prefix, attempt)
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in digest[:length])


def object_uid(seed: int, kind: str, namespace: str | None, name: str, incarnation: int) -> str:
    return str(uuid.UUID(bytes=_digest(seed, "uid", kind, namespace, name, incarnation)[:16], version=4))


def spread(seed: int, *parts: object) -> int:
    """A stable integer for picking among candidates (addresses, nodes)."""
    return int.from_bytes(_digest(seed, *parts)[:8], "big")


def pod_sandbox_id(seed: int, namespace: str, name: str) -> str:
    """The 64-hex-digit id the container runtime gives a pod's sandbox (what the kubelet's
    events and port-forward errors name), stable for the pod's name and the seed."""
    return "".join(f"{spread(seed, 'sandbox', i, namespace, name):016x}" for i in range(4))
