//! The big control answers (`/_state`, `/_ui`, `/_requests`) as bodies written a piece
//! at a time, as the client reads them: a reader that stops reading holds a chunk or
//! two, not the answer, and a piece is taken (under a shared lock, briefly) only when
//! the one before has been handed on. At most `MAX_IN_FLIGHT` are answered at once; another
//! waits a little for its turn and is otherwise told to come back. A reader that takes
//! nothing for `STALL` loses its turn, and its answer ends in an error, not cut short
//! as if whole.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

/// Big answers being written at once; each holds at most one chunk.
pub const MAX_IN_FLIGHT: usize = 8;
/// How long a request waits for a turn before it is refused.
const WAIT: Duration = Duration::from_secs(2);
/// Pieces are gathered into chunks of about this size before they are sent.
const CHUNK: usize = 64 * 1024;
/// How long a reader may take no chunk before its turn goes to another.
pub const STALL: Duration = Duration::from_secs(10);

/// The turns for big answers.
#[derive(Clone)]
pub struct Turns(Arc<Semaphore>);

impl Default for Turns {
    fn default() -> Self {
        Turns(Arc::new(Semaphore::new(MAX_IN_FLIGHT)))
    }
}

impl Turns {
    /// A turn, once one is free within `WAIT`; none if none frees up.
    pub async fn take(&self) -> Option<OwnedSemaphorePermit> {
        tokio::time::timeout(WAIT, self.0.clone().acquire_owned())
            .await
            .ok()?
            .ok()
    }
}

/// A body drawn from `pieces`. The pieces are made on a blocking thread, a chunk ahead
/// of the client at most: making them takes a while, and on the runtime's own threads it
/// would keep the API's requests (and the sockets' events) waiting.
pub struct Pieces {
    chunks: mpsc::Receiver<Bytes>,
    /// Set once every chunk was handed on; the chunks ending without it means the
    /// reader stalled and the answer is not whole.
    whole: Arc<AtomicBool>,
    done: bool,
}

impl Pieces {
    /// Starts making the chunks; the maker keeps `turn` until it is done or the body is
    /// dropped (the client went away).
    pub fn new(
        pieces: impl Iterator<Item = Vec<u8>> + Send + 'static,
        turn: OwnedSemaphorePermit,
    ) -> Self {
        let (sender, chunks) = mpsc::channel(1);
        let whole = Arc::new(AtomicBool::new(false));
        let made_whole = whole.clone();
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            for chunk in gathered(pieces) {
                match runtime.block_on(tokio::time::timeout(STALL, sender.send(chunk))) {
                    Ok(Ok(())) => {}
                    // The client went away.
                    Ok(Err(_)) => return,
                    Err(_) => {
                        tracing::warn!(
                            "a reader of a large control answer took nothing for {} s: \
                             its turn is given up and its answer ends in an error",
                            STALL.as_secs()
                        );
                        return;
                    }
                }
            }
            made_whole.store(true, Ordering::Release);
        });
        Pieces {
            chunks,
            whole,
            done: false,
        }
    }
}

/// The pieces gathered into chunks of at least `CHUNK` bytes (but the last).
fn gathered(mut pieces: impl Iterator<Item = Vec<u8>>) -> impl Iterator<Item = Bytes> {
    std::iter::from_fn(move || {
        let mut chunk = pieces.next()?;
        while chunk.len() < CHUNK {
            match pieces.next() {
                Some(piece) => chunk.extend_from_slice(&piece),
                None => break,
            }
        }
        Some(chunk.into())
    })
}

/// Why an answer ends before it is whole: its reader stalled.
#[derive(Debug, thiserror::Error)]
#[error("the reader took nothing for {} s; the answer was given up", STALL.as_secs())]
pub struct Stalled;

impl Body for Pieces {
    type Data = Bytes;
    type Error = Stalled;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match this.chunks.poll_recv(cx) {
            Poll::Ready(Some(chunk)) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
            Poll::Ready(None) => {
                this.done = true;
                if this.whole.load(Ordering::Acquire) {
                    Poll::Ready(None)
                } else {
                    // An error, not an end: the client must not take a part for the whole.
                    Poll::Ready(Some(Err(Stalled)))
                }
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}
