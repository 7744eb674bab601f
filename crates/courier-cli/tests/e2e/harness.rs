//! Starting the server, running the CLI, building uploads.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_courier");
/// A password that passes the staff password policy.
pub const PASSWORD: &str = "violet tractor harbour 42";

/// A temporary installation: data directory, optional config file, and a running server.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub server: Option<Server>,
    pub config: Option<PathBuf>,
    /// A database of its own on the test PostgreSQL server, when `COURIER_TEST_POSTGRES_URL`
    /// names one; otherwise the SQLite default in the data directory.
    pub postgres: Option<TestDatabase>,
    /// Blobs in the test bucket under a prefix of their own, when `COURIER_TEST_S3_ENDPOINT`
    /// names an S3 server; otherwise the local blob directory.
    pub s3: Option<courier_store::blob::S3Settings>,
}

fn test_s3_settings() -> Option<courier_store::blob::S3Settings> {
    let endpoint = std::env::var("COURIER_TEST_S3_ENDPOINT").ok().filter(|e| !e.is_empty())?;
    let var = |n: &str| {
        std::env::var(format!("COURIER_TEST_S3_{n}")).unwrap_or_else(|_| panic!("COURIER_TEST_S3_{n} missing"))
    };
    Some(courier_store::blob::S3Settings {
        bucket: var("BUCKET"),
        prefix: format!("e2e-{}", hex(&noise(8, std::process::id() as u64 ^ nanos()))),
        endpoint: Some(endpoint),
        region: std::env::var("COURIER_TEST_S3_REGION").unwrap_or_else(|_| "garage".into()),
        access_key_id: var("ACCESS_KEY_ID"),
        secret_access_key: var("SECRET_ACCESS_KEY"),
        stale_upload_after: Duration::from_secs(24 * 3600),
        timeout: Duration::from_secs(30),
    })
}

