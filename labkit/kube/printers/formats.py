"""Cell formats the printers share: object names and ages, endpoint and container lists."""
from __future__ import annotations

import datetime as dt
from typing import Any

from .durations import translate_timestamp_since

__all__ = ["format_endpoints"]


def meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def age(obj: dict, now: dt.datetime) -> str:
    return translate_timestamp_since(meta(obj).get("creationTimestamp"), now)


def join_host_port(host: str, port: Any) -> str:
    # net.JoinHostPort brackets IPv6 literals.
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def list_with_more(items: list[str], count: int, limit: int = 3) -> str:
    """listWithMoreString: the first three, then " + N more...", "<unset>" if none."""
    text = ",".join(items[:limit])
    if count > limit:
        return f"{text} + {count - limit} more..."
    return text or "<unset>"


def layout_containers(containers: list[dict] | None) -> tuple[str, str]:
    containers = containers or []
    return (",".join(c.get("name", "") for c in containers),
            ",".join(c.get("image", "") for c in containers))


def format_endpoints(endpoints: dict) -> str:
    """formatEndpoints: "ip:port" for up to three, then " + N more...", "<none>" if no subsets."""
    subsets = endpoints.get("subsets") or []
    if not subsets:
        return "<none>"
    shown: list[str] = []
    limit, more, count = 3, False, 0
    for subset in subsets:
        addresses = subset.get("addresses") or []
        ports = subset.get("ports") or []
        if not ports:
            # A headless service may publish addresses without ports.
            count += len(addresses)
            for addr in addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(addr.get("ip", ""))
            continue
        for port in ports:
            count += len(addresses)
            for addr in addresses:
                if len(shown) == limit:
                    more = True
                    break
                shown.append(join_host_port(addr.get("ip", ""), port.get("port", 0)))
    text = ",".join(shown)
    return f"{text} + {count - limit} more..." if more else text

