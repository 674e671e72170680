"""Results that stay true at the edges, checked through the command line and the files a run
writes: goodput under overload, a store failing fast, stops that stop (SIGINT, SIGTERM,
abort_on_fail). Every expectation is computed here from what the run was asked to do.

Usage: python3 edges.py path/to/stacksim WORK_DIR"""
import csv
import json
import math
import random
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree

from checks import Checks

binary, work = sys.argv[1], sys.argv[2]
checks = Checks("edges", work)
check, scenario = checks.check, checks.scenario


def run(path, out, *flags):
    done = subprocess.run([binary, "run", path, "--out", out, "--quiet", *flags], capture_output=True, text=True, timeout=300)
    with open(f"{out}/report.json") as f:
        return done, json.load(f)


def recorded_ok_per_second(out):
    """Successful requests per recorded second, from intervals.csv."""
    seconds, ok = set(), 0
    with open(f"{out}/intervals.csv") as f:
        for row in csv.DictReader(f):
            if row["recorded"] == "true":
                seconds.add(row["t_s"])
                ok += int(row["ok"])
    return ok / len(seconds)


# 1. Overload, 5x: two app workers and 10 ms per PostgreSQL call serve a `members` request
# (permission check + member list) in about 20 ms, so about 100/s; 500/s are offered.
capacity = 2 / 0.020
overload = scenario("overload", f"""
dataset: {{ organizations: 10, users_per_org: 10, tasks_per_user: 2 }}
stack:
  app_workers: 2
  rate_limit: {{ per_minute: 10000000 }}
  embedded: {{ postgres: {{ latency: 10ms }} }}
load:
  arrivals: uniform
  graceful_stop: 0s
  phases:
    - {{ name: steady, duration: 6s, rate: {5 * capacity:.0f}/s }}
  mix: {{ members: 1 }}
""")
done, report = run(overload, f"{work}/overload")
totals = report["totals"]
from_intervals = recorded_ok_per_second(f"{work}/overload")
check("overloaded 5x: goodput is what completed, within 5 % of intervals.csv's per-second successes",
      abs(totals["throughput_per_s"] - from_intervals) <= 0.05 * from_intervals, f"{totals['throughput_per_s']} vs {from_intervals}")
check("…and near the service capacity, not the offered rate",
      0.7 * capacity <= totals["throughput_per_s"] <= 1.1 * capacity, f"goodput {totals['throughput_per_s']}, capacity {capacity}")
check("…with the offered rate beside it", abs(totals["offered_per_s"] - 5 * capacity) <= 0.05 * 5 * capacity, str(totals))
check("…and the attempted rate (failures included) between them",
      totals["throughput_per_s"] <= totals["attempted_per_s"] <= totals["offered_per_s"] * 1.01, str(totals))
check("…the summary says so", "goodput" in done.stdout and "offered" in done.stdout, done.stdout[:400])

# 2. Redis fails fast for 5 s in the middle: every request fails at its session lookup in
# well under a millisecond, while successful ones take MongoDB's 5 ms or more.
body = """
dataset: { organizations: 5, users_per_org: 8, tasks_per_user: 4 }
stack:
  rate_limit: { per_minute: 10000000 }
  embedded:
    mongo: { latency: 5ms }
    redis: { %s }
load:
  phases:
    - { name: steady, duration: 14s, rate: 100/s }
  mix: { board: 1 }
"""
_, clean = run(scenario("steady", body % "latency: 0ms"), f"{work}/steady")
_, outage = run(scenario("outage", body % "outage: { at: 5s, for: 5s }"), f"{work}/outage")
p50_clean = clean["operations"][0]["latency_ms"]["p50"]
p50_outage = outage["operations"][0]["latency_ms"]["p50"]
check("a store failing fast for 5 s: successful-request p50 does not drop",
      p50_outage >= 0.9 * p50_clean, f"{p50_outage} ms with the outage, {p50_clean} ms without")
failed = outage["operations"][0]["errors_by_class"].get("redis_unavailable", 0)
check("…the failed requests are counted under their class, about 5 s worth", 350 <= failed <= 650, str(outage["operations"][0]))
check("…with their own latency, apart", outage["operations"][0]["failed_latency_ms"]["p50"] < p50_clean, str(outage["operations"][0]))
classes = {e["class"]: e for e in outage["error_classes"]}
check("…and when they happened", 4 <= classes["redis_unavailable"]["first_s"] <= 7 and 9 <= classes["redis_unavailable"]["last_s"] <= 12,
      str(classes))
