"""labkit.widgets driven from code against the sandbox (real sockets), plus the pure ndots
explorer; and probes.scale_timeline / plots.scale_timeline, which the lesson draws beside them."""
from __future__ import annotations

import ipywidgets
import pytest

import labkit
from labkit import plots, probes, widgets

from .conftest import MANIFESTS


def bar_heights(fig):
    return [p.get_height() for p in fig.axes[0].patches]


def bar_widths(fig):
    return [p.get_width() for p in fig.axes[0].patches]


def test_replica_slider_scales_and_redraws(lab, capsys):
    w = widgets.replica_slider(lab, samples=30, max_replicas=4)
    assert isinstance(w, ipywidgets.VBox) and w.output in w.children
    assert (w.slider.min, w.slider.max, w.slider.value) == (1, 4, 1)
    assert len(bar_heights(w.figure)) == 1 and sum(bar_heights(w.figure)) == 30
    assert "Figure" in capsys.readouterr().out        # the first figure was also displayed as plain output
    first = w.figure
    w.slider.value = 3                                # as if dragged: scale, wait for DNS, probe, redraw
    assert w.figure is not first
    assert lab.get("deploy").iloc[0].READY == "3/3"
    # The 1-pod answer was cached by the first draw: the sandbox skipped the cache time.
    assert "3 replicas" in w.status.value and "DNS caught up" in w.status.value, w.status.value
    assert len(bar_heights(w.figure)) == 3 and sum(bar_heights(w.figure)) == 30
    assert w.data["answers"].map(len).eq(3).all()
    w.slider.value = 1
    assert len(bar_heights(w.figure)) == 1 and lab.get("deploy").iloc[0].READY == "1/1"


def test_replica_slider_shows_errors_in_the_widget(lab):
    w = widgets.replica_slider(lab, pod="no-such-pod", samples=5, static=False)
    assert w.status.value.startswith("error: ") and "no-such-pod" in w.status.value
    assert w.figure.axes[0].get_title() == "Could not draw"


def test_name_explorer_walks_the_search_list(lab):
    w = widgets.name_explorer(lab, static=False)
    assert [v for _, v in w.namespace.options] == ["default", "test"]
    assert w.answer.value.startswith("web-svc from default: 10.10.100.")
    # `getent ahosts` asks with AI_ADDRCONFIG: an IPv4-only pod sends A queries only.
    assert list(w.data["query"]) == ["web-svc.default.svc.cluster.local."] and w.data["answered"].all()
    assert "<table" in w.table.value and len(w.figure.axes[0].patches) == len(w.data)
    w.namespace.value = "test"                         # the short name misses from `test`
    assert "does not resolve (getent exit 2)" in w.answer.value
    assert list(w.data["query"]) == ["web-svc.test.svc.cluster.local.", "web-svc.svc.cluster.local.",
                                     "web-svc.cluster.local.", "web-svc."]
    assert not w.data["answered"].any()
    w.name.value = "web-svc.default"
    assert w.answer.value.startswith("web-svc.default from test: 10.10.100.")
    assert w.data["answered"].iloc[-1] and w.data["rcode"].iloc[0] == "NXDOMAIN"
    assert len(w.figure.axes[0].patches) == len(w.data) == 2


def test_ndots_explorer_needs_no_cluster():
    w = widgets.ndots_explorer(name="example.com", static=False)
    assert w.slider.min == 1 and w.slider.max == 15 and w.slider.value == 5
    # ndots:5 -> three suffixes fail (A + AAAA each) before example.com itself answers.
    assert list(w.data["query"]) == [q for q in ("example.com.default.svc.cluster.local",
                                                 "example.com.svc.cluster.local", "example.com.cluster.local",
                                                 "example.com") for _ in (0, 1)]
    assert list(w.data["qtype"][:2]) == ["A", "AAAA"]
    widths = dict(zip([t.get_text() for t in w.figure.axes[0].get_yticklabels()], bar_widths(w.figure)))
    assert widths == {"web-svc": 2, "web-svc.default": 4, "web-svc.default.svc.cluster.local": 8,
                      "web-svc.default.svc.cluster.local.": 2, "example.com": 8, "www.kubernetes.io": 8}
    assert "options ndots:5" in w.queries.value
    w.slider.value = 1                                 # one dot is enough: names with dots go out as given first
    assert list(w.data["query"]) == ["example.com", "example.com"]
    assert dict(zip([t.get_text() for t in w.figure.axes[0].get_yticklabels()], bar_widths(w.figure)))[
        "web-svc.default.svc.cluster.local"] == 2
    w.name.value = "web-svc.test"                      # a typed name gets its own bar
    assert len(bar_widths(w.figure)) == 7 and not w.data["exists"].any() and len(w.data) == 8
    w.namespace.value = "test"
    assert w.data["query"].iloc[2] == "web-svc.test.test.svc.cluster.local"


