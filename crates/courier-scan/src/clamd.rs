//! Malware scanning with ClamAV's `clamd` over INSTREAM, fed with the plaintext chunks while
//! the upload streams (the protocol and connection come from `clamav-client`). The verdict is
//! read once the last chunk is sent; a scanner that is down, refuses the stream or does not
//! answer in time is an error, and the caller fails closed.

use std::io::Write as _;
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

/// One INSTREAM scan over a blocking connection, for the inspector thread: it sends each
/// archive entry's inflated bytes to clamd on their own, so that an entry clamd's own archive
/// parser cannot read is still scanned. (clamav-client's blocking API takes only whole buffers
/// or files; the framing is four lines.)
pub struct BlockingScan {
    conn: Box<dyn ReadWrite>,
}

trait ReadWrite: std::io::Read + std::io::Write {}
impl<T: std::io::Read + std::io::Write> ReadWrite for T {}

impl BlockingScan {
    pub fn start(addr: &ClamdAddr, timeout: Duration) -> Result<Self, Unavailable> {
        use std::io::Write;
        let fail = |e: std::io::Error| Unavailable(format!("{addr}: {e}"));
        let mut conn: Box<dyn ReadWrite> = match addr {
            ClamdAddr::Unix(path) => {
                let s = std::os::unix::net::UnixStream::connect(path).map_err(fail)?;
                s.set_read_timeout(Some(timeout)).map_err(fail)?;
                s.set_write_timeout(Some(timeout)).map_err(fail)?;
                Box::new(s)
            }
            ClamdAddr::Tcp(host) => {
                let s = std::net::TcpStream::connect(host).map_err(fail)?;
                s.set_read_timeout(Some(timeout)).map_err(fail)?;
                s.set_write_timeout(Some(timeout)).map_err(fail)?;
                Box::new(s)
            }
        };
        conn.write_all(b"zINSTREAM\0").map_err(fail)?;
        Ok(Self { conn })
    }

    pub fn send(&mut self, data: &[u8]) -> std::io::Result<()> {
        for chunk in data.chunks(CHUNK) {
            let len = u32::try_from(chunk.len()).map_err(std::io::Error::other)?;
            self.conn.write_all(&len.to_be_bytes())?;
            self.conn.write_all(chunk)?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<Verdict, Unavailable> {
        use std::io::Read;
        let mut response = Vec::new();
        self.conn
            .write_all(&[0, 0, 0, 0])
            .and_then(|()| self.conn.flush())
            .and_then(|()| self.conn.read_to_end(&mut response))
            .map_err(|e| Unavailable(format!("clamd: {e}")))?;
        parse(&response)
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
