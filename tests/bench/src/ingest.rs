//! The ingest benchmark: four measurements, one table.
//!
//! 1. `patrolchat ingest` (release, a child process) reading the looping
//!    replay server into a fresh nats-server: growth of `RC`'s message
//!    count per second, and ingest's peak RSS.
//! 2. The ceiling: a minimal publisher in this process pushing the corpus
//!    into an `RC` stream of the same configuration, 4,096 acknowledgements
//!    in flight, taken in order. What JetStream itself takes here.
//! 3. Ingest's SSE-and-parse path alone, in this process: `sse::open` and
//!    `FeedEvent::parse` on every event, nothing published.
//! 4. A Python consumer as Wikimedia bots write them (requests-sse, the base
//!    of pywikibot's EventStreams, and `json.loads` on every event).
//!
//! Two diagnostics are measured too and printed as notes: how fast the
//! replay server's bytes can be drained with no parsing at all (an upper
//! bound for every SSE-fed figure), and the CPU each process used.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use bytes::Bytes;
use futures::StreamExt;
use patrolchat_bus::streams::RcStream;
use patrolchat_ingest::sse::{self, FeedItem, FeedSettings};
use patrolchat_model::{FeedEvent, subjects};
use patrolchat_testkit::{ChildGuard, NatsServer, corpus_files, free_port, rss_peak_kib};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::Error;
use crate::report::{Report, Row, thousands, verdict};
use crate::setup::{Ctx, Measured, Replay, metric, scrape, wait_port};

/// Publish acknowledgements the ceiling publisher keeps in flight.
pub(crate) const CEILING_IN_FLIGHT: usize = 4096;

/// This process, as named in the CPU notes of the ceiling.
const CEILING_PROC: &str = "patrolchat-bench (publisher)";
/// This process, as named in the CPU notes of SSE + parse.
const PARSE_PROC: &str = "patrolchat-bench (SSE + parse)";

/// Target: events/s into JetStream.
const TARGET_EVENTS: f64 = 60_000.0;
/// Target: ingest's share of the ceiling.
const TARGET_SHARE: f64 = 0.5;
/// Target: peak RSS in MB.
const TARGET_RSS_MB: f64 = 50.0;
/// Target: SSE + parse against the Python consumer.
const TARGET_RATIO: f64 = 10.0;

/// The `RC` stream exactly as ingest configures it by default.
pub(crate) fn rc_stream() -> RcStream {
    RcStream {
        max_age: Duration::from_secs(7 * 24 * 3600),
        duplicate_window: Duration::from_secs(300),
        replicas: 1,
    }
}

/// Runs the four measurements and the diagnostics.
pub(crate) async fn run(ctx: &Ctx) -> Result<Report, Error> {
    let corpus = Corpus::load()?;
    let n = ctx.opts.warmup + ctx.opts.seconds;
    eprintln!("ingest bench: 5 measurements of ~{n:.0} s each (+ start-up)");

    eprintln!("[1/5] patrolchat ingest → JetStream");
    let ingest = ingest_into_jetstream(ctx).await?;
    eprintln!("      {} events/s", thousands(ingest.measured.rate()));

    eprintln!("[2/5] JetStream ceiling, minimal publisher");
    let ceiling = ceiling(ctx, &corpus).await?;
    eprintln!("      {} events/s", thousands(ceiling.rate()));

    eprintln!("[3/5] ingest's SSE + parse, no publishing");
    let parse = sse_and_parse(ctx).await?;
    eprintln!("      {} events/s", thousands(parse.rate()));

    eprintln!("[4/5] Python requests-sse + json.loads");
    let python = python_consumer(ctx).await?;
    eprintln!("      {} events/s", thousands(python.events_per_s));

    eprintln!("[5/5] diagnostic: replay server drained raw, no parsing");
    let raw = replay_raw(ctx).await?;
    eprintln!("      {} events/s", thousands(raw.rate()));

    Ok(report(
        ctx, &corpus, &ingest, &ceiling, &parse, &python, &raw,
    ))
}

