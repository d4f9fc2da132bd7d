#!/usr/bin/env python3
"""Timing helper for bench/run.sh.

  timeit.py run --log FILE --label L [--rss] [--stdout F] [--stderr F] -- CMD ARGS...
      Runs CMD once. Wall time is time.perf_counter() around the whole child process
      (process start, connection, work, exit). With --rss, also the child's peak resident
      memory: through `/usr/bin/time -f %M` when it exists, else os.wait4()'s rusage (both
      report ru_maxrss in KiB). Appends one JSON line to FILE:
      {"label", "wall_ms", "rss_kib", "rc", "stdout_tail"}; stdout_tail is the last non-empty
      line CMD printed (raw_apply_pg.py prints its elapsed milliseconds there).
      Exits with CMD's status, after printing the tail of its stderr if it failed.

  timeit.py report --log FILE --out FILE [--meta KEY=VALUE ...]
      Prints the results table (markdown) and writes it to --out.
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TIME_BIN = "/usr/bin/time"


def tail(path, n=1, limit=400):
    try:
        with open(path, "rb") as f:
            lines = [l for l in f.read().decode("utf-8", "replace").splitlines() if l.strip()]
    except OSError:
        return ""
    return "\n".join(lines[-n:])[-limit:]


def cmd_run(a):
    argv = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not argv:
        sys.exit("timeit.py run: no command")
    tmp = tempfile.mkdtemp(prefix="keel-bench-")
    out_path = a.stdout or os.path.join(tmp, "stdout")
    err_path = a.stderr or os.path.join(tmp, "stderr")
    rss_path = os.path.join(tmp, "rss")
    use_time = a.rss and os.access(TIME_BIN, os.X_OK)
    if use_time:
        # -o keeps time's own line out of the command's stderr.
        argv = [TIME_BIN, "-f", "%M", "-o", rss_path] + argv
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=out, stderr=err)
        # wait4 instead of p.wait(): same wait, plus this child's own rusage.
        _, status, ru = os.wait4(p.pid, 0)
        wall_ms = (time.perf_counter() - t0) * 1000.0
    p.returncode = rc = os.waitstatus_to_exitcode(status)
    rss = None
    if a.rss:
        if use_time:
            try:
                rss = int(tail(rss_path).split()[-1])
            except (ValueError, IndexError):
                rss = None
        else:
            rss = ru.ru_maxrss  # KiB on Linux
    rec = {"label": a.label, "wall_ms": round(wall_ms, 3), "rss_kib": rss, "rc": rc,
           "stdout_tail": tail(out_path)}
    with open(a.log, "a") as f:
        f.write(json.dumps(rec) + "\n")
    if rc != 0:
        sys.stderr.write(f"timeit.py: {a.label} exited with {rc}: {' '.join(a.cmd)}\n")
        sys.stderr.write(tail(err_path, n=20, limit=4000) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(rc)


def stats_row(name, xs, unit="ms", scale=1.0):
    if not xs:
        return f"| {name} | n/a | | 0 |"
    xs = [x / scale for x in xs]
    f = (lambda v: f"{v:,.0f}") if statistics.median(xs) >= 100 else (lambda v: f"{v:,.1f}")
    return f"| {name} | {f(statistics.median(xs))} {unit} | {f(min(xs))} – {f(max(xs))} | {len(xs)} |"


def ratio_row(name, a, b):
    if not a or not b or statistics.median(b) == 0:
        return f"| **{name}** | n/a | | |"
    return f"| **{name}** | **{statistics.median(a) / statistics.median(b):.2f}×** | | |"


def cmd_report(a):
    recs = [json.loads(l) for l in open(a.log) if l.strip()]
    ok = lambda lbl: [r for r in recs if r["label"] == lbl and r["rc"] == 0]
    wall = lambda lbl: [r["wall_ms"] for r in ok(lbl)]
    raw_reported = []
    for r in ok("raw_deploy"):
        try:
            raw_reported.append(float(r["stdout_tail"].split()[-1]))
        except (ValueError, IndexError):
            pass
    rss = [r["rss_kib"] for r in ok("keel_deploy") if r.get("rss_kib")]
    meta = dict(m.split("=", 1) for m in a.meta)
    lines = [
        "# keel benchmark results",
        "",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        "",
        *[f"- {k}: {v}" for k, v in meta.items()],
        "",
        "| measurement | median | min – max | runs |",
        "|---|---|---|---|",
        stats_row("(a) `keel deploy`, wall time incl. process start", wall("keel_deploy")),
        stats_row("(a) raw_apply_pg.py, its printed elapsed time (denominator)", raw_reported),
        stats_row("(a) raw_apply_pg.py, process wall time (for reference)", wall("raw_deploy")),
        ratio_row("(a) deploy: keel / raw", wall("keel_deploy"), raw_reported),
        stats_row("(a) `keel deploy` peak RSS", rss, unit="MiB", scale=1024.0),
        stats_row("(b) `keel status`, wall time incl. process start", wall("keel_status")),
        stats_row("(b) `psql -X -c 'select 1'`, wall time (denominator)", wall("psql_select1")),
        ratio_row("(b) status: keel / psql", wall("keel_status"), wall("psql_select1")),
    ]
    failed = [r for r in recs if r["rc"] != 0]
    if failed:
        lines += ["", f"**{len(failed)} run(s) failed and are excluded:** "
                  + ", ".join(f"{r['label']} (exit {r['rc']})" for r in failed)]
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    sys.stdout.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="sub", required=True)
    r = sub.add_parser("run")
    r.add_argument("--log", required=True)
    r.add_argument("--label", required=True)
    r.add_argument("--rss", action="store_true")
    r.add_argument("--stdout")
    r.add_argument("--stderr")
    r.add_argument("cmd", nargs=argparse.REMAINDER)
    r.set_defaults(fn=cmd_run)
    p = sub.add_parser("report")
    p.add_argument("--log", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--meta", action="append", default=[])
    p.set_defaults(fn=cmd_report)
    a = ap.parse_args()
    try:
        a.fn(a)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
