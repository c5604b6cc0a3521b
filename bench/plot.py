#!/usr/bin/python3
"""Plots a tandem-bench --series CSV: throughput, latency and replication lag
over time, with the failover marked.

    bench/plot.py SERIES.csv OUT.png [TITLE]

Needs matplotlib (Debian: python3-matplotlib). The CSV is long-form
(tools/bench/series.h): t_s,kind,name,value.
"""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")  # no display: write the file only
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    series = defaultdict(lambda: ([], []))  # (kind, name) -> (t, value)
    events = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            t, kind, name, value = float(row["t_s"]), row["kind"], row["name"], float(row["value"])
            if kind == "event":
                events.append((t, name))
            else:
                series[(kind, name)][0].append(t)
                series[(kind, name)][1].append(value)
    return series, events


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    series, events = read(sys.argv[1])
    title = sys.argv[3] if len(sys.argv) == 4 else "tandem-bench"
    fig, (thr, lat, lag) = plt.subplots(3, 1, sharex=True, figsize=(10, 8))
    fig.suptitle(title)

    t, v = series[("commits_per_s", "")]
    thr.plot(t, v, color="tab:blue")
    thr.set_ylabel("commits/s")
    for kind, colour in (("p50_ms", "tab:green"), ("p99_ms", "tab:red")):
        t, v = series[(kind, "")]
        lat.plot(t, v, label=kind.replace("_ms", ""), color=colour)
    lat.set_ylabel("commit latency (ms)")
    lat.set_yscale("symlog", linthresh=1)
    lat.legend(loc="upper left")
    for (kind, name), (t, v) in sorted(series.items()):
        if kind == "lag_bytes":
            lag.plot(t, v, label=name, marker=".", linestyle="-")
    lag.set_ylabel("lag (bytes applied behind)")
    lag.set_xlabel("time (s)")
    if any(k == "lag_bytes" for k, _ in series):
        lag.legend(loc="upper left")

    marks = {"failover-start": ("tab:orange", "failover"), "failover-end": ("tab:purple", "first write")}
    for t, name in events:
        colour, label = marks.get(name, ("grey", name))
        for ax in (thr, lat, lag):
            ax.axvline(t, color=colour, linestyle="--", linewidth=1)
        thr.annotate(label, (t, 1), xycoords=("data", "axes fraction"), rotation=90,
                     va="top", ha="right", fontsize=8, color=colour)
    for ax in (thr, lat, lag):
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)
    print(f"plot written to {sys.argv[2]}")


if __name__ == "__main__":
    main()
