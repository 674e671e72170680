"""`stacksim capacity` against answers queueing theory gives, through the command line and the
files it writes. The embedded stack with a resource model makes one station an M/M/c queue
(c service slots, exponential service, Poisson arrivals); the rate at which its p90 response
time reaches the SLO follows from the Erlang C formula, computed here. Every other expectation
is computed from what the search was asked to do.

Usage: python3 capacity.py path/to/stacksim WORK_DIR"""
import json
import math
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser

from checks import Checks

binary, work = sys.argv[1], sys.argv[2]
checks = Checks("capacity", work)
check, scenario = checks.check, checks.scenario


def capacity(path, out, *flags, timeout=900):
    done = subprocess.run([binary, "capacity", path, "--out", out, "--quiet", *flags], capture_output=True, text=True, timeout=timeout)
    try:
        with open(f"{out}/capacity.json") as f:
            return done, json.load(f)
    except FileNotFoundError:
        return done, None


# --- Queueing theory -------------------------------------------------------------------------

def erlang_c(c, a):
    """Probability that an arrival waits, M/M/c with offered load a = λ/μ (a < c)."""
    below = sum(a ** k / math.factorial(k) for k in range(c))
    top = a ** c / math.factorial(c) / (1 - a / c)
    return top / (below + top)


def response_tail(lam, mu, c, t):
    """P(T > t) for M/M/c FCFS: no wait (prob 1 - C) then Exp(μ); or a wait Exp(cμ - λ) plus Exp(μ)."""
    waits, theta = erlang_c(c, lam / mu), c * mu - lam
    if abs(theta - mu) < 1e-9:
        both = math.exp(-mu * t) * (1 + mu * t)
    else:
        both = (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)
    return (1 - waits) * math.exp(-mu * t) + waits * both


def boundary(lo, hi, below):
    """The x in [lo, hi] where the monotone `below(x)` turns from true to false, by bisection."""
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if below(mid) else (lo, mid)
    return lo


def rate_at_slo(mu, c, quantile, slo_s):
    """The arrival rate at which the response time's quantile reaches the SLO."""
    return boundary(1e-6, c * mu * (1 - 1e-9), lambda lam: response_tail(lam, mu, c, slo_s) <= 1 - quantile)


def response_quantile_ms(lam, mu, c, quantile):
    """The response time's quantile at arrival rate λ, in ms (infinite when λ ≥ cμ: no steady state)."""
    if lam >= c * mu:
        return math.inf
    return 1000 * boundary(0.0, 60.0, lambda t: response_tail(lam, mu, c, t) > 1 - quantile)


def misses_by_chance(n, miss, below):
    """The most misses n intervals that each miss with probability `miss` show with probability ≥ 1 - `below`."""
    k, tail = 0, 1.0
    while True:
        tail -= math.comb(n, k) * miss ** k * (1 - miss) ** (n - k)
        if tail < below:
            return k
        k += 1


def station(store, call, servers, mean_ms):
    return f"""stack:
  app_workers: 10000
  embedded:
    {store}:
      operations:
        {call}: {{ servers: {servers}, latency: {{ exponential: {{ mean: {mean_ms}ms }} }} }}
"""


SEARCH = """load:
  mix: {{ board: 1 }}
  phases: [{{ name: steady, duration: 10s, rate: 200/s }}]
thresholds:
  board: {{ p90: {slo_ms}ms }}
capacity:
  start: 200/s
  growth: 2
  precision: 5%
  warmup: 2s
  probe: {probe}
  confirm: {confirm}
  max_probes: 8
  repeats: 0
"""
DATASET = "dataset: { organizations: 10, users_per_org: 10, tasks_per_user: 5 }\n"
# A user sends one request at a time, which M/M/c does not model: a thousand users make it rare
# that a user's previous request is still running, so the station's arrivals are Poisson.
POPULATION = "dataset: { organizations: 10, users_per_org: 100, tasks_per_user: 5 }\n"
CONFIDENCE = 0.95  # the search's default


