"""Interactive explorers (ipywidgets) for lessons 03-05.

Each function returns a VBox whose controls are attributes (`w.slider`, `w.name`,
`w.namespace`), with `w.figure` (the current matplotlib Figure), `w.data` (the DataFrame
behind it) and `w.output` (the `ipywidgets.Output` the figure is drawn into). Setting a
control's value from code redraws exactly as dragging it does.

Rendered notebooks (nbviewer, nbconvert, nbval) have no kernel to run the callbacks, so
each explorer, when created, also displays its first figure as an ordinary cell output:

    w = labkit.widgets.replica_slider(lab)   # shows the figure for the current replicas
    w                                        # the live widget: slider, status, figure

A static page keeps that figure; a live kernel shows both and redraws the widget's own.
Pass `static=False` to skip the extra figure.
"""
from __future__ import annotations

from . import plots, probes
from ._kubectl_lines import quiet, quietly

__all__ = ["replica_slider", "name_explorer", "ndots_explorer", "resolver_queries"]

# The lab's Services: the names the ndots model treats as existing inside the cluster.
LAB_SERVICES = (("web-svc", "default"), ("web-clusterip", "default"), ("kubernetes", "default"),
                ("kube-dns", "kube-system"))
# Outside names resolve when their last label is a top-level domain (a model, not the root zone).
TLDS = ("com", "net", "org", "io", "dev", "edu", "gov")


def _display(obj) -> None:
    from IPython.display import display
    display(obj)


def _box(children, **controls):
    import ipywidgets
    box = ipywidgets.VBox(children)
    for name, value in controls.items():
        setattr(box, name, value)
    box.figure = box.data = None
    return box


def _draw(box, fig, static: bool = False) -> None:
    """Show `fig` in the widget's Output (and once as a plain output for static pages)."""
    box.figure = fig
    box.output.clear_output(wait=True)
    with box.output:
        _display(fig)
    if static:
        _display(fig)


def _error_figure(message: str):
    fig, ax = plots._figure("Could not draw", "", "")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    ax.set_axis_off()
    return fig


# --- replica slider (lesson 04) -------------------------------------------------------
@quietly
def replica_slider(lab, deployment: str = "nginx-deployment", service: str = "web-svc", pod: str = "client",
                   samples: int = 100, max_replicas: int = 6, namespace: str = "default", static: bool = True,
                   dns_timeout: float = 40.0):
    """A slider of the Deployment's replicas: each move scales (waiting until the Service's
    endpoints follow, then until DNS answers with every pod: the DNS cache may hold the old
    answer for its cache time, 30 s in kubeadm's Corefile, see `probes.wait_dns`; the
    sandbox skips that wait by moving its clock), resolves `service` `samples` times from
    `pod`, and plots which pod IP came first.
    Attributes: slider, status (a Label), output, figure, data."""
    import ipywidgets
    current = (lab.get_object("deployment", deployment, namespace).get("spec") or {}).get("replicas", 1)
    slider = ipywidgets.IntSlider(value=max(1, min(current, max_replicas)), min=1, max=max_replicas,
                                  description="replicas", continuous_update=False)
    status = ipywidgets.Label()
    output = ipywidgets.Output()
    box = _box([slider, status, output], slider=slider, status=status, output=output)

    def redraw(replicas: int, first: bool = False) -> None:
        with quiet(lab):
            _redraw(replicas, first)

    def _redraw(replicas: int, first: bool = False) -> None:
        try:
            status.value = f"scaling {deployment} to {replicas}..."
            lab.scale(deployment, replicas, namespace=namespace)
            status.value = f"{replicas} ready, waiting for DNS to answer with all of them..."
            waited = probes.wait_dns(lab, pod, service, replicas, namespace=namespace, timeout=dns_timeout)
            df = probes.dns(lab, pod, service, samples=samples, namespace=namespace)
            box.data = df
            seen = df["first"].nunique()
            status.value = (f"{replicas} replica{'s' if replicas != 1 else ''}: {service} answered with "
                            f"{seen} different first address{'es' if seen != 1 else ''} in {len(df)} lookups"
                            + (f" (DNS caught up after {waited:g} s)" if waited >= 1 else ""))
            # Every ready address gets a bar, so a pod that never came first shows as zero.
            addresses = sorted({a for answer in df["answers"] for a in answer})
            fig = plots.answers_per_pod(df, title=f"{service}: first answer, {replicas} replicas ({len(df)} lookups)",
                                        addresses=addresses)
        except Exception as e:                     # shown in the widget, not lost in a callback
            status.value = f"error: {e}"
            fig = _error_figure(str(e))
        _draw(box, fig, static=first and static)

    slider.observe(lambda change: redraw(change["new"]), names="value")
    redraw(slider.value, first=True)
    return box