def test_resolver_queries_follow_glibc_order():
    q = widgets.resolver_queries("web-svc", "default", 5)
    assert list(q["query"]) == ["web-svc.default.svc.cluster.local"] * 2 and q["exists"].all()
    q = widgets.resolver_queries("web-svc", "test", 5)   # no web-svc in test: the whole walk, then as given
    assert list(q["query"][::2]) == ["web-svc.test.svc.cluster.local", "web-svc.svc.cluster.local",
                                     "web-svc.cluster.local", "web-svc"]
    assert list(widgets.resolver_queries("kubernetes.io.", ndots=5)["query"]) == ["kubernetes.io"] * 2
    assert len(widgets.resolver_queries("a.b.c", ndots=20)) == 8     # ndots is capped at 15


def test_scale_timeline_shows_dns_cache_lag(lab):
    probes.dns(lab, "client", "web-svc", samples=1)               # the 1-pod answer is now cached
    df = probes.scale_timeline(lab, "nginx-deployment", 3, "web-svc", interval=0.05)
    assert list(df.columns) == ["t", "replicas_desired", "pods_ready", "endpoints_ready",
                                "pods_seen_in_dns", "clock_skipped"]
    assert df.iloc[0][["replicas_desired", "pods_ready", "endpoints_ready", "pods_seen_in_dns"]].tolist() == [1, 1, 1, 1]
    last = df.iloc[-1]
    assert (last.pods_ready, last.endpoints_ready, last.pods_seen_in_dns) == (3, 3, 3)
    # Endpoints complete while DNS still answers from its cache, until the sandbox clock skips
    # to the moment the first tick's cached answer expires: the lag never exceeds `cache 30`.
    lagging = df[(df.endpoints_ready == 3) & (df.pods_seen_in_dns == 1)]
    assert len(lagging) >= 3 and 25 < last.clock_skipped <= 30.05
    first_endpoints = df.loc[df.endpoints_ready == 3, "t"].min()
    first_dns = df.loc[df.pods_seen_in_dns == 3, "t"].min()
    assert 25 < first_dns - first_endpoints <= 30.5 and first_dns >= 30
    assert df.t.is_monotonic_increasing
    fig = plots.scale_timeline(df)
    ax = fig.axes[0]
    assert len(ax.lines) == 5 and f"+{last.clock_skipped:.1f} s" in ax.get_legend().get_texts()[-1].get_text()
    lab.scale("nginx-deployment", 1)


def test_wait_dns_times_out_clearly(lab):
    with pytest.raises(labkit.errors.Timeout, match="web-svc: DNS did not answer with 5 addresses"):
        probes.wait_dns(lab, "client", "web-svc", 5, timeout=0.2, interval=0.05)


def test_lesson_sequence_then_reset_repeats(lab):
    """apply, exec, scale to 3, logs, doctor, reset: three times, each reset finishing quickly."""
    import time
    for _ in range(3):
        lab.apply(MANIFESTS)
        lab.wait("pod", "client", namespace="test")
        lab.wait("deployment", "nginx-deployment")
        assert lab.exec("client", "getent hosts web-svc").ok
        lab.scale("nginx-deployment", 3)
        lab.logs("client")
        lab.doctor(quiet=True)
        start = time.monotonic()
        result = lab.reset(timeout=10)
        assert time.monotonic() - start < 5
        # Namespace `test` appears in two manifests but is deleted (and reported) once.
        assert [a.name for a in result if a.kind == "namespace"] == ["test"]
        with pytest.raises(labkit.errors.NotFound):
            lab.get_object("namespace", "test")
