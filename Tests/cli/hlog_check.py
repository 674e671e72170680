"""Reads a run's latency.hlog with HdrHistogram's Python implementation (an independent
decoder) and checks it against the run's intervals.csv: the same successful requests per operation (the hlog holds successful requests only), the
same per-second p99 within the histogram's precision.

Usage: python3 hlog_check.py latency.hlog intervals.csv"""
import csv
import math
import sys

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader


def value_at_percentile(histogram, percentile):
    """HdrHistogram's (Java's) definition: the rank rounds up. hdrh's own method rounds to nearest."""
    target = max(1, math.ceil(percentile / 100 * histogram.get_total_count()))
    seen = 0
    for index in range(histogram.counts_len):
        seen += histogram.get_count_at_index(index)
        if seen >= target:
            return histogram.get_highest_equivalent_value(histogram.get_value_from_index(index))
    return 0


hlog_path, csv_path = sys.argv[1], sys.argv[2]
reader = HistogramLogReader(hlog_path, HdrHistogram(1, 3_600_000_000_000, 2))
counts, p99s, lines = {}, {}, 0
while True:
    histogram = reader.get_next_interval_histogram()
    if histogram is None:
        break
    lines += 1
    tag = histogram.get_tag() or "*"
    counts[tag] = counts.get(tag, 0) + histogram.get_total_count()
    p99s.setdefault(tag, []).append(value_at_percentile(histogram, 99) / 1e6)

expected, expected_p99 = {}, {}
with open(csv_path) as f:
    for row in csv.DictReader(f):
        expected[row["operation"]] = expected.get(row["operation"], 0) + int(row["ok"])
        expected_p99.setdefault(row["operation"], []).append(float(row["p99_ms"]))
problems = []
if lines == 0:
    problems.append("no interval lines decoded")
for operation, count in expected.items():
    if counts.get(operation) != count:
        problems.append(f"{operation}: hlog has {counts.get(operation)} successful requests, intervals.csv {count}")
    for got, want in zip(p99s.get(operation, []), expected_p99[operation]):
        if abs(got - want) > max(0.01 * want, 0.002):
            problems.append(f"{operation}: p99 {got:.4f} ms in hlog, {want:.4f} ms in intervals.csv")
if counts.get("*") != sum(expected.values()):
    problems.append(f"untagged lines hold {counts.get('*')} requests, intervals.csv {sum(expected.values())}")
print("\n".join(problems) if problems else f"hlog: {lines} interval histograms agree with intervals.csv")
sys.exit(1 if problems else 0)
