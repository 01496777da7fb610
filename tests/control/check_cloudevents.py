#!/usr/bin/env python3
"""Reads a control plane event log (one CloudEvents JSON document per line) with the CNCF
CloudEvents SDK for Python (PyPI `cloudevents`), an implementation independent of ours: every
line must parse as a CloudEvents 1.0 structured event with its required attributes, a time
that is RFC 3339, and a partitionkey. Prints one line per event type and its count.

    python3 tests/control/check_cloudevents.py EVENTS.jsonl
"""
import collections
import datetime
import sys

from cloudevents.http import from_json


def main(path):
    counts = collections.Counter()
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                event = from_json(line)
            except Exception as e:  # the SDK raises several kinds; all mean "not an event"
                sys.exit("line %d is not a CloudEvent: %s: %s" % (number, type(e).__name__, e))
            if event["specversion"] != "1.0":
                sys.exit("line %d: specversion %r" % (number, event["specversion"]))
            time = event.get("time")
            try:
                datetime.datetime.fromisoformat(time.replace("Z", "+00:00"))
            except (AttributeError, ValueError):
                sys.exit("line %d: time %r is not RFC 3339" % (number, time))
            if not event.get("partitionkey"):
                sys.exit("line %d: no partitionkey" % number)
            counts[event["type"]] += 1
    if not counts:
        sys.exit("%s holds no events" % path)
    for kind, n in sorted(counts.items()):
        print("%s %d" % (kind, n))


if __name__ == "__main__":
    main(sys.argv[1])
