#!/usr/bin/env python3
"""Validates scenario files against stacksim's generated JSON Schema with an independent
validator (Python's jsonschema). Prints `FILE: KEY.PATH: message` for each invalid file, with the
key path written as stacksim writes it (load.phases[0].rate), and exits 1 if any is invalid."""
import sys

import jsonschema
import yaml


def key_path(path):
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def main():
    schema_file, files = sys.argv[1], sys.argv[2:]
    with open(schema_file, encoding="utf-8") as f:
        schema = yaml.safe_load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    invalid = 0
    for name in files:
        with open(name, encoding="utf-8") as f:
            document = yaml.safe_load(f)
        error = jsonschema.exceptions.best_match(validator.iter_errors(document))
        if error is None:
            print(f"{name}: valid")
        else:
            invalid += 1
            print(f"{name}: {key_path(error.absolute_path)}: {error.message}")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