def covers_theory(probe, mu, c):
    """Whether a probe's interval for board p90 holds M/M/c's value at its load (past saturation: it failed)."""
    theory = response_quantile_ms(probe["load"], mu, c, 0.90)
    check = next(k for k in probe["checks"] if k["target"] == "board")
    if math.isinf(theory):
        return probe["verdict"] == "fail"
    return check["low"] <= theory and (check.get("high") is None or theory <= check["high"])


# --- Known answer: MongoDB's board call is an M/M/4 station ---------------------------------
# A search with 10-second probes stops where its probes can no longer tell at 95 % confidence:
# near the knee one probe's p90 varies by ±15 %, so a single search lands a step or two below
# Erlang C's answer now and then (M/M/4 simulated with this verdict rule: one search in five
# below 90 % of it; M/M/2 at 10 % precision: one in three below 85 %). So each answer is checked
# to hold by theory, every probe's interval to cover theory's p90 at its load (no more misses
# than chance explains), and the best of three searches to come within 10 % of the answer.
# These searches run in simulated time (`--clock virtual`), so the comparison is the search's and
# the station's against the formula, not this machine's speed: on the wall clock, a debug build
# on a night the machine ran at half speed put 19 of 30 probes' intervals above theory's p90 (the
# harness's own time per request queues in front of the station). The wall clock's own searches
# are below: a starved harness, the closed and organizations dimensions, SIGINT.
VIRTUAL = ("--clock", "virtual")
mu, servers, slo_ms = 1000 / 5, 4, 30
expected = rate_at_slo(mu, servers, 0.90, slo_ms / 1000)
mm4 = scenario("mm4", POPULATION + station("mongo", "board", servers, 5) + SEARCH.format(slo_ms=slo_ms, probe="10s", confirm="20s"))
answers, probes = [], []
for seed in (1, 2, 3):
    done, report = capacity(mm4, f"{work}/mm4-{seed}", "--seed", str(seed), *VIRTUAL)
    check(f"M/M/4 search (seed {seed}) exits 0", done.returncode == 0, f"exit {done.returncode}: {done.stderr[-300:]}")
    if report is None:
        continue
    outcome = report["outcome"]
    answer = outcome.get("capacity")
    check(f"…converges and confirms (seed {seed})", outcome["stop"] == "converged" and answer is not None, json.dumps(outcome))
    probes += report["probes"]
    if answer is None:
        continue
    answers.append(answer)
    at_answer = response_quantile_ms(answer, mu, servers, 0.90)
    check(f"…finds {answer:.0f}/s, a load Erlang C says holds (p90 {at_answer:.1f} ms ≤ {slo_ms} ms) (seed {seed})", at_answer <= slo_ms)
    search_probes = [p for p in report["probes"] if p["purpose"] != "confirm"]
    check(f"…in at most 8 probes plus the confirmation (seed {seed})", len(search_probes) <= 8, f"{len(search_probes)} probes")
    check(f"…and names MongoDB as what saturates first (seed {seed})", (report["saturation"] or {}).get("station") == "mongo",
          json.dumps(report["saturation"]))
if answers:
    check(f"the best of the searches ({', '.join(f'{a:.0f}' for a in answers)}/s) is within 10 % of Erlang C's {expected:.0f}/s",
          abs(max(answers) - expected) / expected <= 0.10)
judged = [(p, servers) for p in probes]

# The files: the answer first in capacity.md, every probe's own report beside it, an HTML page that parses.
out = f"{work}/mm4-1"
if report := json.load(open(f"{out}/capacity.json")):
    md = open(f"{out}/capacity.md").read()
    check("capacity.md gives the answer first", md.split("\n")[2].startswith(f"**Holds {report['outcome']['capacity']:.0f}/s within board p90"),
          md.split("\n")[2])
    check("every probe has its own report", all(json.load(open(f"{out}/{p['report']}/report.json"))["verdict"] in ("pass", "fail")
                                                for p in report["probes"]))
    check("every probe's verdict carries its interval", all(c["samples"] > 0 and c["low"] is not None for p in report["probes"] for c in p["checks"]))
    check("the USL fit says how well it fits", report["usl"] is not None and "r_squared" in report["usl"])

    class Page(HTMLParser):
        charts = 0

        def handle_starttag(self, tag, attrs):
            if tag == "svg":
                Page.charts += 1
    Page().feed(open(f"{out}/capacity.html").read())
    check("capacity.html draws throughput, the SLO percentile, per-station time and the USL curve", Page.charts == 4, f"{Page.charts} charts")

