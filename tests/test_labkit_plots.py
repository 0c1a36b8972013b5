"""plots.answers_per_pod: the even split counts every pod, labels stay readable, the legend
stays off the bars; and the lesson's experiment (a Corefile without `loadbalance`) end to end."""
from __future__ import annotations

import pandas as pd
import pytest

import labkit
from labkit import plots, probes

from .conftest import MANIFESTS

PODS = ["10.10.1.5", "10.10.2.9", "10.10.1.10"]


def _bars(fig):
    ax = fig.axes[0]
    return {t.get_text(): p.get_height() for t, p in zip(ax.get_xticklabels(), ax.patches)}


def _even(fig):
    return fig.axes[0].lines[0].get_ydata()[0]


def test_always_the_same_pod_splits_evenly_over_every_replica():
    df = pd.DataFrame({"first": ["10.10.2.9"] * 200})
    assert _even(plots.answers_per_pod(df)) == pytest.approx(200)     # only what was seen
    fig = plots.answers_per_pod(df, addresses=PODS)
    assert _even(fig) == pytest.approx(200 / 3)
    assert _bars(fig) == {"10.10.1.5": 0, "10.10.2.9": 200, "10.10.1.10": 0}
    assert list(_bars(fig)) == ["10.10.1.5", "10.10.1.10", "10.10.2.9"]          # address order
    assert sorted(t.get_text() for t in fig.axes[0].texts if t.get_text()) == ["0", "0", "200"]
    assert "even split (67)" in fig.axes[0].get_legend_handles_labels()[1]


def test_values_outside_addresses_still_count():
    df = pd.DataFrame({"first": ["10.10.1.5"] * 30 + ["10.10.3.3"] * 10})
    fig = plots.answers_per_pod(df, addresses=PODS)
    assert _bars(fig) == {"10.10.1.5": 30, "10.10.2.9": 0, "10.10.1.10": 0, "10.10.3.3": 10}
    assert _even(fig) == pytest.approx(40 / 4)


def test_addresses_sort_numerically_without_addresses():
    df = pd.DataFrame({"first": ["10.10.1.10", "10.10.1.9", "10.10.1.10", None]})
    fig = plots.answers_per_pod(df)
    assert list(_bars(fig)) == ["10.10.1.9", "10.10.1.10"]
    assert _even(fig) == pytest.approx(3 / 2)


def test_categorical_column_keeps_unseen_categories():
    df = pd.DataFrame({"first": pd.Categorical(["b"] * 6, categories=["a", "b", "c"])})
    fig = plots.answers_per_pod(df)
    assert _bars(fig) == {"a": 0, "b": 6, "c": 0} and _even(fig) == pytest.approx(2)


def test_long_labels_are_shortened_and_rotated():
    names = [f"nginx-deployment-7c5ddbdf54-{s}" for s in ("x7k2p", "q9zlm", "b4wtn")]
    df = pd.DataFrame({"server_name": names * 10})
    fig = plots.answers_per_pod(df, column="server_name")
    ticks = fig.axes[0].get_xticklabels()
    texts = [t.get_text() for t in ticks]
    assert all(len(t) <= 18 for t in texts) and len(set(texts)) == 3
    assert [t[-5:] for t in texts] == sorted(s[-5:] for s in names)    # the distinctive end stays
    assert all(t.get_rotation() == 30 for t in ticks)
    short = plots.answers_per_pod(pd.DataFrame({"first": PODS}))
    assert all(t.get_rotation() == 0 for t in short.axes[0].get_xticklabels())


def test_legend_does_not_cover_the_bars():
    df = pd.DataFrame({"first": ["10.10.1.5"] * 150 + ["10.10.2.9"] * 30 + ["10.10.1.10"] * 20})
    fig = plots.answers_per_pod(df, addresses=PODS)
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    for bar in ax.patches:
        box = bar.get_window_extent()
        overlaps_x = box.x0 < legend.x1 and legend.x0 < box.x1
        assert not (overlaps_x and box.y1 > legend.y0), "legend over a bar"


