//! Request bodies: the time a client has to send one, the size limit, and what happens to the
//! rest of a body over the limit.
//!
//! A server that answers 413 and closes while the client is still sending makes the client's
//! kernel receive a reset, which destroys the response before `fetch()` reads it: the browser
//! reports a network error instead of the 413. So the rest of an oversized body is read and
//! thrown away (up to [`DISCARD_LIMIT`], within the body's deadline) before the answer, and the
//! connection stays usable. A body declared larger than that, or one that stalls, is answered
//! at once with `Connection: close`.
//!
//! Every request body carries a deadline ([`DeadlineBody`], set when its headers arrived), so a
//! client that sends headers and then stalls cannot hold a handler; nothing here decides what
//! the deadline is (see [`super::connections`]).

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use axum::body::{Body, Bytes, HttpBody};
use futures_util::StreamExt;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// Bytes read and thrown away after the limit, so that the client gets its 413: more than
/// any mistaken upload from a browser (a 5 MiB file pasted into a variable), little enough
/// that reading it costs nothing the client did not already spend sending it.
pub(crate) const DISCARD_LIMIT: u64 = 16 * 1024 * 1024;

/// The error a request body yields once its deadline has passed.
#[derive(Debug)]
pub(crate) struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

/// A request body that fails with [`BodyTimedOut`] when it is not complete by its deadline:
/// the deadline bounds the whole body, not the gap between two chunks, so a client trickling a
/// byte a second is cut as surely as one that stops.
pub(crate) struct DeadlineBody<B> {
    inner: B,
    deadline: Instant,
    /// Created only when the body has to wait: most bodies arrive with their headers.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> DeadlineBody<B> {
    pub(crate) fn new(inner: B, deadline: Instant) -> Self {
        Self {
            inner,
            deadline,
            timer: None,
        }
    }
}

impl<B> HttpBody for DeadlineBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {
                let deadline = this.deadline;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut)))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Over the limit. `drained`: the rest was read and discarded, so the client will read the
    /// answer and the connection can serve another request; otherwise answer with
    /// `Connection: close`.
    TooLarge { drained: bool },
    /// The body's deadline passed (answer 408 and close).
    TimedOut,
    /// The client went away or sent a malformed body.
    Broken,
}

impl BodyError {
    fn from_error(e: &axum::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = source {
            if err.is::<BodyTimedOut>() {
                return Self::TimedOut;
            }
            source = err.source();
        }
        Self::Broken
    }

    /// Whether the connection must close after the answer (part of the body is unread).
    pub(crate) fn closes(self) -> bool {
        !matches!(self, Self::TooLarge { drained: true })
    }
}

/// The declared `Content-Length`, if any.
fn content_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(axum::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Reads a whole body of at most `limit` bytes. Over the limit, the rest is discarded as the
/// module doc explains, except when the client asked `Expect: 100-continue`: it has not sent the
/// body yet, and a 413 tells it not to.
pub(crate) async fn read_limited(
    headers: &axum::http::HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let waits_for_continue = headers
        .get(axum::http::header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    let declared = content_length(headers);
    let mut stream = body.into_data_stream();
    if declared.is_some_and(|n| n > limit as u64) {
        if waits_for_continue || declared.is_some_and(|n| n > limit as u64 + DISCARD_LIMIT) {
            return Err(BodyError::TooLarge { drained: false });
        }
        let drained = discard_stream(&mut stream, DISCARD_LIMIT + limit as u64).await;
        return Err(BodyError::TooLarge { drained });
    }
    let mut buf = Vec::with_capacity(declared.map_or(0, |n| usize::try_from(n).unwrap_or(0)));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| BodyError::from_error(&e))?;
        if buf.len() + chunk.len() > limit {
            let drained = discard_stream(&mut stream, DISCARD_LIMIT).await;
            return Err(BodyError::TooLarge { drained });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// Reads and drops a body that will not be used, up to `budget` bytes: `true` when it ended
/// (the client can read the answer), `false` when it was larger, failed or stalled.
pub(crate) async fn discard(body: Body, budget: u64) -> bool {
    discard_stream(&mut body.into_data_stream(), budget).await
}

async fn discard_stream(stream: &mut axum::body::BodyDataStream, budget: u64) -> bool {
    let mut seen = 0u64;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                seen += bytes.len() as u64;
                if seen > budget {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::{HeaderMap, HeaderValue, header};
    use futures_util::stream;

    use super::*;

    fn chunks(parts: Vec<&'static [u8]>) -> Body {
        Body::from_stream(stream::iter(
            parts
                .into_iter()
                .map(|p| Ok::<_, std::io::Error>(Bytes::from_static(p))),
        ))
    }

    #[tokio::test]
    async fn bodies_within_the_limit_are_read_and_larger_ones_drained() {
        let headers = HeaderMap::new();
        let body = chunks(vec![b"abc", b"def"]);
        assert_eq!(
            read_limited(&headers, body, 6).await.unwrap(),
            Bytes::from_static(b"abcdef")
        );
        let body = chunks(vec![b"abc", b"def", b"ghi"]);
        assert_eq!(
            read_limited(&headers, body, 6).await,
            Err(BodyError::TooLarge { drained: true })
        );
    }

    #[tokio::test]
    async fn a_declared_length_far_over_the_limit_or_awaiting_continue_is_refused_unread() {
        let mut headers = HeaderMap::new();
        let huge = (DISCARD_LIMIT + 100).to_string();
        headers.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from_str(&huge).unwrap(),
        );
        // The body would never end: it must not be read at all.
        let never = Body::from_stream(stream::pending::<Result<Bytes, std::io::Error>>());
        assert_eq!(
            read_limited(&headers, never, 10).await,
            Err(BodyError::TooLarge { drained: false })
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("50"));
        headers.insert(header::EXPECT, HeaderValue::from_static("100-continue"));
        let never = Body::from_stream(stream::pending::<Result<Bytes, std::io::Error>>());
        assert_eq!(
            read_limited(&headers, never, 10).await,
            Err(BodyError::TooLarge { drained: false })
        );
    }

    #[tokio::test]
    async fn a_stalled_body_times_out_at_its_deadline() {
        let stalled = stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"{"))])
            .chain(stream::pending());
        let wait = Duration::from_millis(50);
        let started = Instant::now();
        let body = Body::new(DeadlineBody::new(
            Body::from_stream(stalled),
            started + wait,
        ));
        assert_eq!(
            read_limited(&HeaderMap::new(), body, 100).await,
            Err(BodyError::TimedOut)
        );
        assert!(started.elapsed() >= wait && started.elapsed() < wait * 20);
        assert!(BodyError::TimedOut.closes() && !BodyError::TooLarge { drained: true }.closes());
    }
}
