//! `courier serve`: bind, open the installation, print the setup link while no admin
//! exists, run upkeep in the background, and serve until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use courier_server::{Config, Courier};

pub async fn run(mut config: Config, bind: Option<SocketAddr>) -> Result<()> {
    if let Some(bind) = bind {
        config.bind = bind;
    }
    if let Err(why) = config.check_transport() {
        bail!(why);
    }
    let listener =
        tokio::net::TcpListener::bind(config.bind).await.with_context(|| format!("binding {}", config.bind))?;
    let local = listener.local_addr()?;
    // With port 0 the real port is known only now; links must carry it.
    config.bind = local;
    let courier = courier_server::startup::open(config)
        .await
        .map_err(|e| anyhow::anyhow!("{e}: {}", e.internal_detail().unwrap_or("")))?;

    courier.passwords.warm_up().await;
    let (staging, orphans) = courier.sweep_blobs(None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(staging, orphans, "start-up blob sweep done");
    if !courier.admin_exists().await.map_err(|e| anyhow::anyhow!("{e}"))? {
        let link = courier.issue_setup_link().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("No administrator exists yet. Open this one-time link within one hour to create one:");
        println!("  {link}");
    }
    let every = Duration::from_secs(courier.config.maintenance_interval_secs.max(1));
    tokio::spawn(Arc::clone(&courier).run_maintenance(every));

    report_scanning(&courier).await;
    println!("Courier is listening on http://{local} (public URL {})", courier.config.public_url());
    let app = courier_server::web::router(courier.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.context("serving HTTP")?;
    courier.db.close().await;
    Ok(())
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
    match courier.scanning.malware_scanning() {
        None => println!(
            "Warning: malware scanning is off. Set clamd_addr (COURIER_CLAMD_ADDR) to scan uploads with ClamAV."
        ),
        Some(addr) => match courier_scan::clamd::ping(addr, std::time::Duration::from_secs(5)).await {
            Ok(()) => println!("Malware scanning: clamd at {addr}"),
            Err(e) => {
                tracing::warn!(error = %e, "clamd does not answer");
                println!("Warning: clamd at {addr} does not answer; uploads are refused until it does ({e}).");
            }
        },
    }
    if !courier.config.dlp_scanning {
        println!("Warning: personal-data (DLP) scanning is off.");
    }
}
