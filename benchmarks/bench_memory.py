"""memory: VmRSS of the sandbox's server process (the one `labkit sandbox up` starts), idle and with 1000 pods."""
from __future__ import annotations

from _common import Figure


def run(ctx) -> list[Figure]:
    f = ctx.fleet().figures
    return [
        Figure("RSS idle (fresh sandbox, 1 s after ready)", f["rss_idle_mb"], "MB", "< 80"),
        Figure("RSS with 1000 pods (1 s after converged)", f["rss_1000_mb"], "MB", "< 150"),
        Figure("peak RSS (VmHWM) while scaling out", f["rss_peak_mb"], "MB", ""),
    ]
