"""What form a read answers in, from the Accept header's `as=` parameter
(k8s.io/apiserver/pkg/endpoints/handlers/response.go transformResponseObject): the object
itself, a Table (kubectl get), or only the metadata (PartialObjectMetadata and
PartialObjectMetadataList, which metadata informers and the garbage collector read)."""
from __future__ import annotations

import re

_AS = re.compile(r"(?:^|;)\s*as=([A-Za-z]+)")
META_V1 = "meta.k8s.io/v1"


def target_kind(accept: str) -> str | None:
    """"Table", "PartialObjectMetadata" or "PartialObjectMetadataList" when the first media
    type asking for one (in group meta.k8s.io) does; None for the object as stored."""
    for media in accept.split(","):
        found = _AS.search(media)
        if found and "g=meta.k8s.io" in media.replace(" ", ""):
            return found.group(1)
    return None


def partial(obj: dict) -> dict:
    """meta.AsPartialObjectMetadata: the object's metadata under its own kind."""
    return {"kind": "PartialObjectMetadata", "apiVersion": META_V1, "metadata": obj.get("metadata") or {}}


def partial_list(items: list[dict], list_meta: dict) -> dict:
    """asPartialObjectMetadataList: the list's metadata, each item as PartialObjectMetadata."""
    return {"kind": "PartialObjectMetadataList", "apiVersion": META_V1, "metadata": list_meta,
            "items": [partial(o) for o in items]}