fn report(
    ctx: &Ctx,
    corpus: &Corpus,
    ingest: &IngestRun,
    ceiling: &Measured,
    parse: &Measured,
    python: &PythonRun,
    raw: &Measured,
) -> Report {
    let ingest_rate = ingest.measured.rate();
    let ceiling_rate = ceiling.rate();
    let share = ingest_rate / ceiling_rate;
    let mut why = Vec::new();
    if ingest_rate < TARGET_EVENTS {
        why.push("below 60,000".to_owned());
    }
    if ingest_rate < TARGET_SHARE * ceiling_rate {
        why.push(format!("{:.0}% of ceiling", share * 100.0));
    }
    let ingest_ok = why.is_empty();
    let rss_mb = ingest.peak_kib.map(|k| k as f64 * 1024.0 / 1e6);
    let rss_ok = rss_mb.is_some_and(|mb| mb <= TARGET_RSS_MB);
    let ratio = parse.rate() / python.events_per_s;
    let ratio_ok = ratio >= TARGET_RATIO;

    let rows = vec![
        Row::new(
            "ingest → JetStream (events/s)",
            thousands(ingest_rate),
            format!(
                "≥ 60,000 and ≥ ½ ceiling: {}",
                verdict(ingest_ok, &why.join(", "))
            ),
            format!(
                "ceiling {} ({:.0}%)",
                thousands(ceiling_rate),
                share * 100.0
            ),
        ),
        Row::new(
            "JetStream ceiling, minimal publisher (events/s)",
            thousands(ceiling_rate),
            "—",
            "—",
        ),
        Row::new(
            "ingest peak RSS (MB)",
            rss_mb.map_or("n/a".to_owned(), |mb| format!("{mb:.1}")),
            format!("≤ 50: {}", verdict(rss_ok, "")),
            "—",
        ),
        Row::new(
            "ingest SSE + parse, no publishing (events/s)",
            thousands(parse.rate()),
            format!(
                "≥ 10× Python: {}",
                verdict(ratio_ok, &format!("{ratio:.1}×"))
            ),
            format!(
                "Python requests-sse {} ({ratio:.1}×)",
                thousands(python.events_per_s)
            ),
        ),
        Row::new(
            "Python requests-sse + json.loads (events/s)",
            thousands(python.events_per_s),
            "—",
            "—",
        ),
    ];

    let m = &ingest.measured;
    let rate = |i: usize| thousands(m.rates.get(i).copied().unwrap_or(0.0));
    let notes = vec![
        ctx.feed_corpus_note.clone(),
        format!(
            "ceiling corpus: {} lines in {} *.jsonl files, {} accepted by FeedEvent::parse, {} distinct \
             meta.ids (repeats within a round are JetStream duplicates, for ingest and the \
             ceiling alike); Nats-Msg-Id = <round>-<meta.id>",
            corpus.lines,
            corpus.files,
            corpus.events.len(),
            corpus.distinct
        ),
        format!(
            "ingest (PATROLCHAT_INGEST_IN_FLIGHT={}): RC grew {} msgs/s; ingest's metrics: \
             received {} events/s, acknowledged {} events/s; CPU in cores: {}; CPU per event: \
             ingest {}, nats-server {}; peak RSS {} KiB",
            ctx.opts
                .in_flight
                .map_or("default 4096".to_owned(), |n| n.to_string()),
            rate(0),
            rate(1),
            rate(2),
            m.cpu_text(),
            m.cpu_us_per_event("ingest"),
            m.cpu_us_per_event("nats-server"),
            ingest
                .peak_kib
                .map_or("n/a".to_owned(), |k| thousands(k as f64)),
        ),
        format!(
            "ceiling: {} acks/s counted ({} acknowledged in {:.1} s), RC grew {} msgs/s; \
             CPU in cores: {}; CPU per event: publisher {}, nats-server {}",
            thousands(ceiling.rate()),
            thousands(ceiling.counts.first().copied().unwrap_or(0) as f64),
            ceiling.secs,
            thousands(ceiling.rates.get(1).copied().unwrap_or(0.0)),
            ceiling.cpu_text(),
            ceiling.cpu_us_per_event(CEILING_PROC),
            ceiling.cpu_us_per_event("nats-server"),
        ),
        format!(
            "SSE + parse: {} events/s read, {} parsed/s, {} feed errors; CPU in cores: {}; \
             CPU per event: {}",
            thousands(parse.rates.get(1).copied().unwrap_or(0.0)),
            thousands(parse.rate()),
            parse.counts.get(2).copied().unwrap_or(0),
            parse.cpu_text(),
            parse.cpu_us_per_event(PARSE_PROC),
        ),
        format!(
            "Python: {} events in {:.1} s, {} parsed; CPU in cores: python {:.2}, {}; CPU per \
             event: {:.1} µs",
            thousands(python.events as f64),
            python.seconds,
            thousands(python.parsed as f64),
            python.cpu_cores,
            python.replay_cpu,
            python.cpu_cores / python.events_per_s * 1e6,
        ),
        format!(
            "replay server drained raw (no SSE parsing, no JSON): {} events/s, the upper bound \
             of every SSE-fed figure here; CPU in cores: {}",
            thousands(raw.rate()),
            raw.cpu_text()
        ),
    ];
    Report {
        rows,
        notes,
        failures: Vec::new(),
    }
}

