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

use std::collections::HashMap;
use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// How the listener treats connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A connection waiting longer than this for a request head is closed; zero: never.
    pub header_timeout: Duration,
    /// After the stop signal, open requests get this long before their connections are cut.
    pub shutdown_timeout: Duration,
    /// At most this many open connections; when full, the longest-idle one is closed to
    /// make room, and with none idle the newcomer is turned away. Zero: no cap.
    pub max_connections: usize,
}

impl ConnectionLimits {
    pub fn from_config(config: &crate::config::Config) -> Self {
        ConnectionLimits {
            header_timeout: config.header_timeout,
            shutdown_timeout: config.shutdown_timeout,
            max_connections: config.max_connections,
        }
    }
}

/// The open connections, so that a full server can close the one idle for longest.
#[derive(Default)]
struct Connections {
    open: Mutex<HashMap<u64, Arc<Activity>>>,
    next_id: AtomicU64,
}

impl Connections {
    fn add(&self, activity: Arc<Activity>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        crate::state::lock(&self.open).insert(id, activity);
        id
    }

    fn remove(&self, id: u64) {
        crate::state::lock(&self.open).remove(&id);
    }

    /// Makes room for one more connection under `max` (zero: no cap), closing the idlest
    /// connection if need be. False when the server is full and every connection busy.
    fn make_room(&self, max: usize) -> bool {
        max == 0 || crate::state::lock(&self.open).len() < max || self.close_idlest()
    }

    /// Closes the connection that has waited longest for its next request; false when
    /// every connection is busy with one.
    fn close_idlest(&self) -> bool {
        let open = crate::state::lock(&self.open);
        let idlest = open
            .values()
            .filter(|a| {
                a.awaiting_head.load(Ordering::Acquire) && !a.closing.load(Ordering::Acquire)
            })
            .min_by_key(|a| a.since.load(Ordering::Relaxed));
        match idlest {
            Some(activity) => {
                activity.close();
                true
            }
            None => false,
        }
    }
}

/// A warning that would repeat in a tight loop (accept failing for want of file
/// descriptors) is logged at most once a second, with the count of those held back.
struct RateLimitedWarning {
    last: Mutex<Option<Instant>>,
    held_back: AtomicU64,
}

impl RateLimitedWarning {
    fn new() -> Self {
        RateLimitedWarning {
            last: Mutex::new(None),
            held_back: AtomicU64::new(0),
        }
    }

    fn warn(&self, message: std::fmt::Arguments) {
        let mut last = crate::state::lock(&self.last);
        if last.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
            self.held_back.fetch_add(1, Ordering::Relaxed);
            return;
        }
        *last = Some(Instant::now());
        let held_back = self.held_back.swap(0, Ordering::Relaxed);
        if held_back > 0 {
            tracing::warn!("{message} ({held_back} more like it in the last second)");
        } else {
            tracing::warn!("{message}");
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish
/// for up to `shutdown_timeout` and cuts the connections still open after that.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let (cut, cut_signal) = tokio::sync::watch::channel(false);
    let connections = Arc::new(Connections::default());
    let accept_failed = RateLimitedWarning::new();
    let turned_away = RateLimitedWarning::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning,
                        // and free a descriptor held by an idle connection.
                        accept_failed.warn(format_args!("accept failed: {e}"));
                        connections.close_idlest();
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if !connections.make_room(limits.max_connections) {
                    turned_away.warn(format_args!(
                        "{} connections are open and all are busy; a new one was closed",
                        limits.max_connections
                    ));
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let activity = Arc::new(Activity::new());
                let id = connections.add(activity.clone());
                let service = TowerToHyperService::new(app.clone());
                let head_arrived = activity.clone();
                let service = hyper::service::service_fn(move |request| {
                    head_arrived.serving();
                    hyper::service::Service::call(&service, request)
                });
                let watched = Watched {
                    stream,
                    activity: activity.clone(),
                    first_read_seen: false,
                };
                let connection = hyper::server::conn::http1::Builder::new()
                    // A client that half-closes after its request still gets the answer.
                    .half_close(true)
                    .serve_connection(TokioIo::new(watched), service);
                let connection = graceful.watch(connection);
                let mut cut_signal = cut_signal.clone();
                let connections = connections.clone();
                let header_timeout = limits.header_timeout;
                tokio::spawn(async move {
                    // A client that vanishes or times out ends only its own connection;
                    // dropping the connection closes its socket.
                    tokio::select! {
                        _ = connection => {}
                        _ = activity.expired(header_timeout) => {}
                        _ = activity.closed.notified() => {}
                        _ = cut_signal.wait_for(|cut| *cut) => {}
                    }
                    connections.remove(id);
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let drained = if limits.shutdown_timeout.is_zero() {
        graceful.shutdown().await;
        true
    } else {
        tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown())
            .await
            .is_ok()
    };
    if !drained {
        let open = crate::state::lock(&connections.open).len();
        tracing::warn!(
            "{open} connections still open {:?} after the stop signal; closing them",
            limits.shutdown_timeout
        );
        let _ = cut.send(true);
    }
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
    /// Set, and `closed` notified, when the connection is chosen to make room.
    closing: AtomicBool,
    closed: tokio::sync::Notify,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            awaiting_head: AtomicBool::new(true),
            since: AtomicU64::new(clock()),
            closing: AtomicBool::new(false),
            closed: tokio::sync::Notify::new(),
        }
    }

    fn close(&self) {
        self.closing.store(true, Ordering::Release);
        // A stored permit: the connection's task sees it even if it is not waiting yet.
        self.closed.notify_one();
    }

    fn await_head(&self) {
        self.since.store(clock(), Ordering::Relaxed);
        self.awaiting_head.store(true, Ordering::Release);
    }

    fn serving(&self) {
        self.awaiting_head.store(false, Ordering::Release);
    }

    /// Resolves once the connection has waited `timeout` for one request head; never
    /// when `timeout` is zero.
    async fn expired(&self, timeout: Duration) {
        if timeout.is_zero() {
            return std::future::pending().await;
        }
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
    /// Whether the connection's first bytes were looked at (for a TLS handshake).
    first_read_seen: bool,
}

/// Says once per process, when a client opens TLS on this plain-HTTP port (an `https://`
/// endpoint), what the client itself only reports as a handshake failure.
fn notice_tls(first: &[u8]) {
    static SAID: AtomicBool = AtomicBool::new(false);
    // A TLS record of type handshake (22), protocol version 3.x.
    if first.len() >= 2
        && first[0] == 0x16
        && first[1] == 0x03
        && !SAID.swap(true, Ordering::Relaxed)
    {
        tracing::warn!(
            "a client opened a TLS (https://) connection; this server speaks plain HTTP: use an http:// endpoint"
        );
    }
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
        let before = buf.filled().len();
        let read = Pin::new(&mut self.stream).poll_read(cx, buf);
        if !self.first_read_seen && buf.filled().len() > before {
            self.first_read_seen = true;
            notice_tls(&buf.filled()[before..]);
        }
        read
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
