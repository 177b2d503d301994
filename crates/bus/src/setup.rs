//! Creating streams, buckets and consumers, every replica at every start,
//! riding out the timeouts a cluster gives when replicas ask at once.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, stream};

/// How many times a JetStream setup request (a stream, a bucket, a
/// consumer) is sent while it times out.
const SETUP_ATTEMPTS: u32 = 6;

/// Why a stream, bucket or consumer cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A stream could not be created or updated.
    #[error("stream {name}: {source}")]
    Stream {
        /// The stream.
        name: String,
        /// Why.
        #[source]
        source: jetstream::context::CreateStreamError,
    },
    /// A key-value bucket could not be created or updated.
    #[error("bucket {name}: {source}")]
    Bucket {
        /// The bucket.
        name: String,
        /// Why.
        #[source]
        source: jetstream::context::CreateKeyValueError,
    },
    /// A consumer could not be created.
    #[error("consumer {name}: {source}")]
    Consumer {
        /// The consumer.
        name: String,
        /// Why.
        #[source]
        source: jetstream::stream::ConsumerError,
    },
}

/// Runs a JetStream setup request, sending it again while it times out: in
/// a cluster, replicas that create the same stream at the same moment can
/// be left without an answer although the stream was made, and asking
/// again finds it.
///
/// # Errors
/// The last error, once it is not a timeout or the attempts are spent.
pub async fn retry<T, E, Fut>(
    what: &str,
    timed_out: impl Fn(&E) -> bool,
    mut request: impl FnMut() -> Fut,
) -> Result<T, E>
where
    Fut: std::future::Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let mut pause = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match request().await {
            Err(error) if attempt < SETUP_ATTEMPTS && timed_out(&error) => {
                tracing::warn!(%error, what, attempt, "JetStream setup timed out; asking again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn stream_timed_out(e: &jetstream::context::CreateStreamError) -> bool {
    e.kind() == jetstream::context::CreateStreamErrorKind::TimedOut
}

/// Creates a stream, or updates it to `config`: for the stream's owner.
///
/// # Errors
/// [`SetupError::Stream`] when JetStream refuses.
pub async fn stream(
    js: &jetstream::Context,
    config: stream::Config,
) -> Result<stream::Info, SetupError> {
    let name = config.name.clone();
    retry(&name, stream_timed_out, || {
        js.create_or_update_stream(config.clone())
    })
    .await
    .map_err(|source| SetupError::Stream { name, source })
}

/// Creates a stream with `config` when it is missing, leaving an existing
/// one as it is: for services that write to a stream another owns.
///
/// # Errors
/// [`SetupError::Stream`] when JetStream refuses.
pub async fn stream_if_missing(
    js: &jetstream::Context,
    config: stream::Config,
) -> Result<jetstream::stream::Stream, SetupError> {
    let name = config.name.clone();
    retry(&name, stream_timed_out, || {
        js.get_or_create_stream(config.clone())
    })
    .await
    .map_err(|source| SetupError::Stream { name, source })
}

/// Creates a key-value bucket, or updates it to `config`.
///
/// # Errors
/// [`SetupError::Bucket`] when JetStream refuses.
pub async fn bucket(js: &jetstream::Context, config: kv::Config) -> Result<kv::Store, SetupError> {
    let name = config.bucket.clone();
    retry(
        &name,
        // A timed-out stream request inside the bucket's creation comes
        // back as a `JetStream` error that only its text tells apart.
        |e: &jetstream::context::CreateKeyValueError| {
            e.kind() == jetstream::context::CreateKeyValueErrorKind::TimedOut
                || e.to_string().contains("timed out")
        },
        || js.create_or_update_key_value(config.clone()),
    )
    .await
    .map_err(|source| SetupError::Bucket { name, source })
}

/// Gets the durable pull consumer `name` of `stream`, creating it with
/// `config` when missing.
///
/// # Errors
/// [`SetupError::Consumer`] when JetStream refuses.
pub async fn pull_consumer(
    stream: &jetstream::stream::Stream,
    name: &str,
    config: consumer::pull::Config,
) -> Result<consumer::PullConsumer, SetupError> {
    retry(
        name,
        |e: &jetstream::stream::ConsumerError| {
            e.kind() == jetstream::stream::ConsumerErrorKind::TimedOut
        },
        || stream.get_or_create_consumer(name, config.clone()),
    )
    .await
    .map_err(|source| SetupError::Consumer {
        name: name.to_owned(),
        source,
    })
}