/// One corpus event, ready to publish.
struct Event {
    subject: String,
    id: String,
    payload: Bytes,
}

/// The recorded corpus as the ceiling publisher sends it.
struct Corpus {
    events: Vec<Event>,
    lines: usize,
    files: usize,
    distinct: usize,
}

impl Corpus {
    /// Every line of every `*.jsonl` file, kept when ingest would publish it.
    fn load() -> Result<Self, Error> {
        let files = corpus_files();
        let mut events = Vec::new();
        let mut lines = 0;
        for path in &files {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                lines += 1;
                let Ok(event) = FeedEvent::parse(line.as_bytes()) else {
                    continue;
                };
                let Ok(wiki) = event.wiki() else { continue };
                events.push(Event {
                    subject: subjects::rc(&wiki, event.kind()),
                    id: event.id().to_owned(),
                    payload: Bytes::copy_from_slice(line.as_bytes()),
                });
            }
        }
        if events.is_empty() {
            return Err("the corpus holds no event that parses".into());
        }
        let distinct = events
            .iter()
            .map(|e| e.id.as_str())
            .collect::<HashSet<_>>()
            .len();
        Ok(Self {
            events,
            lines,
            files: files.len(),
            distinct,
        })
    }
}

/// Messages in `RC`.
pub(crate) async fn rc_messages(js: &jetstream::Context) -> Result<u64, Error> {
    let stream = js.get_stream(subjects::RC_STREAM).await?;
    Ok(stream.cached_info().state.messages)
}

pub(crate) async fn connect(url: &str) -> Result<async_nats::Client, Error> {
    Ok(async_nats::ConnectOptions::new()
        .name("patrolchat-bench")
        .connect(url)
        .await?)
}

struct IngestRun {
    /// Rates: RC messages, ingest's received, ingest's acknowledged.
    measured: Measured,
    peak_kib: Option<u64>,
}