# --- Moving the slots to PostgreSQL moves the answer and the bottleneck ---------------------
pg_servers = 2
expected_pg = rate_at_slo(mu, pg_servers, 0.90, slo_ms / 1000)
moved = scenario("moved", POPULATION + station("postgres", "permission-check", pg_servers, 5)
                 + SEARCH.format(slo_ms=slo_ms, probe="10s", confirm="20s").replace("precision: 5%", "precision: 10%"))
done, report = capacity(moved, f"{work}/moved", *VIRTUAL)
if report and report["outcome"].get("capacity"):
    answer = report["outcome"]["capacity"]
    judged += [(p, pg_servers) for p in report["probes"]]
    check(f"slots moved to PostgreSQL: it saturates first", (report["saturation"] or {}).get("station") == "postgres",
          json.dumps(report["saturation"]))
    at_answer = response_quantile_ms(answer, mu, pg_servers, 0.90)
    check(f"…and the answer moves down to {answer:.0f}/s, a load M/M/2 says holds (p90 {at_answer:.1f} ms; its answer {expected_pg:.0f}/s)",
          at_answer <= slo_ms and (not answers or answer < min(answers)))
else:
    check("slots moved to PostgreSQL: the search converges", False, f"exit {done.returncode}: {done.stderr[-300:]}")

# Every probe's interval, M/M/4's and M/M/2's, against the theory's p90 at its load.
missed = [(p, c) for p, c in judged if not covers_theory(p, mu, c)]
allowed = misses_by_chance(len(judged), 1 - CONFIDENCE, 0.002)
check(f"{len(judged) - len(missed)} of {len(judged)} probes' intervals cover M/M/c's p90 at their load (chance explains {allowed} misses)",
      judged and len(missed) <= allowed,
      "; ".join(f"M/M/{c} {p['load']:.0f}/s: theory {response_quantile_ms(p['load'], mu, c, 0.90):.1f} ms, "
                f"{[(k['low'], k.get('high')) for k in p['checks']]}" for p, c in missed))

# --- A starved harness: exit 12, no capacity figure -------------------------------------------
starved = scenario("starved", DATASET + """stack: { app_workers: 100000 }
load:
  mix: { permission-check: 1 }
  phases: [{ name: steady, duration: 2s, rate: 100/s }]
thresholds:
  permission-check: { p90: 1s }
capacity: { start: 400000/s, warmup: 0s, probe: 2s, max_probes: 3 }
""")
done, report = capacity(starved, f"{work}/starved")
check("a load the harness cannot issue ends with exit 12", done.returncode == 12, f"exit {done.returncode}")
check("…with no capacity figure, only the reason", report is not None and report["outcome"].get("capacity") is None
      and report["outcome"]["stop"] == "harness_limit" and report["probes"][-1]["verdict"] == "not_driven")

# --- An SLO that fails even at the lowest load: exit 10 ---------------------------------------
# The wall-clock searches below judge their probes' schedule at 50 ms, not 10: a debug build on
# this shared machine sends a few arrivals 10-40 ms late in about one short run in ten, and at
# 25/s one late arrival of a 3-second probe's 75 is over the 1 % allowed — the probe is then not
# driven and the search ends at exit 12 (a clean clone's did, once). A harness that cannot keep
# up falls far further behind: the starved search above still is not driven.
hopeless = scenario("hopeless", DATASET + station("mongo", "board", 4, 5) + """load:
  schedule_tolerance: 50ms
  mix: { board: 1 }
  phases: [{ name: steady, duration: 2s, rate: 100/s }]
thresholds:
  board: { p90: 2ms }
capacity: { start: 100/s, min: 25/s, warmup: 0s, probe: 3s, repeats: 0 }
""")
done, report = capacity(hopeless, f"{work}/hopeless")
check("an SLO the service time alone breaks exits 10 at the lowest load", done.returncode == 10 and report["outcome"]["stop"] == "fails_at_minimum"
      and min(p["load"] for p in report["probes"]) == 25, f"exit {done.returncode}")