# --- name explorer (lesson 03) --------------------------------------------------------
@quietly
def name_explorer(lab, pod: str = "client", name: str = "web-svc", namespaces=("default", "test"),
                  static: bool = True):
    """Type a name, pick the client's namespace: every query the pod's resolver sends for it
    (the search-list walk) as a table and a plot, and what `getent hosts` finally answers.
    Attributes: name (Text), namespace (Dropdown), answer (Label), table (HTML), output,
    figure, data."""
    import ipywidgets
    text = ipywidgets.Text(value=name, description="name", continuous_update=False)
    dropdown = ipywidgets.Dropdown(options=[(lab.ns(n), n) for n in namespaces], value=namespaces[0],
                                   description="client in")
    answer = ipywidgets.Label()
    table = ipywidgets.HTML()
    output = ipywidgets.Output()
    box = _box([ipywidgets.HBox([text, dropdown]), answer, table, output],
               name=text, namespace=dropdown, answer=answer, table=table, output=output)

    def redraw(first: bool = False) -> None:
        with quiet(lab):
            _redraw(first)

    def _redraw(first: bool = False) -> None:
        qname, ns = text.value.strip(), dropdown.value
        try:
            walk = probes.search_walk(lab, pod, qname, namespace=ns)
            box.data = walk
            got = lab.exec(pod, ["getent", "hosts", qname], namespace=ns)
            addresses = [line.split()[0] for line in got.stdout.splitlines() if line.split()]
            answer.value = (f"{qname} from {lab.ns(ns)}: {', '.join(addresses)}" if got.ok and addresses else
                            f"{qname} from {lab.ns(ns)}: does not resolve (getent exit {got.exit_code})")
            table.value = walk.to_html(index=False)
            fig = plots.search_walk(walk, title=f"{qname} from {lab.ns(ns)}: {len(walk)} queries")
        except Exception as e:
            answer.value, table.value = f"error: {e}", ""
            fig = _error_figure(str(e))
        _draw(box, fig, static=first and static)

    text.observe(lambda change: redraw(), names="value")
    dropdown.observe(lambda change: redraw(), names="value")
    redraw(first=True)
    return box


# --- ndots explorer (lesson 05), no cluster needed --------------------------------------
def _domain(lab, cluster_domain: str | None) -> str:
    """The cluster domain asked for, else the lab's (`lab.cluster_domain`), else kubeadm's default."""
    if cluster_domain:
        return cluster_domain.strip(".")
    if lab is not None:
        return lab.cluster_domain
    from ._lab import DEFAULT_CLUSTER_DOMAIN
    return DEFAULT_CLUSTER_DOMAIN


def _exists_in_lab(cluster_domain: str, lab=None, services=LAB_SERVICES):
    # A workshop maps the lesson namespaces (`default` -> `alice-default`); kube-system stays.
    real = (lambda ns: lab.ns(ns, read_only=True)) if lab is not None else (lambda ns: ns)
    inside = {f"{svc}.{real(ns)}.svc.{cluster_domain}" for svc, ns in services}

    def exists(name: str) -> bool:
        name = name.rstrip(".").lower()
        if name == cluster_domain or name.endswith("." + cluster_domain):
            return name in inside
        return "." in name and name.rsplit(".", 1)[1] in TLDS
    return exists


