//! Malware scanning with ClamAV's `clamd` over INSTREAM, fed with the plaintext chunks while
//! the upload streams (the protocol and connection come from `clamav-client`). The verdict is
//! read once the last chunk is sent; a scanner that is down, refuses the stream or does not
//! answer in time is an error, and the caller fails closed.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Where clamd listens: `unix:/run/clamav/clamd.ctl` or `127.0.0.1:3310`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddr {
    Unix(PathBuf),
    Tcp(String),
}

impl std::str::FromStr for ClamdAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("clamd_addr: unix: needs a socket path".into());
            }
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        match s.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(Self::Tcp(s.to_owned())),
            _ => Err(format!("clamd_addr {s:?}: expected unix:/path/to/clamd.sock or host:port")),
        }
    }
}

impl std::fmt::Display for ClamdAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unix(p) => write!(f, "unix:{}", p.display()),
            Self::Tcp(a) => f.write_str(a),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    Infected(String),
}

#[derive(Debug, thiserror::Error)]
#[error("malware scanner unavailable: {0}")]
pub struct Unavailable(pub String);

/// One INSTREAM scan in progress.
pub struct Scan {
    tx: Option<mpsc::Sender<Bytes>>,
    task: JoinHandle<Result<Verdict, Unavailable>>,
}

/// Chunks queued for clamd before the upload waits for it.
const QUEUE: usize = 4;
/// Largest INSTREAM chunk: a whole pipeline batch goes out as one (the client's default of
/// 4 KiB costs two writes per 4 KiB).
const CHUNK: usize = 1 << 20;

impl Scan {
    /// Connects and starts streaming; chunks follow through [`Scan::feed`].
    pub fn start(addr: &ClamdAddr) -> Self {
        let (tx, rx) = mpsc::channel::<Bytes>(QUEUE);
        let addr = addr.clone();
        let task = tokio::spawn(async move {
            let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
            });
            let response = match &addr {
                ClamdAddr::Unix(path) => {
                    clamav_client::tokio::scan_stream(
                        chunks,
                        clamav_client::tokio::Socket { socket_path: path },
                        Some(CHUNK),
                    )
                    .await
                }
                ClamdAddr::Tcp(host) => {
                    clamav_client::tokio::scan_stream(
                        chunks,
                        clamav_client::tokio::Tcp { host_address: host.as_str() },
                        Some(CHUNK),
                    )
                    .await
                }
            }
            .map_err(|e| Unavailable(format!("{addr}: {e}")))?;
            parse(&response)
        });
        Self { tx: Some(tx), task }
    }

    /// Sends one chunk. An error means the scan already ended (clamd went away or refused the
    /// stream); [`Scan::finish`] then says why.
    pub async fn feed(&mut self, chunk: Bytes) -> Result<(), ()> {
        match &self.tx {
            Some(tx) => tx.send(chunk).await.map_err(|_| ()),
            None => Err(()),
        }
    }

    /// Ends the stream and waits up to `timeout` for the verdict.
    pub async fn finish(mut self, timeout: Duration) -> Result<Verdict, Unavailable> {
        self.tx = None;
        match tokio::time::timeout(timeout, &mut self.task).await {
            Ok(Ok(verdict)) => verdict,
            Ok(Err(join)) => Err(Unavailable(format!("scan task: {join}"))),
            Err(_) => {
                self.task.abort();
                Err(Unavailable(format!("no verdict within {} s", timeout.as_secs())))
            }
        }
    }
}

impl Drop for Scan {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `stream: OK`, `stream: <signature> FOUND`, or an error line such as
/// `INSTREAM size limit exceeded. ERROR`.
fn parse(response: &[u8]) -> Result<Verdict, Unavailable> {
    let text = String::from_utf8_lossy(response);
    let text = text.trim_end_matches(['\0', '\n', '\r', ' ']);
    let body = text.strip_prefix("stream:").map(str::trim).unwrap_or(text);
    if body == "OK" {
        return Ok(Verdict::Clean);
    }
    if let Some(signature) = body.strip_suffix(" FOUND") {
        return Ok(Verdict::Infected(signature.trim().to_owned()));
    }
    Err(Unavailable(format!("clamd answered {body:?}")))
}

/// Whether clamd answers PING, within `timeout`.
pub async fn ping(addr: &ClamdAddr, timeout: Duration) -> Result<(), Unavailable> {
    let answer = tokio::time::timeout(timeout, async {
        match addr {
            ClamdAddr::Unix(path) => {
                clamav_client::tokio::ping(clamav_client::tokio::Socket { socket_path: path }).await
            }
            ClamdAddr::Tcp(host) => {
                clamav_client::tokio::ping(clamav_client::tokio::Tcp { host_address: host.as_str() }).await
            }
        }
    })
    .await
    .map_err(|_| Unavailable(format!("{addr}: no answer within {} s", timeout.as_secs())))?
    .map_err(|e| Unavailable(format!("{addr}: {e}")))?;
    if answer == clamav_client::PONG { Ok(()) } else { Err(Unavailable(format!("{addr}: unexpected answer to PING"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_answers() {
        assert_eq!(parse(b"stream: OK\0").ok(), Some(Verdict::Clean));
        assert_eq!(
            parse(b"stream: Eicar-Test-Signature FOUND\0").ok(),
            Some(Verdict::Infected("Eicar-Test-Signature".into()))
        );
        assert!(parse(b"INSTREAM size limit exceeded. ERROR\0").is_err());
        assert!(parse(b"").is_err());
    }

    #[test]
    fn parses_addresses() {
        assert_eq!("unix:/run/clamd.sock".parse(), Ok(ClamdAddr::Unix("/run/clamd.sock".into())));
        assert_eq!("127.0.0.1:3310".parse(), Ok(ClamdAddr::Tcp("127.0.0.1:3310".into())));
        assert!("localhost".parse::<ClamdAddr>().is_err());
        assert!("unix:".parse::<ClamdAddr>().is_err());
    }
}