/// Measurement 1: `patrolchat ingest` into JetStream.
async fn ingest_into_jetstream(ctx: &Ctx) -> Result<IngestRun, Error> {
    let nats = NatsServer::start();
    let replay = Replay::start(ctx).await?;
    let metrics_port = free_port();
    let (log, out, err) = ctx.log("ingest")?;
    let mut cmd = Command::new(&ctx.patrolchat);
    cmd.arg("ingest")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("PATROLCHAT_NATS_URL", nats.url())
        .env("PATROLCHAT_FEED_URL", replay.url())
        .env(
            "PATROLCHAT_METRICS_ADDR",
            format!("127.0.0.1:{metrics_port}"),
        )
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    if let Some(n) = ctx.opts.in_flight {
        cmd.env("PATROLCHAT_INGEST_IN_FLIGHT", n.to_string());
    }
    let mut ingest = ChildGuard::spawn("ingest", &mut cmd)?;
    let pid = ingest.pid();
    let died = |ingest: &mut ChildGuard| {
        ingest
            .try_wait()
            .map(|status| format!("ingest exited ({status}); log {}", log.display()))
    };
    wait_port(metrics_port, "ingest's metrics", Duration::from_secs(30)).await?;

    let js = jetstream::new(connect(&nats.url()).await?);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while rc_messages(&js).await.unwrap_or(0) == 0 {
        if let Some(msg) = died(&mut ingest) {
            return Err(msg.into());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "nothing in RC 30 s after ingest started; log {}",
                log.display()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let procs = [
        ("ingest", pid),
        ("nats-server", nats.pid()),
        ("replay-server", replay.pid()),
    ];
    let measured = ctx
        .measure(&procs, || {
            let js = js.clone();
            async move {
                let rc = rc_messages(&js).await?;
                let text = scrape(metrics_port).await;
                Ok(vec![
                    rc,
                    metric(&text, "patrolchat_ingest_events_received_total") as u64,
                    metric(&text, "patrolchat_ingest_events_published_total") as u64,
                ])
            }
        })
        .await?;
    let peak_kib = rss_peak_kib(pid);
    if let Some(msg) = died(&mut ingest) {
        return Err(msg.into());
    }
    ingest.terminate_timeout(Duration::from_secs(20));
    Ok(IngestRun { measured, peak_kib })
}

/// Measurement 2: the minimal publisher. Rates: acknowledgements, RC messages.
async fn ceiling(ctx: &Ctx, corpus: &Corpus) -> Result<Measured, Error> {
    let nats = NatsServer::start();
    let client = connect(&nats.url()).await?;
    // The context ingest builds, with the same flow control.
    let js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(10))
        .max_ack_inflight(CEILING_IN_FLIGHT * 2)
        .backpressure_on_inflight(true)
        .build(client);
    patrolchat_bus::setup::stream(&js, rc_stream().config()).await?;
    // Stream info on a connection of its own, so that it does not queue
    // behind the publishes.
    let monitor = jetstream::new(connect(&nats.url()).await?);

    let events: Arc<Vec<Event>> = Arc::new(
        corpus
            .events
            .iter()
            .map(|e| Event {
                subject: e.subject.clone(),
                id: e.id.clone(),
                payload: e.payload.clone(),
            })
            .collect(),
    );
    let acked = Arc::new(AtomicU64::new(0));
    let publisher = tokio::spawn(publish_forever(js, events, Arc::clone(&acked)));

    let procs = [
        (CEILING_PROC, std::process::id()),
        ("nats-server", nats.pid()),
    ];
    let measured = ctx
        .measure(&procs, || {
            let monitor = monitor.clone();
            let acked = Arc::clone(&acked);
            async move {
                let acks = acked.load(Ordering::Relaxed);
                Ok(vec![acks, rc_messages(&monitor).await?])
            }
        })
        .await;
    if publisher.is_finished() {
        return Err(match publisher.await {
            Ok(Err(e)) => format!("the ceiling publisher failed: {e}").into(),
            Ok(Ok(never)) => match never {},
            Err(e) => format!("the ceiling publisher panicked: {e}").into(),
        });
    }
    publisher.abort();
    measured
}

/// Publishes the corpus round after round, each event with a fresh
/// `Nats-Msg-Id`, keeping [`CEILING_IN_FLIGHT`] acknowledgements in flight
/// and taking them in order. Returns only on an error.
async fn publish_forever(
    js: jetstream::Context,
    events: Arc<Vec<Event>>,
    acked: Arc<AtomicU64>,
) -> Result<Infallible, Error> {
    let mut window: VecDeque<PublishAckFuture> = VecDeque::with_capacity(CEILING_IN_FLIGHT);
    let mut round: u64 = 0;
    loop {
        for event in events.iter() {
            if window.len() >= CEILING_IN_FLIGHT
                && let Some(ack) = window.pop_front()
            {
                ack.await?;
                acked.fetch_add(1, Ordering::Relaxed);
            }
            let msg = PublishMessage::build()
                .payload(event.payload.clone())
                .message_id(format!("{round}-{}", event.id));
            window.push_back(js.send_publish(event.subject.clone(), msg).await?);
        }
        round += 1;
    }
}

/// Measurement 3: `sse::open` + `FeedEvent::parse`, in this process.
/// Rates: parsed, read, feed errors.
async fn sse_and_parse(ctx: &Ctx) -> Result<Measured, Error> {
    let replay = Replay::start(ctx).await?;
    let settings = FeedSettings {
        url: replay.url(),
        user_agent: patrolchat_ingest::user_agent("patrolchat-bench"),
        read_timeout: Duration::from_secs(90),
    };
    let mut stream = sse::open(&settings, None)?;
    let counts: Arc<[AtomicU64; 3]> = Arc::new(Default::default());
    let reader = {
        let counts = Arc::clone(&counts);
        tokio::spawn(async move {
            let [parsed, read, errors] = &*counts;
            while let Some(item) = stream.next().await {
                match item {
                    FeedItem::Event { data, .. } => {
                        read.fetch_add(1, Ordering::Relaxed);
                        if FeedEvent::parse(data.as_bytes()).is_ok() {
                            parsed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    FeedItem::Error(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    FeedItem::Connected { .. } | FeedItem::Comment => {}
                }
            }
        })
    };
    let procs = [
        (PARSE_PROC, std::process::id()),
        ("replay-server", replay.pid()),
    ];
    let measured = ctx
        .measure(&procs, || {
            let counts = Arc::clone(&counts);
            async move { Ok(counts.iter().map(|c| c.load(Ordering::Relaxed)).collect()) }
        })
        .await;
    reader.abort();
    measured
}

/// Diagnostic: the replay server's bytes read off the socket, events
/// counted by their blank-line terminators, nothing parsed.
async fn replay_raw(ctx: &Ctx) -> Result<Measured, Error> {
    let replay = Replay::start(ctx).await?;
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", replay.port)).await?;
    socket
        .write_all(
            b"GET /v2/stream/recentchange HTTP/1.1\r\nHost: 127.0.0.1\r\n\
              Accept: text/event-stream\r\n\r\n",
        )
        .await?;
    let events = Arc::new(AtomicU64::new(0));
    let reader = {
        let events = Arc::clone(&events);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 256 * 1024];
            let mut last = 0u8;
            while let Ok(n) = socket.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let mut found = 0;
                for &b in &buf[..n] {
                    if b == b'\n' && last == b'\n' {
                        found += 1;
                    }
                    last = b;
                }
                events.fetch_add(found, Ordering::Relaxed);
            }
        })
    };
    let procs = [
        ("patrolchat-bench (drain)", std::process::id()),
        ("replay-server", replay.pid()),
    ];
    let measured = ctx
        .measure(&procs, || {
            let events = Arc::clone(&events);
            async move { Ok(vec![events.load(Ordering::Relaxed)]) }
        })
        .await;
    reader.abort();
    measured
}

