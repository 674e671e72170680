"""What the Python command-line checks share: one line per check (ok or FAIL with the detail),
scenario files written into the work directory, and the closing count that run.sh matches."""
import os
import sys


class Checks:
    def __init__(self, suite, work):
        self.suite, self.work, self.failures = suite, work, []
        os.makedirs(work, exist_ok=True)

    def check(self, name, ok, detail=""):
        print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))
        if not ok:
            self.failures.append(name)

    def scenario(self, name, body):
        """Writes `name: NAME` and `body` to WORK/NAME.yaml; returns its path."""
        path = f"{self.work}/{name}.yaml"
        with open(path, "w") as f:
            f.write(f"name: {name}\n" + body)
        return path

    def finish(self):
        print(f"{self.suite}: {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)
