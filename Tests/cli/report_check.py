"""Checks a run's human-facing reports with independent tools:
junit.xml against the common JUnit schema (xmlschema), report.md through a Markdown renderer
(Python-Markdown) into tables, and report.html's DOM as headless Chromium built it.

Usage: python3 report_check.py RUN_DIR DOM_FILE CONSOLE_LOG"""
import os
import re
import sys

import markdown
import xmlschema

run, dom_path, console_path = sys.argv[1:4]
here = os.path.dirname(os.path.abspath(__file__))
problems = []

schema = xmlschema.XMLSchema(os.path.join(here, "junit.xsd"))
try:
    schema.validate(os.path.join(run, "junit.xml"))
except xmlschema.XMLSchemaException as error:
    problems.append(f"junit.xml does not validate: {error}")

html = markdown.markdown(open(os.path.join(run, "report.md"), encoding="utf-8").read(), extensions=["tables"])
if html.count("<table>") < 3 or not html.startswith("<h1>"):
    problems.append(f"report.md rendered to {html.count('<table>')} tables; expected a heading first and at least 3 tables")

dom = open(dom_path, encoding="utf-8").read()
figures = re.findall(r'<figure class="chart" id="([^"]+)">(.*?)</figure>', dom, re.S)
if len(figures) < 6:
    problems.append(f"only {len(figures)} charts in the rendered page")
for chart_id, body in figures:
    if "no data" in body or not re.search(r"<polyline|<rect[^>]*fill=\"#", body):
        problems.append(f"chart {chart_id} is empty")
if re.search(r"<script", dom, re.I):
    problems.append("the rendered page contains a script element")
console = open(console_path, encoding="utf-8", errors="replace").read()
errors = [line for line in console.splitlines() if "CONSOLE" in line and re.search(r"error|uncaught", line, re.I)]
if errors:
    problems.append("console errors: " + "; ".join(errors[:3]))
print("\n".join(problems) if problems else f"reports: junit.xml valid, report.md renders, {len(figures)} charts drawn")
sys.exit(1 if problems else 0)
