"""The kubectl command line each `Lab` call stands for, shown before its output.

`lab.exec("client", "ping -c 3 web-svc")` prints `$ kubectl exec client -- ping -c 3 web-svc`
first, so a learner sees what they would type on a real job. The line is what a shell user
types: words quoted only where a shell needs it, `sh -c '...'` where labkit runs the string
through a shell (pipes, loops, variables), `-n NS` only when the namespace is not the
context's own (the lesson's `default`, which a workshop maps to `<prefix>-default`, the
namespace a learner's kubeconfig context names).

On by default in a notebook, off elsewhere (scripts, tests); `LABKIT_SHOW_KUBECTL=0` or
`=1` decides instead, and `connect(show_kubectl=...)` or `lab.show_kubectl = ...` decide
for one lab. Calls a `Lab` method makes on its own behalf, and those of probes, widgets and
clusterdns (which wrap their work in `quiet(lab)`), print nothing: one line per call typed.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import os
import shlex
from pathlib import Path


ENV = "LABKIT_SHOW_KUBECTL"
# Characters and first words that make a command string need `sh -c` (POSIX sh grammar:
# operators, quoting, expansions, globbing, comments, assignments, compound commands).
_SHELL_CHARS = set("|&;<>()$`\\\"'*?[]#~={}\n\t")
_SHELL_WORDS = {"for", "while", "until", "if", "case", "!", "{", "(", "[[", "function", "select"}


def default_enabled() -> bool:
    """`LABKIT_SHOW_KUBECTL` when set (0/false/no/off turn it off), else: in a notebook."""
    value = os.environ.get(ENV)
    if value is not None:
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    from ._progress import in_notebook
    return in_notebook()


def quote(word: str) -> str:
    """One word as a shell user would type it: bare when safe, else in single quotes, or in
    double quotes when it holds a single quote and nothing double quotes would expand
    (POSIX 2.2.3: inside them only $, `, \\ before $ ` " \\ or a newline, and bash's ! act)."""
    single = shlex.quote(word)
    if "'" not in word:
        return single
    bad_backslash = any(word[i] == "\\" and word[i + 1:i + 2] in ("$", "`", '"', "\\", "\n", "")
                        for i in range(len(word)))
    if not any(ch in word for ch in '$`"!') and not bad_backslash:
        return f'"{word}"'
    return single


def join(args: list[str]) -> str:
    """Words joined as a POSIX shell user would type them (quotes only where needed)."""
    return " ".join(quote(str(a)) for a in args)


def needs_shell(command: str) -> bool:
    """Whether `sh -c COMMAND` differs from running COMMAND's words directly."""
    if any(ch in _SHELL_CHARS for ch in command):
        return True
    words = command.split()
    return not words or words[0] in _SHELL_WORDS


def exec_argv(command: str | list[str]) -> list[str]:
    """The words after `--`: a plain string's words as they are, else `sh -c` and the string."""
    if isinstance(command, str):
        return command.split() if not needs_shell(command) else ["sh", "-c", command]
    return [str(a) for a in command]


def ns_flag(lab, namespace: str | None) -> list[str]:
    """`-n NS` for a real namespace other than the context's own (the lesson's default)."""
    if namespace is None or namespace == lab.ns("default"):
        return []
    return ["-n", namespace]


def file_arg(source) -> tuple[list[str], str | None]:
    """`-f PATH` per file or folder (relative to the working directory, as typed there), or
    `-f -` and the YAML that goes on stdin."""
    from ._apply import is_path, load
    if is_path(source) or (isinstance(source, (list, tuple)) and source and all(map(is_path, source))):
        args = []
        for item in ([source] if is_path(source) else source):
            path = Path(item)
            try:
                shown = os.path.relpath(path)
            except ValueError:                  # another drive (Windows)
                shown = str(path)
            if path.is_dir() and not shown.endswith(("/", os.sep)):
                shown += "/"
            args += ["-f", shown]
        return args, None
    if isinstance(source, str):
        return ["-f", "-"], source
    import yaml
    return ["-f", "-"], yaml.safe_dump_all(load(source), sort_keys=False)


def line(args: list[str], stdin: str | None = None) -> str:
    """`$ kubectl ARGS`, with a here-document when the input is given on stdin."""
    text = "$ kubectl " + join(args)
    if stdin is not None:
        body = stdin.rstrip("\n")
        end = "EOF"
        while end in body.splitlines():            # the delimiter must not be a line of the input
            end += "_"
        text += f" <<'{end}'\n{body}\n{end}"
    return text


def shows(build):
    """Decorate a `Lab` method: print `build(lab, **arguments)`'s lines before the call runs,
    when the lab shows kubectl and the call is not made by labkit itself."""
    def wrap(method):
        signature = inspect.signature(method)

        @functools.wraps(method)
        def call(lab, *args, **kwargs):
            outermost = lab._kubectl_depth == 0
            if outermost and lab.show_kubectl:
                try:
                    bound = signature.bind(lab, *args, **kwargs)
                    bound.apply_defaults()
                    arguments = dict(bound.arguments)
                    arguments.pop(next(iter(signature.parameters)))
                    lines = build(lab, **arguments)
                except Exception:                 # noqa: BLE001 - the line is a courtesy: the call
                    lines = []                    # itself runs, and says what is wrong with it
                for text in lines:
                    print(text)
            lab._kubectl_depth += 1
            if outermost:
                lab._kubectl_echoing = lab.show_kubectl
            try:
                return method(lab, *args, **kwargs)
            finally:
                lab._kubectl_depth -= 1
                if lab._kubectl_depth == 0:
                    lab._kubectl_echoing = False
        return call
    return wrap


def also(lab, args: list[str]) -> None:
    """Print one more line for the call being shown (a `kubectl wait` that `apply(wait=True)` implies)."""
    if getattr(lab, "_kubectl_echoing", False):
        print(line(args))


@contextlib.contextmanager
def quiet(lab):
    """Calls made inside print no kubectl line: labkit's own work (a probe's exec loop)."""
    if not hasattr(lab, "_kubectl_depth"):
        yield                                    # a stand-in lab in a test
        return
    lab._kubectl_depth += 1
    try:
        yield
    finally:
        lab._kubectl_depth -= 1


def quietly(function):
    """Decorate a module function whose first argument is a lab: its calls print no lines."""
    @functools.wraps(function)
    def call(lab, *args, **kwargs):
        with quiet(lab):
            return function(lab, *args, **kwargs)
    return call


# --- one builder per Lab verb ---------------------------------------------------------

def apply(lab, source, namespace=None, **_) -> list[str]:
    files, stdin = file_arg(source)
    ns = ns_flag(lab, lab.ns(namespace)) if namespace else []
    # labkit applies server-side (and takes over conflicting fields, as --force-conflicts).
    return [line(["apply", "--server-side", *files, *ns], stdin)]


def ready_wait(lab, plural: str, name: str, namespace: str | None, timeout: float) -> list[str]:
    """What a shell user runs after `kubectl apply` to wait as `apply(wait=True)` does."""
    ns = ns_flag(lab, namespace)
    if plural == "deployments":
        return ["rollout", "status", f"deployment/{name}", *ns, f"--timeout={timeout:g}s"]
    if plural == "namespaces":
        return ["wait", "--for=jsonpath={.status.phase}=Active", f"namespace/{name}", f"--timeout={timeout:g}s"]
    return ["wait", "--for=condition=Ready", f"pod/{name}", *ns, f"--timeout={timeout:g}s"]


def delete(lab, source_or_kind, name=None, namespace=None, wait=True, ignore_not_found=False,
           cascade="background", **_) -> list[str]:
    if name is not None:
        res = lab._resources.lookup(source_or_kind)
        target = [source_or_kind, name, *(ns_flag(lab, lab.ns(namespace or "default")) if res.namespaced else [])]
        stdin = None
    else:
        files, stdin = file_arg(source_or_kind)
        target = [*files, *(ns_flag(lab, lab.ns(namespace)) if namespace else [])]
    flags = ((["--ignore-not-found"] if ignore_not_found else []) + ([] if wait else ["--wait=false"])
             + ([] if cascade == "background" else [f"--cascade={cascade}"]))
    return [line(["delete", *target, *flags], stdin)]


def _get_target(lab, kind, namespace, selector, name=None) -> list[str]:
    res = lab._resources.lookup(kind)
    words = [kind] + ([name] if name else [])
    if res.namespaced:
        words += ns_flag(lab, lab.ns(namespace, read_only=True)) if namespace else ["-A"]
    return words + (["-l", selector] if selector else [])


def get(lab, kind, name=None, namespace="default", selector=None, **_) -> list[str]:
    return [line(["get", *_get_target(lab, kind, namespace, selector, name), "-o", "wide"])]


def get_object(lab, kind, name, namespace="default", **_) -> list[str]:
    return [line(["get", *_get_target(lab, kind, namespace, None, name), "-o", "json"])]


def list_objects(lab, kind, namespace="default", selector=None, **_) -> list[str]:
    return [line(["get", *_get_target(lab, kind, namespace, selector), "-o", "json"])]


def describe(lab, kind, name, namespace="default", **_) -> list[str]:
    return [line(["describe", *_get_target(lab, kind, namespace, None, name)])]


def exec(lab, pod, command, namespace="default", container=None, **_) -> list[str]:
    container_flag = ["-c", container] if container else []
    return [line(["exec", pod, *ns_flag(lab, lab.ns(namespace)), *container_flag, "--", *exec_argv(command)])]


def resolv_conf(lab, pod, namespace="default", **_) -> list[str]:
    return exec(lab, pod, ["cat", "/etc/resolv.conf"], namespace)


def logs(lab, pod, namespace="default", tail=None, container=None, timestamps=False, **_) -> list[str]:
    flags = (["-c", container] if container else []) + ([f"--tail={tail}"] if tail is not None else []) + \
        (["--timestamps"] if timestamps else [])
    return [line(["logs", pod, *ns_flag(lab, lab.ns(namespace, read_only=True)), *flags])]


def patch(lab, kind, name, patch, namespace="default", type="strategic", **_) -> list[str]:
    import json
    res = lab._resources.lookup(kind)
    ns = ns_flag(lab, lab.ns(namespace)) if res.namespaced else []
    flag = [] if type == "strategic" else [f"--type={type}"]
    return [line(["patch", kind, name, *ns, *flag, "-p", json.dumps(patch, separators=(",", ":"))])]


def scale(lab, deployment, replicas, namespace="default", wait=True, timeout=60, **_) -> list[str]:
    ns = ns_flag(lab, lab.ns(namespace))
    lines = [line(["scale", "deployment", deployment, f"--replicas={int(replicas)}", *ns])]
    if wait:
        lines.append(line(["rollout", "status", f"deployment/{deployment}", *ns, f"--timeout={timeout:g}s"]))
    return lines


def rollout_status(lab, deployment, namespace="default", timeout=60, **_) -> list[str]:
    return [line(["rollout", "status", f"deployment/{deployment}", *ns_flag(lab, lab.ns(namespace)),
                  f"--timeout={timeout:g}s"])]


def wait(lab, kind, name, condition=None, namespace="default", timeout=60, **_) -> list[str]:
    res = lab._resources.lookup(kind)
    condition = condition or ("Available" if res.kind == "Deployment" else "Ready")
    ns = ns_flag(lab, lab.ns(namespace)) if res.namespaced else []
    wanted = "--for=delete" if condition == "delete" else f"--for=condition={condition}"
    return [line(["wait", wanted, f"{kind}/{name}", *ns, f"--timeout={timeout:g}s"])]


def kubelet_config(lab, node=None, **_) -> list[str]:
    # kubectl has no verb for the kubelet's configz: the raw proxy path, as the docs read it
    # (tasks/administer-cluster/kubelet-config-file: "Viewing the kubelet configuration").
    if node is None:
        node = "$(kubectl get nodes -o jsonpath='{.items[0].metadata.name}')"
    return [f'$ kubectl get --raw "/api/v1/nodes/{node}/proxy/configz"']
