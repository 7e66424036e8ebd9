#!/usr/bin/env python3
"""Sums the outcomes of every .trx file under a folder and prints 'N passed, N failed, N skipped'."""
import pathlib
import sys
import xml.etree.ElementTree as ET

NS = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"


def main(folder: str) -> int:
    passed = failed = skipped = 0
    files = sorted(pathlib.Path(folder).rglob("*.trx"))
    for trx in files:
        for result in ET.parse(trx).getroot().iter(f"{NS}UnitTestResult"):
            outcome = result.get("outcome", "")
            if outcome == "Passed":
                passed += 1
            elif outcome in ("NotExecuted", "Inconclusive"):
                skipped += 1
            else:
                failed += 1
                print(f"FAILED: {result.get('testName')}", file=sys.stderr)
    if not files:
        print("no test results found (did the build fail?)", file=sys.stderr)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "artifacts/test-results"))
