#!/usr/bin/env python3
"""An EventStreams consumer of the kind Wikimedia bots run today.

requests-sse's EventSource (what pywikibot's EventStreams is built on)
iterating the feed, and json.loads on every event. After a warm-up it counts
events for a fixed number of seconds and prints one JSON object:

    {"events_per_s": 12345.6, "events": 123456, "parsed": 123456,
     "seconds": 10.0, "cpu_seconds": 9.9, "python": "3.11.2",
     "requests_sse": "0.5.3"}

Usage: sse_consumer.py --url URL [--warmup 2] [--seconds 10]
"""

import argparse
import importlib.metadata
import json
import platform
import sys
import time

from requests_sse import EventSource


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SSE feed URL")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before counting")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds counted")
    args = parser.parse_args()

    events = 0
    parsed = 0
    clock = time.monotonic
    with EventSource(args.url, timeout=30) as source:
        warm_until = clock() + args.warmup
        for event in source:
            json.loads(event.data)
            if clock() >= warm_until:
                break
        start = clock()
        cpu_start = time.process_time()
        end = start + args.seconds
        for event in source:
            events += 1
            try:
                json.loads(event.data)
                parsed += 1
            except ValueError:
                pass
            if clock() >= end:
                break
        seconds = clock() - start
        cpu = time.process_time() - cpu_start

    print(
        json.dumps(
            {
                "events_per_s": events / seconds,
                "events": events,
                "parsed": parsed,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "python": platform.python_version(),
                "requests_sse": importlib.metadata.version("requests-sse"),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
