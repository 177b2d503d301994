#!/usr/bin/env python3
"""A patrolchat bot written the way Wikimedia bots read stream.wikimedia.org.

It reads a patrolchat workflow stream with pywikibot's EventStreams (which
is built on requests-sse), unchanged but for the URL and the bot token, and
prints one JSON line per event:

    {"id": "<the SSE id line>", "data": {...the event, meta included...}}

With --last-event-id it resumes right after that event, the way
pywikibot resumes after a dropped connection. It stops after --count events.

No wiki account or user-config.py is needed: PYWIKIBOT_NO_USER_CONFIG is
set and the stream is given no site, so pywikibot never calls a wiki.

Usage: bot_consumer.py --url URL --token TOKEN --count N [--last-event-id ID]
"""

import argparse
import json
import os
import sys

# pywikibot reads its configuration on import; "2" also silences the
# warning that there is no user-config.py.
os.environ.setdefault("PYWIKIBOT_NO_USER_CONFIG", "2")

from pywikibot.comms.eventstreams import EventStreams  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="stream URL")
    parser.add_argument("--token", required=True, help="bot token (pcb_...)")
    parser.add_argument("--count", type=int, required=True, help="events to read")
    parser.add_argument("--last-event-id", help="resume after this event id")
    args = parser.parse_args()

    # EventStreams yields the parsed data only; the id of each event comes
    # through requests-sse's on_message hook, called just before.
    ids = []
    kwargs = {
        "url": args.url,
        "site": None,
        "headers": {"Authorization": f"Bearer {args.token}"},
        "on_message": lambda event: ids.append(event.last_event_id),
        "timeout": (5, 60),
    }
    if args.last_event_id:
        # requests-sse's name; pywikibot resumes with the same keyword.
        kwargs["latest_event_id"] = args.last_event_id
    stream = EventStreams(**kwargs)
    stream.set_maximum_items(args.count)
    for data in stream:
        print(json.dumps({"id": ids[-1], "data": data}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
