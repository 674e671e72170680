"""Mutated scenarios through `scenarios --validate` and a 1-second run: each must run or be
refused with exit 64 and a located message — never a crash, a hang or memory beyond a bound.

Mutations: values of other types and extreme magnitudes, unknown and missing keys, other
encodings and broken bytes, and YAML features (anchors, aliases, tags, merge keys, several
documents, deep nesting). Seeded, so a failure can be replayed: the failing file is kept.

Usage: python3 fuzz.py path/to/stacksim WORK_DIR [COUNT] [SEED]"""
import copy
import os
import random
import re
import signal
import subprocess
import sys
import time

import yaml

binary, work = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 300
rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 20261129)
MAX_RSS_KB = 1_500_000          # memory bound for any one process
VALIDATE_SECONDS = 20           # a validation taking longer is a hang
RUN_SECONDS = 20                # a run still going then is asked to stop (SIGINT) ...
STOP_SECONDS = 5                # ... and must be gone this long after

BASES = [
    """name: fuzz-open
description: an open-model base
seed: 3
dataset: { organizations: 3, users_per_org: { zipf: { min: 2, max: 6, s: 1.2 } }, tasks_per_user: 3, sprints_per_org: 2 }
stack:
  cache: { task_stats_ttl: 1m, dashboard_ttl: 2m }
  sync: { strategy: per-task, workers: 2, batch_size: 50 }
  app_workers: 8
  rate_limit: { per_minute: 6000 }
  sessions: { ttl: 1d }
  embedded:
    mongo: { latency: { uniform: { min: 0ms, max: 1ms } }, errors: 0.1%, operations: { board: { latency: 1ms } } }
    redis: { stall: { every: 2s, for: 10ms } }
load:
  arrivals: poisson
  graceful_stop: 1s
  phases:
    - { name: warm, duration: 1s, rate: 20/s, record: false }
    - { name: ramp, duration: 2s, rate: { ramp: { from: 10/s, to: 60/s } } }
    - { name: wave, duration: 2s, rate: { sine: { mean: 40/s, amplitude: 20/s, period: 1s } } }
  mix: { board: 3, my-tasks: 2, search: 1, create-task: 1, update-profile: 1 }
thresholds:
  board: { p99: 500ms, errors: 5% }
  errors: { rate: 10% }
""",
    """name: fuzz-closed
dataset: { organizations: 2, users_per_org: 4, tasks_per_user: { uniform: { min: 1, max: 4 } } }
load:
  model: closed
  think_time: { exponential: { mean: 50ms } }
  graceful_stop: 1s
  phases:
    - { name: fixed, duration: 2s, users: 3 }
    - { name: grow, duration: 2s, users: { ramp: { from: 1, to: 5 } } }
thresholds:
  snapshot-lag: { p99: 5s }
  cache-hit-ratio: { task_stats: 1% }
""",
    """name: fuzz-shapes
dataset: { organizations: 2, users_per_org: 3, tasks_per_user: 2 }
stack:
  embedded:
    postgres: { outage: { at: 1s, for: 500ms }, operations: { permission-check: { errors: 1% } } }
load:
  arrivals: uniform
  max_rate: 200/s
  max_outstanding: 1000
  graceful_stop: 0s
  phases:
    - { name: stairs, duration: 2s, rate: { steps: [10/s, 30/s] } }
    - { name: burst, duration: 2s, rate: { spike: { baseline: 10/s, peak: 80/s, at: 500ms, for: 500ms } }, mix: { board: 1 } }
thresholds:
  abort_after: 1s
  all: { p99: 1s, abort_on_fail: true, include_failed: true }
""",
]

EDGE_VALUES = [0, 1, -1, 2, 7, 2**31, 2**63, 2**64, 10**30, 1e308, -1e308, 1e-320, 0.5, 1e12, float("nan"), float("inf"),
               "", "abc", "null", "~", "true", "no", "0x1F", "1_000", "1e400", ".nan", "-.inf", "NaN",
               "99999999999d", "3651d", "3650d", "100000s", "1ns", "0.0000001ns", "0s", "-5s", "5 s", "1e3s", "10y",
               "1000000000000/s", "1000000/s", "1000001/s", "0/s", "5/d", "-3/s", "1e-9/s",
               "200%", "-5%", "0.5%", "100%", "1.5", "\u202e", "\x00x", "\u00e9t\u00e9", "a" * 5000, "two\nlines",
               [], {}, [1, 2], {"a": 1}, None, True]


