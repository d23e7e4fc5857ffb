"""Read JUnit XML files with junitparser (a JUnit consumer) and print what it saw.

Usage: read_junit.py FILE...   Prints a JSON object {file: {"suites": [...]}}; each
suite has its name, counts as junitparser computes them, and its cases with their
results. Exit 1 if a file does not parse.
"""
import json
import sys

from junitparser import Error, Failure, JUnitXml, Skipped, TestSuite


def result_of(case):
    out = []
    for r in case.result:
        kind = {Failure: "failure", Skipped: "skipped", Error: "error"}.get(type(r), type(r).__name__)
        out.append({"kind": kind, "type": r.type, "message": r.message, "text": r.text})
    return out


def main() -> int:
    seen = {}
    for path in sys.argv[1:]:
        try:
            xml = JUnitXml.fromfile(path)
        except Exception as e:  # junitparser raises lxml / ElementTree errors as they come
            print(f"{path}: does not parse: {e}", file=sys.stderr)
            return 1
        suites = [xml] if isinstance(xml, TestSuite) else list(xml)
        seen[path] = {
            "suites": [
                {
                    "name": s.name,
                    "tests": s.tests,
                    "failures": s.failures,
                    "errors": s.errors,
                    "skipped": s.skipped,
                    "properties": {p.name: p.value for p in s.properties()},
                    "cases": [
                        {
                            "name": c.name,
                            "classname": c.classname,
                            "result": result_of(c),
                            "system_out": c.system_out,
                        }
                        for c in s
                    ],
                }
                for s in suites
            ]
        }
    print(json.dumps(seen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
