//! Accepting connections: HTTP/1.1 with keep-alive, a deadline for request heads so slow
//! or half-open clients cannot hold the server, and a graceful stop that lets in-flight
//! requests finish.
//!
//! The head deadline is kept by one watchdog per connection rather than by hyper's
//! per-request header timer: arming and cancelling a timer for every request cost about
//! a tenth of the server's throughput. The connection notes when it starts waiting for a
//! head (accepted, or an answer written) and when a head has arrived (the service is
//! called); the watchdog sleeps until the deadline of the current wait and closes the
//! connection if it is still waiting then.

use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Serves `app` on `listener` until `shutdown` resolves, then waits for open requests.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let activity = Arc::new(Activity::new());
                let service = TowerToHyperService::new(app.clone());
                let head_arrived = activity.clone();
                let service = hyper::service::service_fn(move |request| {
                    head_arrived.serving();
                    hyper::service::Service::call(&service, request)
                });
                let watched = Watched { stream, activity: activity.clone() };
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(watched), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    // A client that vanishes or times out ends only its own connection;
                    // dropping the connection closes its socket. Zero means no deadline.
                    if header_timeout.is_zero() {
                        let _ = connection.await;
                        return;
                    }
                    tokio::select! {
                        _ = connection => {}
                        _ = activity.expired(header_timeout) => {}
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Nanoseconds on a process-wide monotonic clock.
fn clock() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Whether a connection is waiting for a request head, and since when.
struct Activity {
    awaiting_head: AtomicBool,
    since: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            awaiting_head: AtomicBool::new(true),
            since: AtomicU64::new(clock()),
        }
    }

    fn await_head(&self) {
        self.since.store(clock(), Ordering::Relaxed);
        self.awaiting_head.store(true, Ordering::Release);
    }

    fn serving(&self) {
        self.awaiting_head.store(false, Ordering::Release);
    }

    /// Resolves once the connection has waited `timeout` for one request head.
    async fn expired(&self, timeout: Duration) {
        let limit = timeout.as_nanos() as u64;
        loop {
            let waited = clock().saturating_sub(self.since.load(Ordering::Relaxed));
            if !self.awaiting_head.load(Ordering::Acquire) {
                // A request is being served (its body has a deadline of its own).
                tokio::time::sleep(timeout).await;
            } else if waited >= limit {
                return;
            } else {
                tokio::time::sleep(Duration::from_nanos(limit - waited)).await;
            }
        }
    }
}

/// The connection's socket, noting each answer written: after it, the next head is due.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl Watched {
    fn wrote(&self, written: &Poll<std::io::Result<usize>>) {
        if matches!(written, Poll::Ready(Ok(n)) if *n > 0) {
            self.activity.await_head();
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.wrote(&written);
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.wrote(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
