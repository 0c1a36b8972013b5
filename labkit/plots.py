"""Figures for probe results: one function per picture, each returns the Figure."""
from __future__ import annotations

import ipaddress


def _inline() -> None:
    """In a notebook, make figures display as images even before pyplot was used
    (a bare Figure otherwise shows as `<Figure size ...>`)."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import configure_inline_support
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and not getattr(shell, "_labkit_inline", False):
        configure_inline_support(shell, "inline")
        shell._labkit_inline = True


def _figure(title: str, xlabel: str, ylabel: str, size=(6.4, 3.6)):
    import matplotlib
    from matplotlib.figure import Figure
    _inline()
    matplotlib.rcParams.setdefault("figure.dpi", 100)
    fig = Figure(figsize=size)
    ax = fig.subplots()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig, ax


def _natural_key(value):
    """Addresses in numeric order (10.10.1.9 before 10.10.1.10), other text as text."""
    text = str(value)
    host = text.rsplit(":", 1)[0] if text.count(":") == 1 else text
    try:
        return (0, ipaddress.ip_address(host).packed, text)
    except ValueError:
        return (1, b"", text)


def _short(label: str, limit: int = 18) -> str:
    """Long labels (pod names) keep their start and their distinctive end."""
    if len(label) <= limit:
        return label
    tail = limit // 2 + 2
    return f"{label[:limit - tail - 1]}…{label[-tail:]}"


# The normal quantile for a two-sided 95% interval (scipy.stats.norm.ppf(0.975)).
Z95 = 1.959963984540054


def wilson_interval(share: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval (Wilson 1927) around a share observed in `n` samples:
    (low, high) as shares. Unlike the normal approximation it stays inside [0, 1] and
    keeps its coverage for the small shares and counts a lesson's probes give."""
    if n <= 0:
        return 0.0, 1.0
    denominator = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / denominator
    half = z / denominator * ((share * (1 - share) / n + z * z / (4 * n * n)) ** 0.5)
    return max(0.0, centre - half), min(1.0, centre + half)


def answers_per_pod(df, column: str = "first", title: str | None = None, *, addresses=None):
    """Bar chart: how often each address (or server) came first, with the even-split line.

    `addresses`: every value that could have come first (the Service's pod addresses,
    e.g. `lab.pods(selector="app=web")["IP"]`), in the column's form. Each gets a bar,
    zero if it never came first, and the even split divides by all of them; without it
    only the values seen count (or a categorical column's categories). Bars are in
    address order; long labels (pod names) are shortened in the middle and slanted.

    With two or more bars, a shaded band shows where each bar falls 95% of the time if
    every pod were equally likely (the Wilson interval of the even share 1/k over the
    samples taken): a bar inside it is consistent with noise, one outside it suggests a
    real bias. With k bars, about one in twenty lands outside by chance alone.
    """
    import pandas as pd
    values = df[column].dropna()
    counts = values.value_counts()
    if isinstance(values.dtype, pd.CategoricalDtype):
        counts = counts.sort_index()          # category order, unseen categories at 0
    else:
        if addresses is not None:
            counts = counts.rename(index=str)
            counts = counts.reindex(counts.index.union(pd.Index([str(a) for a in addresses])), fill_value=0)
        counts = counts.reindex(sorted(counts.index, key=_natural_key))
    fig, ax = _figure(title or f"Which answer came first ({len(df)} samples)", column, "samples")
    labels = [_short(str(i)) for i in counts.index]
    bars = ax.bar(range(len(counts)), counts.values, color="tab:blue")
    # Counts inside the bars, clear of the even-split line; a 0 above its empty slot.
    ax.bar_label(bars, labels=[f"{v}" if v else "" for v in counts.values], label_type="center",
                 color="white", fontsize="small")
    ax.bar_label(bars, labels=["" if v else "0" for v in counts.values], fontsize="small")
    ax.set_xticks(range(len(counts)), labels)
    if sum(map(len, labels)) > 48:            # would run into each other at this width
        ax.tick_params(axis="x", labelrotation=30)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    top = max(counts.max() if len(counts) else 0, 1)
    if len(counts):
        n = int(counts.sum())
        even = n / len(counts)
        ax.axhline(even, color="tab:red", linestyle="--", label=f"even split ({even:.0f})")
        top = max(top, even)
        if len(counts) > 1 and n > 0:
            low, high = wilson_interval(1 / len(counts), n)
            # fill_between, not axhspan: a collection, so ax.patches stays one patch per bar.
            ax.fill_between([-0.5, len(counts) - 0.5], low * n, high * n, color="tab:red", alpha=0.15, zorder=0.5,
                            linewidth=0, label=f"95% band if even (Wilson, n={n}): {low * n:.0f}-{high * n:.0f}")
            ax.set_xlim(-0.5, len(counts) - 0.5)
            top = max(top, high * n)
        ax.legend(loc="upper right", fontsize="small")
    ax.set_ylim(0, top * 1.3)                 # headroom: the legend sits above the bars
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    return fig