def mutate_tree(doc):
    """Changes a random node of the parsed scenario: another value, a key added or removed."""
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for k in list(node):
                paths.append((node, k))
                walk(node[k], path + [k])
        elif isinstance(node, list):
            for i in range(len(node)):
                paths.append((node, i))
                walk(node[i], path + [i])
    walk(doc, [])
    parent, key = rng.choice(paths)
    kind = rng.random()
    if kind < 0.55:
        parent[key] = copy.deepcopy(rng.choice(EDGE_VALUES))
    elif kind < 0.75:
        value = parent[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parent[key] = value * rng.choice([10, 1000, 10**6, 10**12, -1, 0.001])
        elif isinstance(value, str) and (m := re.match(r"^([0-9.]+)(.*)$", value)):
            parent[key] = f"{float(m.group(1)) * rng.choice([10, 1000, 10**6, 10**12, 0.001]):g}{m.group(2)}"
        else:
            parent[key] = copy.deepcopy(rng.choice(EDGE_VALUES))
    elif kind < 0.9 and isinstance(parent, dict):
        parent[rng.choice(["colour", "phase", "Name", "ratee", "bord", "x" * 40, "duration"])] = rng.choice(EDGE_VALUES)
    elif isinstance(parent, dict):
        del parent[key]
    else:
        parent.pop(key)
    return doc


def yaml_feature(text):
    """Rewrites the text with a YAML feature the format may or may not take."""
    choice = rng.randrange(9)
    if choice == 0:   # anchors and aliases, exponentially expanding ("billion laughs")
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
        return "\n".join(lines) + "\n" + text
    if choice == 1:
        return text.replace("description:", "description: !!binary", 1) if "description:" in text else "!!map\n" + text
    if choice == 2:
        return text.replace("seed: 3", "seed: !!timestamp 2026-01-01") if "seed: 3" in text else "name: !custom x\n" + text
    if choice == 3:
        return text + "---\nname: second\n"
    if choice == 4:
        return "base: &base { organizations: 2 }\n" + text.replace("dataset: {", "dataset: { <<: *base,", 1)
    if choice == 5:
        return text + "deep: " + "[" * 4000 + "]" * 4000 + "\n"
    if choice == 6:
        return text.replace("name:", "? name\n:", 1)
    if choice == 7:
        return text.replace("\n", "\r\n")
    return "%YAML 1.1\n---\n" + text


def encode(text):
    """The text as bytes, sometimes in another encoding or broken."""
    choice = rng.randrange(8)
    data = text.encode("utf-8")
    if choice == 0:
        return text.encode("utf-16")
    if choice == 1:
        return b"\xef\xbb\xbf" + data
    if choice == 2:
        return data[: rng.randrange(len(data))]
    if choice == 3:
        i = rng.randrange(len(data))
        return data[:i] + bytes([rng.choice([0, 0xFF, 0xC3, 0x1B, 0x80])]) + data[i:]
    if choice == 4:
        return text.encode("latin-1", errors="replace") + "é".encode("latin-1")
    return data


def mutant(index):
    base = rng.choice(BASES)
    kind = rng.random()
    if kind < 0.7:
        doc = yaml.safe_load(base)
        for _ in range(rng.choice([1, 1, 2, 3])):
            doc = mutate_tree(doc)
        text = yaml.safe_dump(doc, allow_unicode=rng.random() < 0.5, sort_keys=False)
        return text.encode("utf-8")
    if kind < 0.85:
        return yaml_feature(base).encode("utf-8")
    return encode(base)


def measure(args, limit, stop_after=None):
    """Runs a command; returns (exit code or None for a hang, output, max RSS in KB, stopped)."""
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    start, stopped = time.monotonic(), False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            output = process.stdout.read().decode("utf-8", errors="replace")
            return os.waitstatus_to_exitcode(status), output, usage.ru_maxrss, stopped
        elapsed = time.monotonic() - start
        if stop_after and not stopped and elapsed > stop_after:
            process.send_signal(signal.SIGINT)
            stopped, start = True, time.monotonic()
            limit = STOP_SECONDS
        elif elapsed > limit:
            process.kill()
            process.wait()
            return None, process.stdout.read().decode("utf-8", errors="replace"), 0, stopped
        time.sleep(0.02)


problems, outcomes = [], {"refused": 0, "ran": 0, "stopped": 0}
for index in range(count):
    path = f"{work}/mutant-{index}.yaml"
    with open(path, "wb") as f:
        f.write(mutant(index))
    code, output, rss, _ = measure([binary, "scenarios", "--validate", path], VALIDATE_SECONDS)
    problem = None
    if code is None:
        problem = "validate hung"
    elif rss > MAX_RSS_KB:
        problem = f"validate used {rss} KB"
    elif code == 64:
        outcomes["refused"] += 1
        if not re.search(rf"INVALID: {re.escape(path)}(:\d+:\d+)?: \S", output):
            problem = "refused without a located message"
    elif code != 0:
        problem = f"validate exited {code}"
    else:
        out = f"{work}/run-{index}"
        code, run_output, rss, stopped = measure([binary, "run", path, "--duration", "1s", "--out", out, "--quiet"], RUN_SECONDS,
                                                 stop_after=RUN_SECONDS)
        if code is None:
            problem = "run hung" + (" (and did not stop on SIGINT)" if stopped else "")
        elif rss > MAX_RSS_KB:
            problem = f"run used {rss} KB"
        elif stopped:
            outcomes["stopped"] += 1
            if code != 130:
                problem = f"a long run stopped with SIGINT exited {code}, not 130"
        elif code == 64:
            outcomes["refused"] += 1
            if not re.search(r"^stacksim: (--[a-z-]+|\S+\.yaml)", run_output, re.M):
                problem = "run refused without a located message"
        elif code in (0, 10, 12):
            outcomes["ran"] += 1
            if not os.path.exists(f"{out}/report.json"):
                problem = "a run that ended wrote no report"
        else:
            problem = f"run exited {code}"
        output = run_output
    if problem:
        problems.append(index)
        print(f"FAIL {path}: {problem}\n" + "\n".join("     " + line for line in output.splitlines()[-12:]))
    else:
        os.remove(path)

print(f"fuzz: {count} mutated scenarios: {outcomes['refused']} refused with a located message, {outcomes['ran']} ran, "
      f"{outcomes['stopped']} long ones stopped by SIGINT; {len(problems)} failed")
sys.exit(1 if problems else 0)