/// What `sse_consumer.py` reported.
struct PythonRun {
    events_per_s: f64,
    events: u64,
    parsed: u64,
    seconds: f64,
    cpu_cores: f64,
    /// The replay server's CPU over (about) the same window.
    replay_cpu: String,
}

/// Measurement 4: `tests/bench/sse_consumer.py` under the venv's Python.
async fn python_consumer(ctx: &Ctx) -> Result<PythonRun, Error> {
    let python = ctx.python();
    if !python.is_file() {
        return Err(format!(
            "{} is missing: run deploy/install-deps.sh",
            python.display()
        )
        .into());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("sse_consumer.py");
    let replay = Replay::start(ctx).await?;
    let (out_path, out, _) = ctx.log("python-stdout")?;
    let (err_path, err, _) = ctx.log("python-stderr")?;
    let mut cmd = Command::new(&python);
    cmd.arg(&script)
        .arg("--url")
        .arg(replay.url())
        .arg("--warmup")
        .arg(ctx.opts.warmup.to_string())
        .arg("--seconds")
        .arg(ctx.opts.seconds.to_string())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    let mut child = ChildGuard::spawn("python", &mut cmd)?;
    // The replay server's CPU over roughly the script's window (the script
    // starts its warm-up once connected, a fraction of a second after spawn).
    let window = ctx
        .measure(&[("replay-server", replay.pid())], || async { Ok(vec![0]) })
        .await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait() {
            break status;
        }
        if tokio::time::Instant::now() >= deadline {
            child.kill();
            return Err(format!(
                "the Python consumer did not finish; log {}",
                err_path.display()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let text = std::fs::read_to_string(&out_path)?;
    if !status.success() {
        return Err(format!(
            "the Python consumer failed ({status}); log {}",
            err_path.display()
        )
        .into());
    }
    let v: serde_json::Value = serde_json::from_str(text.trim())
        .map_err(|e| format!("the Python consumer printed {text:?}: {e}"))?;
    let num = |k: &str| {
        v[k].as_f64()
            .ok_or_else(|| format!("the Python consumer's output lacks {k}: {text}"))
    };
    Ok(PythonRun {
        events_per_s: num("events_per_s")?,
        events: num("events")? as u64,
        parsed: num("parsed")? as u64,
        seconds: num("seconds")?,
        cpu_cores: num("cpu_seconds")? / num("seconds")?,
        replay_cpu: window.cpu_text(),
    })
}
