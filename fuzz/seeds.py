#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/) and the fixed
events of the workflows target (fuzz/events.jsonl) from the recorded feed in
data/rc and deploy/workflows.toml. The output is committed; run this
again only to change the seeds:

    python3 fuzz/seeds.py [path/to/data/rc]
"""

import hashlib
import json
import pathlib
import shutil
import sys

fuzz = pathlib.Path(__file__).resolve().parent
repo = fuzz.parent
rc = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else repo / "data" / "rc"
corpus = fuzz / "corpus"

# Built from the schema example, as the feed's own canary events are.
CANARY = '{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"id":"c1","dt":"2026-01-01T00:00:00Z","domain":"canary","stream":"mediawiki.recentchange"}}'
# The revision-create event of the model's tests (the corpus holds none).
REVISION = '{"$schema":"/mediawiki/revision/create/2.0.0","meta":{"id":"r1","dt":"2026-02-26T15:49:36Z","domain":"en.wikipedia.org","stream":"mediawiki.revision-create","request_id":"q1"},"database":"enwiki","page_id":5,"page_title":"X","page_namespace":0,"rev_id":2,"rev_parent_id":1,"rev_is_revert":true,"rev_revert_details":{"rev_revert_method":"undo","rev_is_exact_revert":true,"rev_reverted_revs":[1],"rev_original_rev_id":0},"performer":{"user_text":"Alice","user_groups":["*","user","autoconfirmed"],"user_is_bot":false,"user_id":7,"user_edit_count":1234}}'


def pick_events():
    """A few events of each (type, payload generation, wiki) seen, in file order."""
    seen = {}
    for path in sorted(rc.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            modern = "$schema" in ev
            key = (ev.get("type"), modern, ev.get("wiki") if modern else None, ev.get("log_type"))
            if len(seen.setdefault(key, [])) < 1:
                seen[key].append(line)
    return [line for lines in seen.values() for line in lines]


def write(target, name, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    (d / name).write_bytes(data)


def frame(n, line, eol="\n"):
    return f"event: message{eol}id: [{{\"topic\":\"eqiad.mediawiki.recentchange\",\"partition\":0,\"offset\":{n}}}]{eol}data: {line}{eol}{eol}"


def main():
    events = pick_events()
    shutil.rmtree(corpus, ignore_errors=True)

    # feed_event: single payloads, plus meta.dt and duration strings.
    for line in events:
        write("feed_event", hashlib.sha1(line.encode()).hexdigest()[:16], line)
    write("feed_event", "canary", CANARY)
    write("feed_event", "revision-create", REVISION)
    for i, t in enumerate(["2026-02-26T15:49:36.569Z", "2018-07-22T17:00:00+00:00", "2022-12-11T04:27:02Z", "1.5", "0.25"]):
        write("feed_event", f"text-{i}", t)

    # sse_framing: EventStreams framing with LF, CRLF and CR line ends,
    # comments, retry, a BOM, and the raw recording.
    sse = sorted(rc.glob("*.sse"))
    for path in sse:
        write("sse_framing", path.stem, path.read_bytes())
    few = events[:3]
    write("sse_framing", "lf", "".join(frame(n, e) for n, e in enumerate(few)))
    write("sse_framing", "crlf", "".join(frame(n, e, "\r\n") for n, e in enumerate(few)))
    write("sse_framing", "cr", "".join(frame(n, e, "\r") for n, e in enumerate(few)))
    write("sse_framing", "comment-retry", ":ok\n\nretry: 3000\n" + frame(0, events[0]) + ": heartbeat\n\n")
    write("sse_framing", "bom-multiline", b"\xef\xbb\xbf" + b"id: 1\ndata: {\"a\":\ndata: 1}\n\nid\ndata: x\n\n")
    write("sse_framing", "unterminated", frame(0, events[0])[:-2])
    # A field named "comment", which the client reports as a comment.
    write("sse_framing", "comment-field", "comment: x\n\ncomment\n" + frame(0, events[0]))

    # replay_roundtrip: a mode byte (bit 0: raw SSE recording, bit 1: --loop), then the file.
    jsonl = "\n".join(events[:4]) + "\n"
    write("replay_roundtrip", "jsonl", b"\x00" + jsonl.encode())
    write("replay_roundtrip", "jsonl-loop", b"\x02" + jsonl.encode())
    for path in sse:
        write("replay_roundtrip", path.stem, b"\x01" + path.read_bytes())
        write("replay_roundtrip", path.stem + "-loop", b"\x03" + path.read_bytes())

    # workflows: a workflows file, then optionally NUL and an event.
    shipped = (repo / "deploy" / "workflows.toml").read_text(encoding="utf-8")
    write("workflows", "shipped", shipped)
    for i, line in enumerate(events[:6]):
        write("workflows", f"shipped-event-{i}", shipped + "\0" + line)
    small = '''[[workflow]]
name = "w"
title = "W"
description = "d"
kind = "feed"
wikis = ["*wiki", "enwiki"]

[workflow.match]
types = ["edit", "new", "log"]
performer = ["account"]
min_edit_count = 1
max_edit_count = 10
title = "^A"
comment_not = "(?i)revert"
log_types = ["block"]

[workflow.priority]
base = -1.5
'''
    write("workflows", "small", small)

    # The workflows target's fixed events: one per kind of event picked.
    (fuzz / "events.jsonl").write_text("".join(e + "\n" for e in events[:24]), encoding="utf-8")
    print(f"{len(events)} events picked; corpus in {corpus}")


main()
