#!/usr/bin/env python3
"""Sums the outcomes of every .trx file under a folder and prints 'N passed, N failed, N skipped'.

Before that line, for each failed test: its name, error message and the head of its stack trace (bounded), and the
machine's core count, so that a CI log's tail says why a test failed and where.
"""
import os
import pathlib
import sys
import xml.etree.ElementTree as ET

NS = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
MAX_MESSAGE = 1500
MAX_STACK_LINES = 6


def text_of(result, tag: str) -> str:
    node = result.find(f"{NS}Output/{NS}ErrorInfo/{NS}{tag}")
    return (node.text or "").strip() if node is not None else ""


def main(folder: str) -> int:
    passed = failed = skipped = 0
    failures = []
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
                failures.append(result)
    for result in failures:
        message = text_of(result, "Message")
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + " ..."
        lines = [line for line in text_of(result, "StackTrace").splitlines() if line.strip()]
        # Frames with a source line (the project's code) say more than the framework's async plumbing.
        sourced = list(dict.fromkeys(line for line in lines[2:] if ".cs:line" in line))
        stack = lines[:2] + sourced[: MAX_STACK_LINES - 2]
        print(f"FAILED: {result.get('testName')} ({result.get('duration', '?')})", file=sys.stderr)
        for line in message.splitlines():
            print(f"    {line}", file=sys.stderr)
        for line in stack:
            print(f"    {line.strip()}", file=sys.stderr)
    if failures:
        print(f"(machine: {os.cpu_count()} cores)", file=sys.stderr)
    if not files:
        print("no test results found (did the build fail?)", file=sys.stderr)
    sys.stderr.flush()
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "artifacts/test-results"))
