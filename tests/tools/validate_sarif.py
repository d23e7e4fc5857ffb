"""Validate SARIF logs against the vendored SARIF 2.1.0 schema.

Usage: validate_sarif.py SCHEMA FILE...   Prints one line per violation; exit 1 if any.
The schema is JSON Schema draft-04; "uri" formats are checked (rfc3986-validator).
"""
import json
import sys

import jsonschema


def main() -> int:
    schema = json.load(open(sys.argv[1], encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    validator = jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    if "uri" not in validator.format_checker.checkers:
        print("the uri format cannot be checked: install rfc3986-validator")
        return 2
    errors = 0
    for path in sys.argv[2:]:
        doc = json.load(open(path, encoding="utf-8"))
        for e in validator.iter_errors(doc):
            errors += 1
            where = "/".join(str(p) for p in e.absolute_path)
            print(f"{path}: /{where}: {e.message}")
    print(f"{len(sys.argv) - 2} files, {errors} schema violations")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
