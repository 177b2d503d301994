//! Raw bytes as a feed body, read by ingest's SSE client (`sse::open_with`,
//! the code path of the live feed) from an in-memory transport.
//!
//! Properties: reading never panics; where the body is cut into chunks (in
//! one piece, byte by byte up to 1 KiB, or at pseudo-random places) does
//! not change the events, comments and errors; and they are the ones a
//! line-by-line reading of the SSE format gives
//! (`patrolchat_fuzz::reference`).

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use patrolchat_fuzz::{chunks, read_feed, reference, seed_of, summarise};

fuzz_target!(|body: &[u8]| {
    let whole = summarise(&read_feed(vec![Bytes::copy_from_slice(body)]));
    let expected = reference(body);
    assert_eq!(whole, expected, "one chunk vs the reference");

    // Byte by byte is the hardest cut but costs a poll per byte: short
    // bodies only, long ones in chunks of up to 4 bytes.
    let small = if body.len() <= 1024 { 1 } else { 4 };
    let bytewise = summarise(&read_feed(chunks(body, 1, small)));
    assert_eq!(
        bytewise, expected,
        "in chunks of up to {small} bytes vs the reference"
    );

    let seed = seed_of(body);
    let cut = summarise(&read_feed(chunks(body, seed, 64)));
    assert_eq!(cut, expected, "chunks of up to 64 bytes vs the reference");
});