with open(f"{work}/outage/report.md") as f:
    check("…in report.md", "redis\\_unavailable" in f.read())
with open(f"{work}/outage/report.html") as f:
    check("…in report.html", "<code>redis_unavailable</code>" in f.read())
junit = ElementTree.parse(f"{work}/outage/junit.xml")
check("…in junit.xml", any(p.get("name") == "error_class.redis_unavailable" and int(p.get("value")) == failed
                            for p in junit.iter("property")))

# 3. Stops stop: SIGINT or SIGTERM at a random moment of three phases ends the load at once,
# and the report describes what ran.
three = scenario("three", """
dataset: { organizations: 4, users_per_org: 5, tasks_per_user: 4 }
load:
  phases:
    - { name: warmup, duration: 3s, rate: 50/s, record: false }
    - { name: one, duration: 6s, rate: 100/s }
    - { name: two, duration: 6s, rate: 150/s }
""")
rng = random.Random()
for sig in (signal.SIGINT, signal.SIGTERM):
    for _ in range(2):
        out = f"{work}/stop-{sig.name}"
        process = subprocess.Popen([binary, "run", three, "--out", out, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # The load starts once the dataset is loaded; the line on stdout is not printed with
        # --quiet, so wait a moment past the (small) dataset's load and take that as the start.
        started = time.monotonic()
        moment = rng.uniform(1.0, 14.0)
        time.sleep(moment)
        sent = time.monotonic()
        process.send_signal(sig)
        process.communicate(timeout=30)
        took = time.monotonic() - sent
        with open(f"{out}/report.json") as f:
            stopped = json.load(f)
        ran = sent - started  # wall time from launch: load time plus the dataset's generate and load
        setup = stopped["dataset"]["generate_s"] + stopped["dataset"]["load_s"]
        recorded_expected = max(0.0, min(ran - setup, 15) - 3)
        check(f"{sig.name} at {moment:.1f} s: exit 130 within 1 s", process.returncode == 130 and took <= 1.0,
              f"exit {process.returncode} after {took:.2f} s")
        check(f"…recorded duration within 1 s of the recorded load that ran ({recorded_expected:.1f} s)",
              abs(stopped["recorded_s"] - recorded_expected) <= 1.0, f"recorded_s {stopped['recorded_s']}")
        if stopped["totals"]["count"] > 0:
            # Arrivals are Poisson: the recorded window's count has mean λ·t and standard deviation
            # √(λ·t), so a window of a few tenths of a second cannot pin its rate within 25 % (a
            # clean clone's once read 33.6/s where 100 was meant, from a handful of arrivals).
            recorded = stopped["recorded_s"]
            attempted = stopped["totals"]["attempted_per_s"] * recorded
            mean = 100 * min(recorded, 6) + 150 * max(0.0, recorded - 6)
            check("…and its rate is of what ran (the count within 4 σ of the phases' Poisson mean)",
                  abs(attempted - mean) <= 4 * math.sqrt(mean) + 1, f"{attempted:.0f} arrivals in {recorded:.2f} s, about {mean:.0f} meant")

# 4. abort_on_fail stops the load within a second of the failing judgement. Its schedule is
# judged at 50 ms, as the other short runs of these checks (Tests/cli/run.sh says why): a run
# made invalid by a few late arrivals would exit 12, not 10.
aborting = scenario("aborting", """
dataset: { organizations: 4, users_per_org: 5, tasks_per_user: 4 }
load:
  schedule_tolerance: 50ms
  phases:
    - { name: one, duration: 30s, rate: 100/s }
    - { name: two, duration: 30s, rate: 100/s }
thresholds:
  abort_after: 3s
  board: { p99: 1us, abort_on_fail: true }
""")
start = time.monotonic()
done, report = run(aborting, f"{work}/aborting")
elapsed = time.monotonic() - start
failed_at = float(report["aborted"].split(" failed at ")[1].split(" s")[0])
check("abort_on_fail stops the run: exit 10, long before the phases end", done.returncode == 10 and elapsed < 15,
      f"exit {done.returncode} after {elapsed:.1f} s")
check("…recorded duration within 1 s of when it failed", abs(report["recorded_s"] - failed_at) <= 1.0,
      f"recorded {report['recorded_s']}, failed at {failed_at}")
check("…and the rate is of what ran", abs(report["totals"]["attempted_per_s"] - 100) <= 25, str(report["totals"]))

checks.finish()