def test_lesson_experiment_corefile_without_loadbalance(sandbox):
    """What lesson 05 does: edit kube-system/coredns through labkit, measure, plot, restore."""
    lab = labkit.connect(kubeconfig=sandbox.kubeconfig, quiet=True)
    lab.apply(MANIFESTS)
    lab.wait("pod", "client")
    lab.scale("nginx-deployment", 3)
    probes.wait_dns(lab, "client", "web-svc", 3)
    corefile = lab.get_object("configmap", "coredns", namespace="kube-system")["data"]["Corefile"]
    assert "    loadbalance\n" in corefile

    def coredns(text):
        return {"apiVersion": "v1", "kind": "ConfigMap", "data": {"Corefile": text},
                "metadata": {"name": "coredns", "namespace": "kube-system"}}
    try:
        lab.apply(coredns(corefile.replace("    loadbalance\n", "")))
        fixed = probes.dns(lab, "client", "web-svc", samples=50)
        assert fixed["first"].nunique() == 1 and all(len(a) == 3 for a in fixed["answers"])
        ips = lab.pods(selector="app=web")["IP"]
        fig = plots.answers_per_pod(fixed, addresses=ips)
        assert sorted(_bars(fig).values()) == [0, 0, 50] and _even(fig) == pytest.approx(50 / 3)
    finally:
        lab.apply(coredns(corefile))
        assert "unchanged" in str(lab.apply(coredns(corefile)))          # restoring twice is harmless
    assert probes.dns(lab, "client", "web-svc", samples=30)["first"].nunique() > 1
    lab.scale("nginx-deployment", 1)
    lab.close()


class _Lab:
    """Just enough of a Lab for probes.http: one canned curl reply per exec."""

    def __init__(self, sandbox: bool):
        self.sandbox_extras = object() if sandbox else None

    def exec(self, pod, command, namespace="default", timeout=None):
        from types import SimpleNamespace
        out = ("@@ 1\nServer address: 10.10.100.5:80\nServer name: web-1\n"
               "@@w 10.10.100.5 200 0.001250\n")
        return SimpleNamespace(stdout=out, ok=True)


@pytest.mark.parametrize("sandbox", [True, False])
def test_rtt_histogram_says_when_the_times_are_modelled(sandbox):
    df = probes.http(_Lab(sandbox), "client", "http://web-svc/", samples=1)
    assert df["latency_ms"].tolist() == [pytest.approx(1.25)]
    title = plots.rtt_histogram(df, title="HTTP GET").axes[0].get_title()
    if sandbox:       # no packet is sent on the sandbox: the figure must not pass for a measurement
        assert title == f"HTTP GET\n({probes.MODELLED})"
    else:             # on a cluster curl measured them: no note
        assert title == "HTTP GET"


# --- the binomial band: noise or bias? ----------------------------------------------------------

@pytest.mark.parametrize("share, n, low, high", [
    (0.5, 100, 0.40383, 0.59617),            # Wilson (1927); Newcombe (1998) table I method 3
    (1 / 3, 30, 0.19232, 0.51219),
    (0.0, 10, 0.0, 0.27753),                 # stays inside [0, 1] where Wald's would not
])
def test_wilson_interval(share, n, low, high):
    assert plots.wilson_interval(share, n) == pytest.approx((low, high), abs=1e-4)


def _band(fig):
    ax = fig.axes[0]
    (band,) = ax.collections
    ys = band.get_paths()[0].vertices[:, 1]
    return ys.min(), ys.max()


def test_fairness_plot_draws_the_band_for_an_even_split_and_says_so():
    fair = pd.DataFrame({"first": ["10.10.1.5"] * 34 + ["10.10.2.9"] * 33 + ["10.10.1.10"] * 33})
    fig = plots.answers_per_pod(fair, addresses=PODS)
    low, high = _band(fig)
    expect = plots.wilson_interval(1 / 3, 100)
    assert (low, high) == pytest.approx((expect[0] * 100, expect[1] * 100))
    assert all(low <= h <= high for h in _bars(fig).values())            # noise: every bar inside
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert any(label.startswith("95% band if even (Wilson, n=100)") for label in labels)
    assert len(fig.axes[0].patches) == 3                                   # the band is not a bar
    biased = pd.DataFrame({"first": ["10.10.1.5"] * 60 + ["10.10.2.9"] * 20 + ["10.10.1.10"] * 20})
    fig = plots.answers_per_pod(biased, addresses=PODS)
    low, high = _band(fig)
    assert [h for h in _bars(fig).values() if not low <= h <= high]       # bias: bars outside
    assert len(plots.answers_per_pod(pd.DataFrame({"first": ["10.10.1.5"] * 9})).axes[0].collections) == 0
