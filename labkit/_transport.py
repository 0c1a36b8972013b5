"""The one request path to a cluster: JSON over the official client's ApiClient, with labkit's errors."""
from __future__ import annotations

import json

from . import errors


class Transport:
    """JSON requests over an official `ApiClient`, with labkit errors."""

    def __init__(self, api_client) -> None:
        self.api_client = api_client
        self.server = api_client.configuration.host

    def request(self, method: str, path: str, *, query: dict | list | None = None, body=None,
                content_type: str | None = None, timeout: float | None = None, raw: bool = False,
                stream: bool = False):
        """Send one request; return parsed JSON (text when `raw`, the open response when `stream`)."""
        query = list(query.items()) if isinstance(query, dict) else list(query or [])
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        try:
            resp = self._send(method, path, query, headers, body, timeout)
        except errors.LabkitError:
            raise
        except Exception as e:
            raise errors.translate(e, self.server) from e
        if stream:
            return resp
        data = resp.data if hasattr(resp, "data") and resp.data is not None else resp.read()
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        if raw:
            return text
        return json.loads(text) if text.strip() else None

    def _send(self, method, path, query, headers, body, timeout):
        client = self.api_client
        method, url, headers, body, post = client.param_serialize(
            method, path, query_params=query, header_params=headers, body=body, auth_settings=["BearerToken"])
        resp = client.call_api(method, url, headers, body, post, _request_timeout=timeout)
        status = getattr(resp, "status", 200)
        if not 200 <= status <= 299:
            resp.read()
            from kubernetes.client.exceptions import ApiException
            e = ApiException(status=status, reason=getattr(resp, "reason", ""))
            e.body = resp.data.decode("utf-8", "replace") if resp.data else ""
            raise errors.translate(e, self.server) from e
        return resp.response
