//! The accept loop of `serve`, for HTTP and HTTPS alike, with the bounds that `axum::serve`
//! lacks (review finding 4c): a cap on open connections (in all and per client address), a
//! deadline for a request's headers (also while a kept-alive connection idles), a deadline for
//! the TLS handshake, and an end to connections whose response writes make no progress (a
//! client that stops reading would otherwise hold its response, and its memory, for ever).

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum_server::tls_rustls::RustlsConfig;
use courier_server::services::inflight::{InFlight, address_key};
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::time::Sleep;
use tower::ServiceExt;

pub struct Limits {
    pub max_connections: usize,
    /// Per client address; addresses of trusted proxies are not capped.
    pub per_address: usize,
    pub trusted: Vec<IpAddr>,
    pub header_read_timeout: Duration,
    pub write_stall: Duration,
}

/// hyper's read buffer: the most read from a connection at once, so also the longest request
/// head, give or take one read (a longer one is answered 431).
const READ_BUFFER: usize = 64 * 1024;
/// How long the TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open requests may finish once shutdown began.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `app` until `shutdown` completes, then lets open requests finish (at most 30 s).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<RustlsConfig>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let limits = Arc::new(limits);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Arc::new(InFlight::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    // HTTP/1.1 only, as the TLS configuration offers by ALPN, with hyper's own HTTP/1 server:
    // hyper-util's version-sniffing builder waited without a deadline for the 24 bytes of an
    // HTTP/2 preface, so a client that sent just "P" held its connection for ever (second
    // review). Here the header deadline runs from the connection's first read.
    let mut builder = Builder::new();
    // hyper's read buffer bounds a request head and every body read. Its default ceiling
    // (about 400 KiB) cost each upload that much more memory, and chunks that large reached
    // the pipeline; 64 KiB reads upload as fast (docs/performance.md, "Memory per file type").
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).max_buf_size(READ_BUFFER);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!("connection refused: max_connections reached");
            continue; // dropping the stream closes it
        };
        let address_slot = if limits.trusted.contains(&peer.ip()) {
            None
        } else {
            match per_address.try_take(&[(address_key(peer.ip()), limits.per_address)]) {
                Some(slot) => Some(slot),
                None => {
                    tracing::warn!("connection refused: too many from one address (client addresses are never logged)");
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        let builder = builder.clone();
        let stop = stop_rx.clone();
        let write_stall = limits.write_stall;
        let header_read_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            let _held = (permit, address_slot);
            let io = StallGuard::new(stream, write_stall, header_read_timeout);
            match tls {
                None => serve_connection(&builder, io, app, peer, stop).await,
                Some(tls) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(tls.get_inner());
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(io)).await {
                        Ok(Ok(io)) => serve_connection(&builder, io, app, peer, stop).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection task holds a permit: all of them back means all connections ended.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN_TIMEOUT, connections.acquire_many(all)).await.is_err() {
        tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; ending them");
    }
    Ok(())
}

async fn serve_connection<I>(builder: &Builder, io: I, app: Router, peer: SocketAddr, mut stop: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(req)
    });
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    // The flag's read guard stays inside this future, off the connection task's await points.
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        () = stopped => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// A stream whose writes fail with `TimedOut` once they have made no progress for `stall`,
/// and whose first read fails the same way if no byte came within `first_byte`: hyper's
/// header deadline starts only with a request, so a connection that never sends one would
/// otherwise be kept for ever.
struct StallGuard<S> {
    inner: S,
    stall: Duration,
    stalled_since: Option<Pin<Box<Sleep>>>,
    /// Until the first byte arrives.
    first_byte: Option<Pin<Box<Sleep>>>,
}

impl<S> StallGuard<S> {
    fn new(inner: S, stall: Duration, first_byte: Duration) -> Self {
        Self { inner, stall, stalled_since: None, first_byte: Some(Box::pin(tokio::time::sleep(first_byte))) }
    }

    /// Passes a write's result through, timing how long it has been pending.
    fn watch<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.stalled_since = None;
            return poll;
        }
        let stall = self.stall;
        let timer = self.stalled_since.get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading")))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for StallGuard<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        match (&poll, self.first_byte.as_mut()) {
            (Poll::Ready(Ok(())), Some(_)) if buf.filled().len() > before => self.first_byte = None,
            (Poll::Pending, Some(deadline)) => {
                ready!(deadline.as_mut().poll(cx));
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "no request arrived")));
            }
            _ => {}
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for StallGuard<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
