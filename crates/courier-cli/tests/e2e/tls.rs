//! Courier terminating TLS itself: HTTPS with HSTS and `__Host-` Secure cookies, TLS 1.2 and
//! 1.3, plain HTTP refused on the TLS port, the certificate reloaded on SIGHUP (a bad one
//! refused), and the security headers on every kind of response. Certificates come from a
//! throwaway CA made with the `openssl` command. The protocol and cipher review is testssl.sh
//! in CI (`.ci/testssl.sh`).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::harness::{Env, PASSWORD, hidden_field, sign_in_at};

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().expect("the openssl command");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Makes a CA (`ca.pem`) and, signed by it, a server certificate for 127.0.0.1 per name
/// (`name.pem`, `name.key`).
fn make_certs(dir: &Path, names: &[&str]) {
    let p = |n: &str| dir.join(n).display().to_string();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &p("ca.key"),
        "-out",
        &p("ca.pem"),
        "-days",
        "30",
        "-subj",
        "/CN=Courier test CA",
    ]);
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    for name in names {
        openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &p(&format!("{name}.key")),
            "-out",
            &p(&format!("{name}.csr")),
            "-subj",
            &format!("/CN={name}"),
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            &p(&format!("{name}.csr")),
            "-CA",
            &p("ca.pem"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-out",
            &p(&format!("{name}.pem")),
            "-days",
            "30",
            "-extfile",
            &p("ext.cnf"),
        ]);
    }
}