def resolution_matrix(df, title: str = "Does the name resolve?"):
    """Heat map: name form (rows) x client namespace (columns), green when it resolves."""
    table = df.pivot(index="name", columns="namespace", values="resolves").astype(float)
    fig, ax = _figure(title, "client namespace", "name", size=(5, 1 + 0.5 * len(table)))
    ax.imshow(table.values, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(table.columns)), list(table.columns))
    ax.set_yticks(range(len(table.index)), list(table.index))
    for (r, c), v in __import__("numpy").ndenumerate(table.values):
        ax.text(c, r, "yes" if v else "no", ha="center", va="center")
    fig.tight_layout()
    return fig


def search_walk(df, title: str | None = None):
    """One bar per query the resolver sent, in order; answered ones highlighted."""
    fig, ax = _figure(title or f"Queries sent ({len(df)})", "step", "query",
                      size=(7, 1 + 0.35 * max(len(df), 1)))
    labels = [f"{q} {t}" for q, t in zip(df["query"], df["qtype"])]
    colors = ["tab:green" if a else "tab:gray" for a in df["answered"]]
    ax.barh(range(len(df)), [1] * len(df), color=colors)
    ax.set_yticks(range(len(df)), labels)
    ax.invert_yaxis()
    ax.set_xticks([])
    for i, rc in enumerate(df["rcode"]):
        ax.text(0.5, i, rc, ha="center", va="center", color="white")
    fig.tight_layout()
    return fig


def rtt_histogram(df, column: str | None = None, bins: int = 20, title: str | None = None):
    """Histogram of round-trip or lookup times (rtt_ms or latency_ms).

    When the times were not measured (`df.attrs["timings"]`, which probes.http and probes.ping
    set on the sandbox: its network model made them up), the title says so on a second line,
    so the figure cannot pass for a measurement. Times measured on a cluster get no note.
    """
    column = column or ("rtt_ms" if "rtt_ms" in df else "latency_ms")
    values = df[column].dropna()
    title = title or f"{column} ({len(values)} samples)"
    if df.attrs.get("timings"):
        title = f"{title}\n({df.attrs['timings']})"
    fig, ax = _figure(title, column, "samples")
    ax.hist(values, bins=bins, color="tab:blue")
    fig.tight_layout()
    return fig


def scale_timeline(df, title: str | None = None):
    """Step lines over time: desired replicas, ready pods, ready endpoints, pods seen in DNS;
    a dotted line where the sandbox's clock skipped the DNS cache time."""
    final = int(df["replicas_desired"].iloc[-1]) if len(df) else 0
    fig, ax = _figure(title or f"Scaling to {final} replicas: who sees the new pods when", "time (s)", "pods")
    # Wider lines underneath, so layers that agree stay visible on top of each other.
    styles = {"pods_ready": ("pods ready", "tab:blue", "-", 6), "endpoints_ready": ("endpoints ready", "tab:orange", "-", 3.5),
              "pods_seen_in_dns": ("pods in DNS answers", "tab:green", "-", 1.5),
              "replicas_desired": ("desired", "black", "--", 1)}
    for column, (label, color, style, width) in styles.items():
        ax.step(df["t"], df[column], where="post", label=label, color=color, linestyle=style, linewidth=width)
    skips = df["clock_skipped"].diff().fillna(0) if "clock_skipped" in df else []
    for t, jump in zip(df["t"], skips):
        if jump > 0:
            ax.axvline(t, color="gray", linestyle=":", label=f"sandbox clock +{jump:.1f} s (to the DNS cache expiry)")
    ax.set_ylim(0, max(df[list(styles)].max().max() + 1, 1))
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig


def lookup_latency(frames: dict, column: str = "namelookup_s", title: str | None = None):
    """One row of dots per pod (`frames`: label -> probes.lookup_times frame): each curl's
    name-lookup time in seconds, so a 5 s stall stands apart from the sub-millisecond rest.
    A modelled time (df.attrs["timings"]) is said so under the title."""
    title = title or "Name lookup time per curl"
    if any(df.attrs.get("timings") for df in frames.values()):
        title = f"{title}\n({next(df.attrs['timings'] for df in frames.values() if df.attrs.get('timings'))})"
    fig, ax = _figure(title, "seconds spent resolving the name", "", size=(7, 1.7 + 0.45 * len(frames)))
    for row, (label, df) in enumerate(frames.items()):
        values = df[column].dropna()
        slow = values >= 1
        ax.scatter(values[~slow], [row] * int((~slow).sum()), s=14, color="tab:blue", alpha=0.6)
        ax.scatter(values[slow], [row] * int(slow.sum()), s=22, color="tab:red")
        if slow.any():             # dots at the same time overlap: say how many
            ax.annotate(f"{int(slow.sum())} of {len(values)}", (values[slow].max(), row),
                        xytext=(0, 7), textcoords="offset points", ha="center", fontsize=8)
    ax.set_yticks(range(len(frames)), list(frames))
    ax.set_xlim(left=-0.2)
    ax.set_ylim(len(frames) - 0.4, -0.8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
