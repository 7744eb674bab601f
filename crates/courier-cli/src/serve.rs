//! `courier serve`: bind, open the installation, print the setup link while no admin
//! exists, run upkeep in the background, and serve (over TLS when `tls_cert` and `tls_key` are
//! set, reloading them on SIGHUP) until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum_server::tls_rustls::RustlsConfig;
use courier_server::{Config, Courier};

/// How often the leader looks for closed upload windows and due mails and webhooks.
const DELIVERY_TICK: Duration = Duration::from_secs(1);

pub async fn run(mut config: Config, bind: Option<SocketAddr>) -> Result<()> {
    if let Some(bind) = bind {
        config.bind = bind;
    }
    if let Err(why) = config.check_transport() {
        bail!(why);
    }
    // Listen for SIGHUP from the start: its default action would end the process.
    let hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).context("SIGHUP handler")?;
    // Read the certificate before anything else, so a bad one stops start-up at once.
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some((
            courier_server::tls::server_config(cert, key).map_err(anyhow::Error::msg)?,
            cert.clone(),
            key.clone(),
        )),
        _ => None,
    };
    let listener =
        tokio::net::TcpListener::bind(config.bind).await.with_context(|| format!("binding {}", config.bind))?;
    let local = listener.local_addr()?;
    // With port 0 the real port is known only now; links must carry it.
    config.bind = local;
    let (courier, operator_key) = courier_server::startup::open(config)
        .await
        .map_err(|e| anyhow::anyhow!("{e}: {}", e.internal_detail().unwrap_or("")))?;

    let operator = courier.operator(&operator_key);
    let (staging, orphans) = operator.sweep_blobs(None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(staging, orphans, "start-up blob sweep done");
    if !courier.admin_exists().await.map_err(|e| anyhow::anyhow!("{e}"))? {
        let link = operator.issue_setup_link().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("No administrator exists yet. Open this one-time link within one hour to create one:");
        println!("  {link}");
    }
    let every = Duration::from_secs(courier.config().maintenance_interval_secs.max(1));
    let background = [
        tokio::spawn(Arc::clone(&courier).run_maintenance(every)),
        tokio::spawn(Arc::clone(&courier).run_deliveries(DELIVERY_TICK)),
    ];
    if let Some(addr) = courier.config().metrics_bind {
        let listener =
            tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding metrics_bind {addr}"))?;
        println!("Metrics on http://{}/metrics", listener.local_addr()?);
        if !addr.ip().is_loopback() {
            println!(
                "Warning: metrics_bind {addr} is not a loopback address: /metrics has no TLS and no sign-in; \
                 keep it on a private network that only the scraper reaches."
            );
        }
        let app = courier_server::web::metrics_router(Arc::clone(&courier));
        // The same guards as the main listener, with few connections: a scraper needs one.
        let limits = crate::listener::Limits {
            max_connections: 16,
            per_address: 4,
            trusted: Vec::new(),
            header_read_timeout: Duration::from_secs(courier.config().header_read_timeout_secs.max(1)),
            write_stall: Duration::from_secs(courier.config().write_stall_secs.max(1)),
        };
        tokio::spawn(async move {
            let never = std::future::pending::<()>();
            if let Err(e) = crate::listener::serve(listener, app, None, limits, never).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }

    report_scanning(&courier).await;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("Courier is listening on {scheme}://{local} (public URL {})", courier.config().public_url());
    let app = courier_server::web::router(courier.clone());
    let limits = crate::listener::Limits {
        max_connections: courier.config().max_connections.max(1),
        per_address: courier.config().connections_per_address.max(1),
        trusted: courier.config().trusted_proxy.clone(),
        header_read_timeout: Duration::from_secs(courier.config().header_read_timeout_secs.max(1)),
        write_stall: Duration::from_secs(courier.config().write_stall_secs.max(1)),
    };
    let rustls = tls.map(|(server_config, cert, key)| {
        let rustls = RustlsConfig::from_config(server_config);
        (rustls.clone(), cert, key)
    });
    tokio::spawn(reload_on_sighup(Arc::clone(&courier), hup, rustls.clone()));
    crate::listener::serve(listener, app, rustls.map(|(r, _, _)| r), limits, shutdown_signal())
        .await
        .context("serving")?;
    // Upkeep and deliveries stop before the database closes: otherwise every stop logged their
    // next tick's "closed pool" as a failure. What they had claimed is retried after a restart.
    for task in background {
        task.abort();
    }
    courier.close().await;
    Ok(())
}

/// Reads the certificate and key again on every SIGHUP (after a renewal). A bad pair is
/// refused, said on the console and in the trail, and the running one stays. Without TLS a
/// SIGHUP (`systemctl reload`) changes nothing, and must not end the process either.
async fn reload_on_sighup(
    courier: Arc<Courier>,
    mut hup: tokio::signal::unix::Signal,
    tls: Option<(RustlsConfig, PathBuf, PathBuf)>,
) {
    while hup.recv().await.is_some() {
        let Some((rustls, cert, key)) = &tls else {
            println!("SIGHUP: nothing to reload (no tls_cert/tls_key)");
            continue;
        };
        let (reloaded, details) = match courier_server::tls::server_config(cert, key) {
            Ok(config) => {
                rustls.reload_from_config(config);
                println!("TLS certificate reloaded from {}", cert.display());
                (true, serde_json::json!({ "cert": cert.display().to_string() }))
            }
            Err(e) => {
                println!("TLS certificate NOT reloaded, the previous one stays: {e}");
                (false, serde_json::json!({ "error": e }))
            }
        };
        if let Err(e) = courier.record_tls_reload(reloaded, details).await {
            tracing::error!(error = %e, "could not audit the TLS reload");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}

/// Says on the console what uploads are scanned with, and warns where protection is off.
async fn report_scanning(courier: &Courier) {
    match courier.scanning().malware_scanning() {
        None => println!(
            "Warning: malware scanning is off. Set clamd_addr (COURIER_CLAMD_ADDR) to scan uploads with ClamAV."
        ),
        Some(addr) => {
            match courier_scan::clamd::ping(addr, std::time::Duration::from_secs(5)).await {
                Ok(()) => println!("Malware scanning: clamd at {addr}"),
                Err(e) => {
                    tracing::warn!(error = %e, "clamd does not answer");
                    println!("Warning: clamd at {addr} does not answer; uploads are refused until it does ({e}).");
                }
            }
            if let Some(warning) = crate::clamd_disk::warning(addr, &courier.config().clamd_config) {
                println!("{warning}");
            }
        }
    }
    if !courier.config().dlp_scanning {
        println!("Warning: personal-data (DLP) scanning is off.");
    }
}