/// An HTTPS client trusting the test CA, limited to `versions`, that reports the peer's
/// certificate. A new client opens a new connection (and handshake).
fn https_client(dir: &Path, versions: &[&'static rustls::SupportedProtocolVersion]) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(dir.join("ca.pem")).unwrap();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .tls_info(true)
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

const BOTH: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// The DER of the certificate the server presented.
async fn served_cert(dir: &Path, base: &str) -> Vec<u8> {
    let r = https_client(dir, BOTH).get(format!("{base}/healthz")).send().await.unwrap();
    r.extensions().get::<reqwest::tls::TlsInfo>().and_then(|i| i.peer_certificate()).expect("peer cert").to_vec()
}

fn der_of(path: &Path) -> Vec<u8> {
    let pem = std::fs::read(path).unwrap();
    let cert: rustls::pki_types::CertificateDer = rustls::pki_types::pem::PemObject::from_pem_slice(&pem).unwrap();
    cert.to_vec()
}

fn tls_env(dir: &Path) -> Env {
    let cfg = format!(
        "tls_cert = \"{}\"\ntls_key = \"{}\"\n",
        dir.join("live.pem").display(),
        dir.join("live.key").display()
    );
    Env::start_with_config(&cfg)
}

fn sighup(env: &Env) {
    let pid = env.server.as_ref().unwrap().child.id();
    let ok = Command::new("sh").args(["-c", &format!("kill -HUP {pid}")]).status().unwrap().success();
    assert!(ok);
}

#[tokio::test]
async fn courier_serves_https_with_secure_cookies_and_reloads_its_certificate() {
    let certs = tempfile::tempdir().unwrap();
    let dir = certs.path();
    make_certs(dir, &["first", "second"]);
    for ext in ["pem", "key"] {
        std::fs::copy(dir.join(format!("first.{ext}")), dir.join(format!("live.{ext}"))).unwrap();
    }
    let env = tls_env(dir);
    let base = env.base().to_owned();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");

    // TLS 1.3 and 1.2 both work; plain HTTP on the same port does not.
    for versions in [&[&rustls::version::TLS13][..], &[&rustls::version::TLS12][..]] {
        let r = https_client(dir, versions).get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains");
    }
    let plain = base.replace("https://", "http://");
    let answered = crate::harness::client().get(format!("{plain}/healthz")).send().await;
    assert!(answered.map(|r| r.status() != 200).unwrap_or(true), "plain HTTP must not be served");

    // Under TLS every cookie carries a prefix: `__Host-` for site-wide ones.
    let login = https_client(dir, BOTH).get(format!("{base}/login")).send().await.unwrap();
    let pre = login.headers()["set-cookie"].to_str().unwrap();
    assert!(pre.starts_with("__Host-courier_login=") && pre.contains("; Secure") && pre.contains("Path=/"), "{pre}");
    // Under TLS the session cookie is `__Host-courier_session`, Secure.
    let user = env.create_user("tls@firm.example", "attorney");
    let c = https_client(dir, BOTH);
    let r = sign_in_at(&c, &base, &base, "tls@firm.example", PASSWORD, user["totp_secret"].as_str().unwrap()).await;
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-courier_session=") && cookie.contains("; Secure") && cookie.contains("Path=/"));
    assert_eq!(c.get(format!("{base}/portals")).send().await.unwrap().status(), 200);

    // SIGHUP reads the files again: after a renewal, new connections get the new certificate.
    assert_eq!(served_cert(dir, &base).await, der_of(&dir.join("first.pem")));
    for ext in ["pem", "key"] {
        std::fs::copy(dir.join(format!("second.{ext}")), dir.join(format!("live.{ext}"))).unwrap();
    }
    sighup(&env);
    let mut renewed = false;
    for _ in 0..50 {
        if served_cert(dir, &base).await == der_of(&dir.join("second.pem")) {
            renewed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(renewed, "the new certificate is served after SIGHUP");

    // A broken file is refused and the running certificate stays.
    std::fs::write(dir.join("live.pem"), "-----BEGIN CERTIFICATE-----\nbroken\n").unwrap();
    sighup(&env);
    let mut audited = false;
    for _ in 0..50 {
        if env.audit_events().iter().any(|e| e["action"] == "tls.reload_failed") {
            audited = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(audited, "a failed reload is audited");
    assert_eq!(served_cert(dir, &base).await, der_of(&dir.join("second.pem")));
    assert_eq!(env.audit_events().iter().filter(|e| e["action"] == "tls.reloaded").count(), 1);
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let certs = tempfile::tempdir().unwrap();
    let dir = certs.path();
    make_certs(dir, &["live"]);
    let env = tls_env(dir);
    let base = env.base().to_owned();
    let (portal, link) = env.create_portal(&[]);
    let user = env.create_user("hdr@firm.example", "attorney");
    let c = https_client(dir, BOTH);
    assert_eq!(
        sign_in_at(&c, &base, &base, "hdr@firm.example", PASSWORD, user["totp_secret"].as_str().unwrap())
            .await
            .status(),
        303
    );
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(b"%PDF-1.4 x\n%%EOF\n".to_vec()).file_name("x.pdf"));
    let r = https_client(dir, BOTH).post(format!("{base}/p/{link}/files")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let doc = env.docs(Some(&portal))[0]["id"].as_str().unwrap().to_owned();
    let page = c.get(format!("{base}/portals/{portal}")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden_field(&page, "csrf_token");

    let anonymous = https_client(dir, BOTH);
    let cases: Vec<(&str, reqwest::Response)> = vec![
        ("page", c.get(format!("{base}/portals/{portal}")).send().await.unwrap()),
        ("login page", anonymous.get(format!("{base}/login")).send().await.unwrap()),
        ("redirect", anonymous.get(format!("{base}/portals")).send().await.unwrap()),
        ("client page", anonymous.get(format!("{base}/p/{link}")).send().await.unwrap()),
        ("download", c.get(format!("{base}/documents/{doc}/download")).send().await.unwrap()),
        ("404", anonymous.get(format!("{base}/no/such/page")).send().await.unwrap()),
        ("bad link 404", anonymous.get(format!("{base}/p/not-a-token")).send().await.unwrap()),
        (
            "403 (no CSRF token)",
            c.post(format!("{base}/portals/{portal}/disable")).form(&[("csrf_token", "x")]).send().await.unwrap(),
        ),
        (
            "error page",
            c.post(format!("{base}/portals"))
                .form(&[("label", ""), ("csrf_token", csrf.as_str())])
                .send()
                .await
                .unwrap(),
        ),
        ("API error", anonymous.get(format!("{base}/api/v1/me")).send().await.unwrap()),
        ("API document", anonymous.get(format!("{base}/api/v1/openapi.json")).send().await.unwrap()),
        ("health", anonymous.get(format!("{base}/healthz")).send().await.unwrap()),
        ("static asset", anonymous.get(format!("{base}/static/app.css")).send().await.unwrap()),
    ];
    let mut statuses = Vec::new();
    for (kind, r) in &cases {
        let h = r.headers();
        statuses.push(r.status().as_u16());
        let csp = h.get("content-security-policy").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(
            csp.contains("default-src 'self'")
                && csp.contains("object-src 'none'")
                && csp.contains("base-uri 'none'")
                && csp.contains("frame-ancestors 'none'")
                && csp.contains("form-action 'self'")
                && !csp.contains("unsafe-inline"),
            "{kind}: CSP {csp:?}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{kind}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{kind}");
        assert!(h["permissions-policy"].to_str().unwrap().contains("camera=()"), "{kind}");
        assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{kind}");
        assert_eq!(h["strict-transport-security"], "max-age=31536000; includeSubDomains", "{kind}");
        if *kind != "static asset" {
            assert_eq!(h["cache-control"], "no-store", "{kind}");
        }
    }
    assert_eq!(statuses, [200, 200, 303, 200, 200, 404, 404, 403, 400, 401, 200, 200, 200]);
}

#[tokio::test]
async fn without_tls_a_sighup_changes_nothing() {
    let env = Env::start();
    sighup(&env);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = crate::harness::client().get(format!("{}/healthz", env.base())).send().await.unwrap();
    assert_eq!(r.status(), 200, "still serving");
    assert!(r.headers().get("strict-transport-security").is_none(), "no HSTS over plain HTTP");
}