/// A fresh PostgreSQL database, dropped again with the test.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TestDatabase {
    fn create() -> Option<Self> {
        let admin_url = std::env::var("COURIER_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())?;
        Some(Self::create_on(admin_url))
    }

    /// A fresh database on the PostgreSQL server that `admin_url` reaches.
    pub fn create_on(admin_url: String) -> Self {
        let name = format!("courier_test_{}", hex(&noise(8, std::process::id() as u64 ^ nanos())));
        psql(&admin_url, &format!("CREATE DATABASE {name}"));
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        Self { admin_url, name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        psql(&self.admin_url, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

fn psql(url: &str, sql: &str) {
    let out = Command::new("psql").args([url, "-v", "ON_ERROR_STOP=1", "-qc", sql]).output().expect("run psql");
    assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
}

fn nanos() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

pub struct Server {
    pub child: Child,
    pub base: String,
    pub setup_link: Option<String>,
    /// What `serve` printed up to and including "Courier is listening".
    pub console: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Env {
    /// A fresh data directory with a server running on it.
    pub fn start() -> Self {
        Self::start_with_config("")
    }

    /// A server on a fresh database of the PostgreSQL server at `admin_url`.
    pub fn start_on_postgres(admin_url: &str) -> Self {
        let mut env = Self::offline("");
        env.postgres = Some(TestDatabase::create_on(admin_url.to_owned()));
        env.server = Some(env.spawn_server());
        env
    }

    pub fn start_with_config(toml: &str) -> Self {
        let mut env = Self::offline(toml);
        env.server = Some(env.spawn_server());
        env
    }

    /// A server whose public URL is `http://localhost:<port>` (WebAuthn needs a host name, not
    /// an address), with `toml` added to its configuration.
    pub fn start_on_localhost(toml: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut env = Self::offline(&format!("public_url = \"http://localhost:{port}\"\n{toml}"));
        env.server = Some(env.spawn_server_with(env.command(), &format!("127.0.0.1:{port}")));
        env
    }

    /// A data directory without a server (CLI-only tests).
    pub fn offline(toml: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = (!toml.is_empty()).then(|| {
            let path = dir.path().join("courier.toml");
            std::fs::write(&path, toml).expect("write config");
            path
        });
        Self { dir, server: None, config, postgres: TestDatabase::create(), s3: test_s3_settings() }
    }

    /// The metadata database this installation uses (for tests that tamper with it directly).
    pub fn database_url(&self) -> String {
        match &self.postgres {
            Some(db) => db.url.clone(),
            None => format!("sqlite://{}", self.data_dir().join("courier.db").display()),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn base(&self) -> &str {
        &self.server.as_ref().expect("server running").base
    }

    /// `courier` with this installation's environment.
    pub fn command(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env("COURIER_DATA_DIR", self.data_dir())
            .env("RUST_LOG", std::env::var("E2E_LOG").unwrap_or("warn".into()))
            .env_remove("COURIER_CONFIG");
        c.env_remove("COURIER_DATABASE_URL");
        if let Some(db) = &self.postgres {
            c.env("COURIER_DATABASE_URL", &db.url);
        }
        for var in ["COURIER_BLOB_STORE", "COURIER_S3_ENDPOINT", "COURIER_S3_REGION", "COURIER_S3_ACCESS_KEY_ID"] {
            c.env_remove(var);
        }
        c.env_remove("COURIER_S3_SECRET_ACCESS_KEY");
        if let Some(s3) = &self.s3 {
            c.env("COURIER_BLOB_STORE", format!("s3://{}/{}", s3.bucket, s3.prefix))
                .env("COURIER_S3_ENDPOINT", s3.endpoint.as_deref().unwrap_or_default())
                .env("COURIER_S3_REGION", &s3.region)
                .env("COURIER_S3_ACCESS_KEY_ID", &s3.access_key_id)
                .env("COURIER_S3_SECRET_ACCESS_KEY", &s3.secret_access_key);
        }
        if let Some(cfg) = &self.config {
            c.env("COURIER_CONFIG", cfg);
        }
        if let Some(s) = &self.server {
            c.env("COURIER_PUBLIC_URL", &s.base);
        }
        c
    }

    #[allow(clippy::zombie_processes)] // the child is owned by `Server`, whose Drop waits
    pub fn spawn_server(&self) -> Server {
        self.spawn_server_with(self.command(), "127.0.0.1:0")
    }

    /// Another instance on the same database, blob store and keys, with a data directory of
    /// its own (as on another machine of a cluster).
    pub fn spawn_second_instance(&self) -> Server {
        let keys = self.data_dir().join("keys");
        let mut c = self.command();
        c.env("COURIER_DATA_DIR", self.dir.path().join("data-2"))
            .env("COURIER_MASTER_KEY_FILE", keys.join("master.key"))
            .env("COURIER_AUDIT_KEY_FILE", keys.join("audit.key"));
        self.spawn_server_with(c, "127.0.0.1:0")
    }

    #[allow(clippy::zombie_processes)] // the child is owned by `Server`, whose Drop waits
    fn spawn_server_with(&self, mut command: Command, bind: &str) -> Server {
        let mut child = command
            .args(["serve", "--bind", bind])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn courier serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut setup_link = None;
        let mut console = Vec::new();
        loop {
            let line = rx.recv_timeout(Duration::from_secs(60)).expect("server did not start");
            console.push(line.clone());
            if let Some(link) = line.trim().strip_prefix("http").filter(|l| l.contains("/setup/")) {
                setup_link = Some(format!("http{link}"));
            }
            if let Some(rest) = line.strip_prefix("Courier is listening on ") {
                let base = rest.split_whitespace().next().expect("address").to_owned();
                return Server { child, base, setup_link, console };
            }
        }
    }

    pub fn on_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    pub fn kill_server(&mut self) {
        self.server.take();
    }

    pub fn restart_server(&mut self) {
        self.server.take();
        self.server = Some(self.spawn_server());
    }

    /// Runs the CLI; returns (success, stdout, stderr).
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn courier");
        {
            let mut input = child.stdin.take().expect("stdin");
            if let Some(s) = stdin {
                input.write_all(s.as_bytes()).expect("write stdin");
            }
        }
        let out = child.wait_with_output().expect("wait courier");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs a CLI command that must succeed and print JSON.
    pub fn cli_json(&self, args: &[&str], stdin: Option<&str>) -> Value {
        let (ok, out, err) = self.cli(args, stdin);
        assert!(ok, "courier {args:?} failed: {err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("courier {args:?} printed no JSON ({e}): {out}"))
    }

    /// A staff account made with `courier user create` and `PASSWORD`; returns its enrolment.
    pub fn create_user(&self, email: &str, role: &str) -> Value {
        self.cli_json(
            &["user", "create", "--email", email, "--role", role, "--password-stdin", "--json"],
            Some(&format!("{PASSWORD}\n")),
        )
    }

    pub fn create_portal(&self, extra: &[&str]) -> (String, String) {
        let mut args = vec!["portal", "create", "--label", "Smith v. Jones — intake", "--json"];
        args.extend_from_slice(extra);
        let p = self.cli_json(&args, None);
        (p["id"].as_str().expect("id").to_owned(), p["token"].as_str().expect("token").to_owned())
    }

    pub fn docs(&self, portal: Option<&str>) -> Vec<Value> {
        let mut args = vec!["doc", "list", "--json"];
        if let Some(p) = portal {
            args.extend(["--portal", p]);
        }
        self.cli_json(&args, None).as_array().expect("array").clone()
    }

    pub fn audit_ok(&self) -> bool {
        self.cli(&["audit", "verify", "--json"], None).0
    }

    pub fn audit_events(&self) -> Vec<Value> {
        let (ok, out, err) = self.cli(&["audit", "export", "--json"], None);
        assert!(ok, "audit export failed: {err}");
        out.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
    }

    /// Every regular file under the data directory with its bytes.
    pub fn all_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if let Ok(b) = std::fs::read(&p) {
                    out.push((p, b));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.data_dir(), &mut out);
        out
    }

    /// Committed and staged blob files (on S3: the committed objects, as their keys).
    pub fn blob_files(&self) -> Vec<PathBuf> {
        let Some(s3) = self.s3.clone() else {
            return self
                .all_files()
                .into_iter()
                .map(|(p, _)| p)
                .filter(|p| p.starts_with(self.data_dir().join("blobs")))
                .collect();
        };
        // A runtime of its own on a thread of its own: callers are inside a test's runtime.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                use courier_store::blob::BlobStore;
                let store = courier_store::blob::S3BlobStore::new(&s3).expect("S3 store");
                store.list_older_than(Duration::ZERO).await.expect("list the bucket")
            })
        })
        .join()
        .expect("list thread")
        .into_iter()
        .map(PathBuf::from)
        .collect()
    }

    pub fn on_s3(&self) -> bool {
        self.s3.is_some()
    }

    /// For tests that handle local blob files directly: true (and a note) when blobs are on S3.
    pub fn skip_on_s3(&self, what: &str) -> bool {
        if self.on_s3() {
            eprintln!("skipped on S3: {what} (the blob store conformance suite covers S3)");
        }
        self.on_s3()
    }
}

/// A port free on loopback now (for a second listener, such as `metrics_bind`).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn client() -> reqwest::Client {
    // reqwest is built with rustls but no default provider (for the TLS tests); every client
    // then needs one installed for the process.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().expect("client")
}

/// A multipart body built byte for byte, so tests control every header byte.
pub fn raw_multipart(files: &[(&[u8], &[u8])]) -> (String, Vec<u8>) {
    let boundary = "courier-test-boundary-7d91";
    let mut body = Vec::new();
    for (name, data) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"").as_bytes(),
        );
        body.extend_from_slice(name);
        body.extend_from_slice(b"\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn upload(base: &str, token: &str, files: &[(&str, &[u8])]) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new();
    for (name, data) in files {
        form = form.part("file", reqwest::multipart::Part::bytes(data.to_vec()).file_name(name.to_string()));
    }
    client()
        .post(format!("{base}/p/{token}/files"))
        .header("Accept", "application/json")
        .multipart(form)
        .send()
        .await
        .expect("upload request")
}

pub const BOUNDARY: &str = "b0undary";

/// The opening of a one-file multipart body, up to the file's first byte.
pub fn multipart_head(file_name: &str) -> Vec<u8> {
    format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\r\n")
        .into_bytes()
}

/// Starts an upload that sends `chunks` chunks of `chunk_size` bytes and then stalls forever,
/// so the server is mid-upload for as long as the test needs.
pub fn stalled_upload(
    base: &str,
    token: &str,
    chunks: u64,
    chunk_size: usize,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    use futures_util::StreamExt;
    let parts = std::iter::once(multipart_head("half.bin")).chain((0..chunks).map(move |i| bytes(chunk_size, i)));
    let body = futures_util::stream::iter(parts.map(Ok::<_, std::io::Error>)).chain(futures_util::stream::pending());
    let url = format!("{base}/p/{token}/files");
    tokio::spawn(async move {
        client()
            .post(url)
            .header("Content-Type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await
    })
}

/// Posts a multipart body (boundary [`BOUNDARY`]) sent as a stream, to control its timing.
pub async fn post_multipart_stream(url: String, body: reqwest::Body) -> reqwest::Result<reqwest::Response> {
    client()
        .post(url)
        .header("Accept", "application/json")
        .header("Content-Type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
}

pub fn sha256_hex(data: &[u8]) -> String {
    courier_crypto::sha256(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Deterministic pseudo-random bytes (incompressible, unlike repeated text), shaped as a file
/// Courier accepts: a PNG signature, then the noise. Portals refuse unrecognised content.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut out = noise(len, seed);
    let signature = b"\x89PNG\r\n\x1a\n";
    let n = signature.len().min(len);
    out[..n].copy_from_slice(&signature[..n]);
    out
}

/// Deterministic pseudo-random bytes, no file signature: content of no accepted type.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The current TOTP code for a base32 secret, as an authenticator app shows it.
pub fn totp_code(secret: &str) -> String {
    use totp_rs::{Algorithm, Secret, TOTP};
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().expect("base32 secret");
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, None, "x".into()).expect("totp").generate_current().expect("clock")
}

/// Signs in through the forms: password at `base`, then the TOTP code at `mfa_base` (another
/// instance, in cluster tests). Returns the answer to the code.
pub async fn sign_in_at(
    c: &reqwest::Client,
    base: &str,
    mfa_base: &str,
    email: &str,
    password: &str,
    totp_secret: &str,
) -> reqwest::Response {
    password_step(c, base, email, password).await;
    second_factor(c, mfa_base, &totp_code(totp_secret)).await
}

/// The password step of sign-in, which must lead on to the second factor.
pub async fn password_step(c: &reqwest::Client, base: &str, email: &str, password: &str) {
    let page = c.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden_field(&page, "csrf_token");
    let r = c
        .post(format!("{base}/login"))
        .form(&[("email", email), ("password", password), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "password step");
    assert_eq!(r.headers()["location"], "/login/mfa");
}

/// Posts a second factor (a TOTP or recovery code) to the session waiting for one.
pub async fn second_factor(c: &reqwest::Client, base: &str, code: &str) -> reqwest::Response {
    let page = c.get(format!("{base}/login/mfa")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden_field(&page, "csrf_token");
    c.post(format!("{base}/login/mfa")).form(&[("code", code), ("csrf_token", &csrf)]).send().await.unwrap()
}

/// The CSRF token of a signed-in session, read off a staff page.
pub async fn csrf_of(c: &reqwest::Client, base: &str) -> String {
    let page = c.get(format!("{base}/account")).send().await.unwrap().text().await.unwrap();
    hidden_field(&page, "csrf_token")
}

pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in: {html}")) + marker.len();
    html[start..].split('"').next().expect("value").to_owned()
}

/// Creates a staff account with `role` and signs it in on `c`. Returns the session's CSRF
/// token (from a staff page) and the account.
pub async fn sign_in(env: &Env, c: &reqwest::Client, email: &str, role: &str) -> (String, Value) {
    let user = env.create_user(email, role);
    let secret = user["totp_secret"].as_str().expect("totp secret");
    let r = sign_in_at(c, env.base(), env.base(), email, PASSWORD, secret).await;
    assert_eq!(r.status(), 303, "TOTP step");
    let page = c.get(format!("{}/portals", env.base())).send().await.unwrap().text().await.unwrap();
    (hidden_field(&page, "csrf_token"), user)
}
