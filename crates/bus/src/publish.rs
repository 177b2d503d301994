//! Publishing to JetStream with a `Nats-Msg-Id`: the stream drops a
//! message whose id it has seen within its duplicate window, so a publish
//! can be sent again until it is acknowledged without landing twice.

use std::future::IntoFuture;
use std::time::Duration;

use async_nats::jetstream::context::{PublishAckFuture, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, publish::PublishAck};
use bytes::Bytes;
use tokio::time::Instant;

/// The first pause before a failed publish is sent again; it doubles up to
/// [`RETRY_MAX`].
pub const RETRY_FIRST: Duration = Duration::from_millis(50);

/// The longest pause between two attempts of [`publish`].
pub const RETRY_MAX: Duration = Duration::from_secs(1);

/// Why a publish was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The message is larger than the server's `max_payload`: no retry
    /// can help.
    #[error("nats: {0}")]
    TooLarge(String),
    /// Sending or acknowledging failed (the last reason, for [`publish`]).
    #[error("nats: {0}")]
    Failed(String),
    /// No acknowledgement before the deadline.
    #[error("nats: no acknowledgement in time")]
    TimedOut,
}

impl From<jetstream::context::PublishError> for PublishError {
    fn from(e: jetstream::context::PublishError) -> Self {
        if e.kind() == PublishErrorKind::MaxPayloadExceeded {
            Self::TooLarge(e.to_string())
        } else {
            Self::Failed(e.to_string())
        }
    }
}

/// Sends `payload` on `subject` with `msg_id` as its `Nats-Msg-Id`; the
/// acknowledgement is awaited through the returned future.
///
/// # Errors
/// [`PublishError::TooLarge`] or [`PublishError::Failed`] when it cannot
/// be sent.
pub async fn send(
    js: &jetstream::Context,
    subject: String,
    msg_id: &str,
    payload: Bytes,
) -> Result<PublishAckFuture, PublishError> {
    let message = PublishMessage::build().payload(payload).message_id(msg_id);
    Ok(js.send_publish(subject, message).await?)
}

/// Sends once and waits for the acknowledgement until `deadline`.
///
/// # Errors
/// [`PublishError`] when it is not acknowledged in time.
pub async fn send_and_ack(
    js: &jetstream::Context,
    subject: String,
    msg_id: &str,
    payload: Bytes,
    deadline: Instant,
) -> Result<PublishAck, PublishError> {
    let attempt = async {
        let ack = send(js, subject, msg_id, payload).await?;
        Ok(ack.into_future().await?)
    };
    tokio::time::timeout_at(deadline, attempt)
        .await
        .map_err(|_| PublishError::TimedOut)?
}

/// Publishes and waits for the acknowledgement, sending the message again
/// (same `msg_id`) while it fails, until `within` has passed: long enough
/// to ride out a stream leader election in a NATS cluster, a lost
/// acknowledgement or a connection moving to another node.
///
/// # Errors
/// [`PublishError::TooLarge`] at once; [`PublishError::TimedOut`] or the
/// last [`PublishError::Failed`] when no acknowledgement came in time.
pub async fn publish(
    js: &jetstream::Context,
    subject: String,
    msg_id: &str,
    payload: Bytes,
    within: Duration,
) -> Result<PublishAck, PublishError> {
    let deadline = Instant::now() + within;
    let mut pause = RETRY_FIRST;
    loop {
        let error = match send_and_ack(js, subject.clone(), msg_id, payload.clone(), deadline).await
        {
            Ok(ack) => return Ok(ack),
            Err(e @ (PublishError::TooLarge(_) | PublishError::TimedOut)) => return Err(e),
            Err(e) => e,
        };
        if Instant::now() + pause >= deadline {
            return Err(error);
        }
        tracing::debug!(%error, %subject, "publish not acknowledged; sending it again");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RETRY_MAX);
    }
}