# --- The other dimensions: users (closed model) and organizations (re-seeded per probe) ------
closed = scenario("closed", DATASET + station("mongo", "board", 4, 5) + """load:
  schedule_tolerance: 50ms
  model: closed
  think_time: { exponential: { mean: 20ms } }
  mix: { board: 1 }
  phases: [{ name: steady, duration: 2s, users: 2 }]
thresholds:
  board: { p90: 30ms }
capacity: { start: 2, warmup: 1s, probe: 4s, precision: 20%, max_probes: 8, repeats: 0 }
""")
done, report = capacity(closed, f"{work}/closed")
check("the users dimension searches whole users (closed model)", done.returncode == 0 and report["dimension"] == "users"
      and all(p["load"] == int(p["load"]) for p in report["probes"]), f"exit {done.returncode} {done.stderr[-200:]}")
orgs = scenario("orgs", "dataset: { organizations: 4, users_per_org: 5, tasks_per_user: 5 }\n" + station("mongo", "board", 4, 5) + """load:
  schedule_tolerance: 50ms
  mix: { board: 1 }
  phases: [{ name: steady, duration: 2s, rate: 40/s }]
thresholds:
  board: { p90: 30ms }
capacity: { dimension: organizations, start: 40, rate_per_org: 10/s, warmup: 1s, probe: 4s, precision: 20%, max_probes: 8, repeats: 0 }
""")
done, report = capacity(orgs, f"{work}/orgs")
if report:
    reseeded = all(json.load(open(f"{work}/orgs/{p['report']}/report.json"))["dataset"]["organizations"] == p["load"] for p in report["probes"])
    check("the organizations dimension re-seeds each probe's dataset and records what it cost", done.returncode == 0 and reseeded
          and all(p["dataset_load_s"] > 0 for p in report["probes"]), f"exit {done.returncode}")
else:
    check("the organizations dimension runs", False, f"exit {done.returncode} {done.stderr[-300:]}")

# --- Bad input ----------------------------------------------------------------------------------
no_slo = scenario("no-slo", DATASET + "load:\n  phases: [{ name: s, duration: 2s, rate: 10/s }]\n")
done = subprocess.run([binary, "capacity", no_slo, "--out", f"{work}/no-slo"], capture_output=True, text=True)
check("no SLO at all is refused (64), naming capacity.slo", done.returncode == 64 and "capacity.slo" in done.stderr, done.stderr)
wrong_dimension = scenario("wrong-dimension", DATASET + "capacity:\n  dimension: users\n")
done = subprocess.run([binary, "capacity", wrong_dimension], capture_output=True, text=True)
check("a users search of an open scenario is refused with file and line", done.returncode == 64
      and "wrong-dimension.yaml:4" in done.stderr and "load.model: closed" in done.stderr, done.stderr)
done = subprocess.run([binary, "capacity", mm4, "--start", "fast"], capture_output=True, text=True)
check("--start that is not a rate is refused, naming the flag", done.returncode == 64 and "--start" in done.stderr, done.stderr)
done = subprocess.run([binary, "capacity", orgs, "--target", "live"], capture_output=True, text=True)
check("organizations on a live target is refused before anything is touched", done.returncode == 64
      and "organizations" in done.stderr, done.stderr)

# --- SIGINT: what was found so far is written ---------------------------------------------------
process = subprocess.Popen([binary, "capacity", mm4, "--out", f"{work}/interrupted", "--quiet"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
time.sleep(20)
process.send_signal(signal.SIGINT)
_, stderr = process.communicate(timeout=60)
report = json.load(open(f"{work}/interrupted/capacity.json"))
check("SIGINT stops the search (exit 130) and writes what it found", process.returncode == 130 and report["outcome"]["stop"] == "interrupted"
      and report["outcome"].get("capacity") is None and len(report["probes"]) >= 1, f"exit {process.returncode} {report['outcome']}")

checks.finish()
