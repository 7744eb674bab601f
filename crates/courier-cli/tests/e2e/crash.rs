//! A server killed mid-upload leaves no document and, after restart, no blob.

use std::time::Duration;

use futures_util::StreamExt;

use crate::harness::{Env, bytes, client};

#[tokio::test]
async fn kill_9_mid_upload_leaves_no_document_and_no_orphan() {
    let mut env = Env::start();
    let (_, token) = env.create_portal(&[]);
    let boundary = "b0undary";
    let head = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"half.bin\"\r\n\r\n");
    // A body that sends 2 MiB and then stalls forever: the server must be mid-upload when killed.
    let chunks = std::iter::once(head.into_bytes()).chain((0..32).map(|i| bytes(65_536, i)));
    let body = futures_util::stream::iter(chunks.map(Ok::<_, std::io::Error>)).chain(futures_util::stream::pending());
    let url = format!("{}/p/{token}/files", env.base());
    let request = tokio::spawn(async move {
        client()
            .post(url)
            .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await
    });
    let staging = env.data_dir().join("blobs").join("staging");
    let mut waited = 0;
    while std::fs::read_dir(&staging).unwrap().next().is_none() {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
        assert!(waited < 400, "upload never reached the blob store");
    }
    // Let some ciphertext land in the staged blob.
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.kill_server(); // SIGKILL
    assert!(request.await.unwrap().is_err(), "the upload should have died with the server");
    assert!(!env.blob_files().is_empty(), "the test killed the server before it staged anything");

    env.restart_server();
    assert!(env.docs(None).is_empty());
    assert!(env.blob_files().is_empty(), "orphan blob survived the restart: {:?}", env.blob_files());
    assert!(env.audit_ok());
}

#[tokio::test]
async fn client_disconnect_mid_upload_leaves_nothing() {
    let env = Env::start();
    let (_, token) = env.create_portal(&[]);
    let boundary = "b0undary";
    let head = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"half.bin\"\r\n\r\n");
    let chunks = std::iter::once(head.into_bytes()).chain((0..8).map(|i| bytes(65_536, i)));
    let body = futures_util::stream::iter(chunks.map(Ok::<_, std::io::Error>))
        .chain(futures_util::stream::once(async { Err(std::io::Error::other("client gave up")) }));
    let resp = client()
        .post(format!("{}/p/{token}/files", env.base()))
        .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await;
    assert!(resp.is_err() || resp.unwrap().status().is_client_error());
    // The server notices the broken connection; its staged blob goes right away.
    let mut waited = 0;
    while !env.blob_files().is_empty() && waited < 100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    assert!(env.blob_files().is_empty(), "{:?}", env.blob_files());
    assert!(env.docs(None).is_empty());
}

#[tokio::test]
async fn a_portal_disabled_mid_upload_does_not_receive_the_file() {
    let env = Env::start();
    let (portal, token) = env.create_portal(&[]);
    let boundary = "b0undary";
    let head = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"late.bin\"\r\n\r\n");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    // Half the body now; the rest (and the closing boundary) only after the portal is disabled.
    let first = futures_util::stream::iter([Ok::<_, std::io::Error>(head.into_bytes()), Ok(bytes(300_000, 1))]);
    let rest = futures_util::stream::once(async move {
        let _ = rx.await;
        Ok::<_, std::io::Error>([bytes(1000, 2), format!("\r\n--{boundary}--\r\n").into_bytes()].concat())
    });
    let url = format!("{}/p/{token}/files", env.base());
    let request = tokio::spawn(async move {
        client()
            .post(url)
            .header("Accept", "application/json")
            .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
            .body(reqwest::Body::wrap_stream(first.chain(rest)))
            .send()
            .await
    });
    let staging = env.data_dir().join("blobs").join("staging");
    while std::fs::read_dir(&staging).unwrap().next().is_none() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(env.cli(&["portal", "disable", &portal], None).0);
    tx.send(()).unwrap();
    let resp = request.await.unwrap().unwrap();
    assert_eq!(resp.status(), 404);
    assert!(env.docs(None).is_empty());
    assert!(env.blob_files().is_empty(), "{:?}", env.blob_files());
}