def resolver_queries(name: str, namespace: str = "default", ndots: int = 5,
                     cluster_domain: str | None = None, exists=None, libc: str = "glibc",
                     qtypes=("A", "AAAA"), lab=None):
    """The queries a pod's getaddrinfo() sends for `name` (A and AAAA per candidate, glibc's
    search order, resolv/res_query.c), stopping at the first candidate that exists.
    `qtypes=("A",)` for callers that pass AI_ADDRCONFIG in an IPv4-only pod (`getent ahosts`).

    A model, computed without a cluster: `exists(name) -> bool` says which names have
    records; by default the lab's Services and names under a common top-level domain.
    `cluster_domain`: default `lab.cluster_domain` when a `lab` is given, else `cluster.local`.
    Columns: step, query, qtype, exists.
    """
    import pandas as pd
    from .kube.resolvconf import ResolvConf, candidates
    cluster_domain = _domain(lab, cluster_domain)
    exists = exists or _exists_in_lab(cluster_domain, lab)
    conf = ResolvConf(search=[f"{namespace}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain],
                      options={"ndots": int(ndots)})     # glibc caps ndots at 15 (RES_MAXNDOTS)
    rows = []
    for candidate in candidates(name.strip(), conf, libc):
        found = bool(exists(candidate))
        for qtype in qtypes:
            rows.append({"step": len(rows) + 1, "query": candidate, "qtype": qtype, "exists": found})
        if found:
            break
    return pd.DataFrame(rows, columns=["step", "query", "qtype", "exists"])


def _queries_figure(counts: dict[str, tuple[int, bool]], ndots: int, namespace: str):
    fig, ax = plots._figure(f"Queries per lookup (ndots:{ndots}, client in {namespace})",
                            "queries sent (A + AAAA)", "name", size=(7, 1 + 0.4 * len(counts)))
    names = list(counts)
    values = [counts[n][0] for n in names]
    ax.barh(range(len(names)), values, color=["tab:green" if counts[n][1] else "tab:red" for n in names])
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    for i, v in enumerate(values):
        ax.text(v, i, f" {v}", va="center")
    ax.set_xlim(0, max(values + [1]) * 1.15)
    fig.tight_layout()
    return fig


def ndots_explorer(name: str = "example.com", namespace: str = "default", ndots: int = 5,
                   names=None, cluster_domain: str | None = None, exists=None, static: bool = True, lab=None):
    """Slide ndots (1..15), type a name and the client's namespace: the queries a glibc pod
    sends for it, and a bar per name of how many queries each lookup costs (green: it
    resolves, red: every candidate failed). No cluster needed: with a `lab`, its cluster
    domain and (in a workshop) its namespaces are used, else `cluster.local`'s. `names`
    default: web-svc's short, namespaced and full names (with and without the trailing
    dot) and two outside names. Attributes: slider, name, namespace (Text), queries (HTML),
    output, figure, data (the typed name's queries)."""
    import ipywidgets
    cluster_domain = _domain(lab, cluster_domain)
    if lab is not None and namespace == "default":
        namespace = lab.ns("default")
    if names is None:
        full = f"web-svc.{namespace}.svc.{cluster_domain}"
        names = ("web-svc", f"web-svc.{namespace}", full, full + ".", "example.com", "www.kubernetes.io")
    exists = exists or _exists_in_lab(cluster_domain, lab)
    slider = ipywidgets.IntSlider(value=ndots, min=1, max=15, description="ndots", continuous_update=True)
    text = ipywidgets.Text(value=name, description="name", continuous_update=False)
    ns_text = ipywidgets.Text(value=namespace, description="client in", continuous_update=False)
    queries = ipywidgets.HTML()
    output = ipywidgets.Output()
    box = _box([slider, ipywidgets.HBox([text, ns_text]), queries, output],
               slider=slider, name=text, namespace=ns_text, queries=queries, output=output)

    def redraw(first: bool = False) -> None:
        n, ns = slider.value, ns_text.value.strip() or "default"
        typed = text.value.strip()
        df = resolver_queries(typed, ns, n, cluster_domain, exists)
        box.data = df
        search = f"{ns}.svc.{cluster_domain} svc.{cluster_domain} {cluster_domain}"
        queries.value = (f"<code>search {search}</code><br><code>options ndots:{n}</code>"
                         + df.to_html(index=False))
        counts = {}
        for each in ([typed] if typed and typed not in names else []) + list(names):
            q = resolver_queries(each, ns, n, cluster_domain, exists)
            counts[each] = (len(q), bool(q["exists"].any()))
        _draw(box, _queries_figure(counts, n, ns), static=first and static)

    for control in (slider, text, ns_text):
        control.observe(lambda change: redraw(), names="value")
    redraw(first=True)
    return box
