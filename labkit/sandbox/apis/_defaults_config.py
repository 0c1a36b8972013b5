"""Defaults of the configuration kinds (Secrets): what the v1 conversion and
pkg/apis/core/v1/defaults.go SetDefaults_Secret do before a Secret is validated."""
from __future__ import annotations

import base64


def default_secret(secret: dict, config, old) -> None:
    # Convert_v1_Secret_To_core_Secret: stringData is write-only, merged over data (it wins
    # on a shared key) and never stored.
    string_data = secret.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = secret.get("data")
        if not isinstance(data, dict):
            data = secret["data"] = {}
        for key, value in string_data.items():
            if isinstance(value, str):
                data[key] = base64.b64encode(value.encode("utf-8")).decode("ascii")
    if not secret.get("type"):
        secret["type"] = "Opaque"
