//! One conformance suite for the metadata database: the same scenarios on SQLite (always) and
//! on PostgreSQL when `COURIER_TEST_POSTGRES_URL` names a server (`.ci/run` starts one). The
//! end-to-end suite covers the rest of the store through the real binary on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use courier_store::Db;
use courier_store::documents::{self, DocumentRecord};
use courier_store::portals::{self, NewPortal};
use courier_store::{audit, leases};

/// Each backend with a fresh, migrated database.
async fn databases(dir: &tempfile::TempDir) -> Vec<(&'static str, Db)> {
    let sqlite = Db::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.unwrap();
    sqlite.migrate().await.unwrap();
    let mut out = vec![("sqlite", sqlite)];
    if let Ok(admin) = std::env::var("COURIER_TEST_POSTGRES_URL") {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let name = format!("courier_store_test_{}_{}", std::process::id(), nanos % 1_000_000_000);
        let admin_db = Db::connect(&admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(admin_db.pool()).await.unwrap();
        let base = admin.rsplit_once('/').unwrap().0;
        let pg = Db::connect(&format!("{base}/{name}")).await.unwrap();
        pg.migrate().await.unwrap();
        out.push(("postgres", pg));
    }
    out
}

#[tokio::test]
async fn migrations_are_idempotent_and_seed_the_genesis_head() {
    let dir = tempfile::tempdir().unwrap();
    for (name, db) in databases(&dir).await {
        db.migrate().await.unwrap();
        let head = audit::head(db.pool()).await.unwrap().expect("genesis head");
        assert_eq!((head.seq, head.hash, head.signature.len()), (0, vec![0u8; 32], 0), "{name}");
    }
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    for (name, db) in databases(&dir).await {
        let p = db.pool();
        assert!(leases::try_acquire(p, "upkeep", "a", 1_000, 2_000).await.unwrap(), "{name}");
        assert!(!leases::try_acquire(p, "upkeep", "b", 1_500, 2_500).await.unwrap(), "{name}: stolen");
        assert!(leases::try_acquire(p, "upkeep", "a", 1_900, 3_000).await.unwrap(), "{name}: renewal");
        assert!(!leases::try_acquire(p, "upkeep", "b", 2_999, 4_000).await.unwrap(), "{name}: renewed lease stolen");
        assert!(leases::try_acquire(p, "upkeep", "b", 3_001, 4_000).await.unwrap(), "{name}: expired lease kept");
        assert!(!leases::try_acquire(p, "upkeep", "a", 3_500, 5_000).await.unwrap(), "{name}");
        assert!(leases::try_acquire(p, "other", "a", 3_500, 5_000).await.unwrap(), "{name}: leases are per name");
    }
}

fn doc(id: &str, portal: &str, at: i64) -> DocumentRecord {
    DocumentRecord {
        id: id.into(),
        portal_id: Some(portal.into()),
        matter_id: None,
        receipt_id: None,
        name: format!("{id}.pdf"),
        size: 10,
        content_type: "application/pdf".into(),
        sha256: "00".repeat(32),
        blob_key: format!("blob-{id}"),
        wrapped_dek: Some(vec![1; 64]),
        uploaded_at: at,
        deleted_at: None,
        scan: courier_store::documents::ScanRecord {
            status: courier_core::ScanStatus::Quarantined,
            malware: None,
            findings: Some(r#"[{"kind":"ssn","count":2}]"#.into()),
            checks: None,
            held: true,
            released_at: None,
        },
        lifecycle: Default::default(),
    }
}

#[tokio::test]
async fn portals_documents_and_shredding_behave_alike() {
    let dir = tempfile::tempdir().unwrap();
    for (name, db) in databases(&dir).await {
        let mut tx = db.begin().await.unwrap();
        for (id, token) in [("p1", [1u8; 32]), ("p2", [2u8; 32])] {
            let portal = NewPortal {
                id,
                matter_id: None,
                label: "L",
                token_hash: &token,
                passcode_hash: None,
                max_file_size: 1 << 20,
                expires_at: None,
                created_by: "cli:test",
                created_at: 1,
                allowed_types: (id == "p1").then_some("pdf,docx"),
                dlp_action: (id == "p1").then_some("block"),
                retention_ms: (id == "p1").then_some(100),
                owner_id: None,
                notify: true,
                language: (id == "p1").then_some("fr"),
            };
            portals::insert(&mut tx, &portal).await.unwrap();
        }
        for (id, portal, at) in [("d1", "p1", 10), ("d2", "p1", 30), ("d3", "p2", 20)] {
            documents::insert(&mut tx, &doc(id, portal, at)).await.unwrap();
        }
        Db::commit(tx).await.unwrap();

        let ids = |docs: Vec<DocumentRecord>| docs.into_iter().map(|d| d.id).collect::<Vec<_>>();
        assert_eq!(ids(documents::list(db.pool(), Some("p1"), false).await.unwrap()), ["d2", "d1"], "{name}");
        assert_eq!(ids(documents::list(db.pool(), None, false).await.unwrap()), ["d2", "d3", "d1"], "{name}");
        let mut tx = db.begin().await.unwrap();
        assert!(documents::shred(&mut tx, "d2", 40, courier_core::ShredReason::Staff).await.unwrap(), "{name}");
        assert!(
            !documents::shred(&mut tx, "d2", 41, courier_core::ShredReason::Retention).await.unwrap(),
            "{name}: shredded twice"
        );
        Db::commit(tx).await.unwrap();
        assert_eq!(ids(documents::list(db.pool(), Some("p1"), false).await.unwrap()), ["d1"], "{name}");
        let all = documents::list(db.pool(), Some("p1"), true).await.unwrap();
        assert_eq!(all.len(), 2, "{name}");
        let shredded = all.iter().find(|d| d.id == "d2").unwrap();
        assert!(shredded.wrapped_dek.is_none() && shredded.deleted_at == Some(40), "{name}");
        assert_eq!(shredded.lifecycle.deletion_reason, Some(courier_core::ShredReason::Staff), "{name}");
        assert_eq!(documents::unjournaled(db.pool(), 10).await.unwrap(), [("d2".to_owned(), 40)], "{name}");
        documents::mark_journaled(db.pool(), "d2").await.unwrap();
        assert!(documents::unjournaled(db.pool(), 10).await.unwrap().is_empty(), "{name}");

        // Retention: p1's own 100 ms (d1 uploaded at 10: due at 110); p2 has none, so the
        // default given here (1000) applies to d3 (due at 1020); a filing at 50 with a grace of
        // 5 makes d3 due at 55; a hold keeps it.
        let pool = db.pool().clone();
        let due = |now| {
            let pool = pool.clone();
            async move { documents::due_for_shredding(&pool, now, 1000, 5, 10).await.unwrap() }
        };
        assert!(due(109).await.is_empty(), "{name}");
        assert_eq!(due(110).await, ["d1"], "{name}");
        assert_eq!(due(1020).await, ["d1", "d3"], "{name}");
        let mut tx = db.begin().await.unwrap();
        assert!(documents::mark_filed(&mut tx, "d3", 50, Some("DMS-1")).await.unwrap(), "{name}");
        assert!(!documents::mark_filed(&mut tx, "d2", 50, None).await.unwrap(), "{name}: shredded ones stay unfiled");
        let hold = courier_store::legal_holds::HoldRecord {
            id: "h1".into(),
            matter_id: None,
            document_id: Some("d1".into()),
            reason: "litigation".into(),
            placed_by: "cli:test".into(),
            placed_at: 60,
            released_by: None,
            released_at: None,
            release_reason: None,
        };
        courier_store::legal_holds::insert(&mut tx, &hold).await.unwrap();
        Db::commit(tx).await.unwrap();
        assert_eq!(due(110).await, ["d3"], "{name}: filed and due, while the held d1 is not");
        let d1 = documents::get(db.pool(), "d1").await.unwrap().unwrap();
        assert!(d1.lifecycle.on_hold && d1.lifecycle.portal_retention == Some(100), "{name}");
        assert_eq!(courier_store::legal_holds::active_on(db.pool(), "d1", None).await.unwrap().len(), 1, "{name}");
        let mut tx = db.begin().await.unwrap();
        assert!(courier_store::legal_holds::release(&mut tx, "h1", "cli:test", 70, "settled").await.unwrap());
        assert!(!courier_store::legal_holds::release(&mut tx, "h1", "cli:test", 71, "again").await.unwrap());
        Db::commit(tx).await.unwrap();
        assert_eq!(due(110).await, ["d1", "d3"], "{name}: released");
        assert_eq!(courier_store::legal_holds::list(db.pool(), true).await.unwrap().len(), 1, "{name}: kept");
        assert!(!documents::blob_key_known(db.pool(), "blob-d2").await.unwrap(), "{name}");
        assert!(documents::blob_key_known(db.pool(), "blob-d1").await.unwrap(), "{name}");

        // Scan results and release.
        let d1 = documents::get(db.pool(), "d1").await.unwrap().unwrap();
        assert_eq!((d1.scan.status.as_str(), d1.scan.held), ("quarantined", true), "{name}");
        assert_eq!(d1.scan.findings.as_deref(), Some(r#"[{"kind":"ssn","count":2}]"#), "{name}");
        let mut tx = db.begin().await.unwrap();
        assert!(documents::release(&mut tx, "d1", courier_core::ScanStatus::Flagged, 45).await.unwrap(), "{name}");
        assert!(
            !documents::release(&mut tx, "d1", courier_core::ScanStatus::Flagged, 46).await.unwrap(),
            "{name}: released twice"
        );
        Db::commit(tx).await.unwrap();
        let d1 = documents::get(db.pool(), "d1").await.unwrap().unwrap();
        assert_eq!(
            (d1.scan.status, d1.scan.held, d1.scan.released_at),
            (courier_core::ScanStatus::Flagged, false, Some(45)),
            "{name}"
        );

        let listed = portals::list(db.pool()).await.unwrap();
        let p1 = listed.iter().find(|p| p.id == "p1").unwrap();
        assert_eq!(
            (p1.allowed_types.as_deref(), p1.dlp_action, p1.language),
            (Some("pdf,docx"), Some(courier_core::DlpAction::Block), Some(courier_core::Language::Fr)),
            "{name}"
        );
        // A word changed behind Courier's back is an error, never the default (fail closed).
        sqlx::query("UPDATE portals SET dlp_action = 'shrug' WHERE id = 'p1'").execute(db.pool()).await.unwrap();
        match portals::get(db.pool(), "p1").await {
            Err(courier_store::StoreError::Corrupt(why)) => assert!(why.contains("dlp_action"), "{name}: {why}"),
            other => panic!("{name}: a corrupt dlp_action read as {other:?}"),
        }
        sqlx::query("UPDATE portals SET dlp_action = 'block' WHERE id = 'p1'").execute(db.pool()).await.unwrap();
        assert_eq!((p1.document_count, p1.last_upload_at), (1, Some(30)), "{name}");
        assert!(portals::by_token_hash(db.pool(), &[2u8; 32]).await.unwrap().is_some(), "{name}");
        let mut tx = db.begin().await.unwrap();
        assert!(portals::mark_deleted(&mut tx, "p2", 50).await.unwrap(), "{name}");
        assert!(portals::lock_live(&mut tx, "p2").await.unwrap().is_none(), "{name}");
        Db::commit(tx).await.unwrap();
        assert!(portals::by_token_hash(db.pool(), &[2u8; 32]).await.unwrap().is_none(), "{name}");
        // A second portal with the same token hash is refused, whichever backend.
        let mut tx = db.begin().await.unwrap();
        let clash = NewPortal {
            id: "p3",
            matter_id: None,
            label: "L",
            token_hash: &[1u8; 32],
            passcode_hash: None,
            max_file_size: 1,
            expires_at: None,
            created_by: "cli:test",
            created_at: 1,
            allowed_types: None,
            dlp_action: None,
            retention_ms: None,
            owner_id: None,
            notify: true,
            language: None,
        };
        assert!(matches!(portals::insert(&mut tx, &clash).await, Err(courier_store::StoreError::Conflict)), "{name}");
    }
}

/// Every table is either carried by backups (with a shape they can write and read back) or
/// knowingly left out: a new table fails here until it is put in one of the two lists.
#[tokio::test]
async fn every_table_is_backed_up_or_knowingly_not() {
    let dir = tempfile::tempdir().unwrap();
    for (name, db) in databases(&dir).await {
        let mut conn = db.pool().acquire().await.unwrap();
        let mut tables = courier_store::snapshot::all_tables(&mut conn, db.backend()).await.unwrap();
        tables.sort();
        let mut listed: Vec<String> = courier_store::snapshot::TABLES
            .iter()
            .chain(courier_store::snapshot::NOT_BACKED_UP)
            .map(|t| (*t).to_owned())
            .collect();
        listed.sort();
        assert_eq!(tables, listed, "{name}");
        for table in courier_store::snapshot::TABLES {
            let shape = courier_store::snapshot::shape(&mut conn, db.backend(), table).await.unwrap();
            assert!(!shape.columns.is_empty(), "{name}: {table}");
        }
    }
}

#[tokio::test]
async fn alert_windows_fire_once_and_the_outbox_hands_each_row_to_one_sender() {
    use courier_store::watch;
    let dir = tempfile::tempdir().unwrap();
    for (name, db) in databases(&dir).await {
        let mut conn = db.pool().acquire().await.unwrap();
        // Below the threshold, at it, above it: the rule fires once per window.
        for (at, expect_total) in [(1_000, 1), (1_100, 2), (1_200, 3)] {
            assert_eq!(watch::count_hit(&mut conn, "probe", "s", at, 1, 0).await.unwrap(), expect_total, "{name}");
        }
        assert!(watch::try_fire(&mut conn, "probe", "s", 1_200, 0).await.unwrap(), "{name}: first crossing");
        assert!(!watch::try_fire(&mut conn, "probe", "s", 1_300, 1_300 - 10_000).await.unwrap(), "{name}: again");
        assert!(watch::try_fire(&mut conn, "probe", "other", 1_300, 0).await.unwrap(), "{name}: per subject");
        assert!(watch::try_fire(&mut conn, "probe", "s", 20_000, 10_000).await.unwrap(), "{name}: next window");
        // Only events inside the window count.
        assert_eq!(watch::count_hit(&mut conn, "probe", "s", 5_000, 4, 1_150).await.unwrap(), 5, "{name}");
        assert_eq!(watch::prune_hits(db.pool(), 1_150).await.unwrap(), 2, "{name}");

        // A due row is claimed by one sender; a lapsed claim makes it due again.
        watch::enqueue(&mut conn, "m1", "mail", "alert", "{}", 100).await.unwrap();
        let first = watch::claim_due(&mut conn, "mail", 200, 10_000, 10).await.unwrap();
        let second = watch::claim_due(&mut conn, "mail", 300, 10_000, 10).await.unwrap();
        assert_eq!((first.len(), second.len()), (1, 0), "{name}");
        assert!(watch::claim_due(&mut conn, "webhook", 300, 10_000, 10).await.unwrap().is_empty(), "{name}: lanes");
        assert_eq!(
            watch::claim_due(&mut conn, "mail", 10_001, 20_000, 10).await.unwrap().len(),
            1,
            "{name}: lapsed claim"
        );
        watch::mark_attempt_failed(db.pool(), "m1", 10_002, 50_000, "refused", false).await.unwrap();
        assert!(watch::claim_due(&mut conn, "mail", 40_000, 60_000, 10).await.unwrap().is_empty(), "{name}: backoff");
        assert_eq!(watch::counts(db.pool()).await.unwrap(), (1, 0), "{name}");
        watch::mark_sent(db.pool(), "m1", 50_001).await.unwrap();
        assert!(watch::claim_due(&mut conn, "mail", 90_000, 99_000, 10).await.unwrap().is_empty(), "{name}: sent");
        assert_eq!(watch::counts(db.pool()).await.unwrap(), (0, 0), "{name}");
        assert_eq!(watch::purge_done(db.pool(), 60_000).await.unwrap(), 1, "{name}");

        // The switch: a second "on" changes nothing, and a missing row reads as off.
        let on = watch::Lockdown { active: true, reason: "r".into(), changed_by: "cli:x".into(), changed_at: 5 };
        assert!(watch::set_lockdown(&mut conn, &on).await.unwrap(), "{name}");
        assert!(!watch::set_lockdown(&mut conn, &on).await.unwrap(), "{name}: already on");
        assert!(watch::lockdown(&mut *conn).await.unwrap().active, "{name}");
        sqlx::query("DELETE FROM lockdown").execute(&mut *conn).await.unwrap();
        assert!(!watch::lockdown(&mut *conn).await.unwrap().active, "{name}");
    }
}

#[tokio::test]
async fn pages_walk_every_document_once_in_order_and_read_an_index() {
    let dir = tempfile::tempdir().unwrap();
    for (name, db) in databases(&dir).await {
        let mut tx = db.begin().await.unwrap();
        for id in ["p1", "p2"] {
            let token = [id.as_bytes()[1]; 32];
            let portal = NewPortal {
                id,
                matter_id: None,
                label: "L",
                token_hash: &token,
                passcode_hash: None,
                max_file_size: 1 << 20,
                expires_at: None,
                created_by: "cli:test",
                created_at: 1,
                allowed_types: None,
                dlp_action: None,
                retention_ms: None,
                owner_id: None,
                notify: false,
                language: None,
            };
            portals::insert(&mut tx, &portal).await.unwrap();
        }
        // 23 documents in p1, many sharing an upload time (a batch in one millisecond), and
        // p2's interleaved between them.
        let mut expected = Vec::new();
        for i in 0..23i64 {
            let id = format!("d{i:02}");
            documents::insert(&mut tx, &doc(&id, "p1", 100 + i / 4)).await.unwrap();
            documents::insert(&mut tx, &doc(&format!("q{i:02}"), "p2", 100 + i / 4)).await.unwrap();
            expected.push((100 + i / 4, id));
        }
        Db::commit(tx).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        documents::shred(&mut tx, "d05", 500, courier_core::ShredReason::Staff).await.unwrap();
        Db::commit(tx).await.unwrap();
        expected.sort_by(|a, b| b.cmp(a));

        for (include_deleted, limit) in [(true, 5), (true, 4), (false, 3), (true, 100)] {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page =
                    documents::page(db.pool(), documents::Scope::Portal("p1"), include_deleted, after.as_ref(), limit)
                        .await
                        .unwrap();
                assert!(page.len() <= limit as usize, "{name}");
                let Some(last) = page.last() else { break };
                after = Some(documents::After { uploaded_at: last.uploaded_at, id: last.id.clone() });
                seen.extend(page.into_iter().map(|d| d.id));
            }
            let want: Vec<_> =
                expected.iter().map(|(_, id)| id.clone()).filter(|id| include_deleted || id != "d05").collect();
            assert_eq!(seen, want, "{name}: limit {limit}, shredded too: {include_deleted}");
        }
        let all = documents::page(db.pool(), documents::Scope::All, true, None, 1000).await.unwrap();
        assert_eq!(all.len(), 46, "{name}");
        let after = documents::After { uploaded_at: 103, id: "d13".into() };
        let rest = documents::page(db.pool(), documents::Scope::Portal("p1"), true, Some(&after), 2).await.unwrap();
        assert_eq!(rest.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["d12", "d11"], "{name}");

        if name == "sqlite" {
            // The plan of a deep page in every shape: an index from the cursor on, no sort.
            for (scope, index) in [
                (documents::Scope::Portal("p1"), "documents_portal"),
                (documents::Scope::Matter("m1"), "documents_matter"),
                (documents::Scope::All, "documents_"),
            ] {
                for include_deleted in [false, true] {
                    let sql = format!("EXPLAIN QUERY PLAN {}", documents::page_statement(scope, include_deleted, true));
                    let mut query = sqlx::query(&sql);
                    if !matches!(scope, documents::Scope::All) {
                        query = query.bind("p1");
                    }
                    let rows = query.bind(103i64).bind("d13").bind(10i64).fetch_all(db.pool()).await.unwrap();
                    let plan: Vec<String> =
                        rows.iter().map(|r| sqlx::Row::try_get::<String, _>(r, "detail").unwrap()).collect();
                    let plan = plan.join("; ");
                    assert!(plan.contains(index), "{scope:?}: {plan}");
                    assert!(!plan.contains("TEMP B-TREE"), "{scope:?}, a sort: {plan}");
                }
            }
        }
    }
}

/// A matter's access facts in one read: each member with its role, each holder of an
/// unexpired break-glass grant once (however many grants), nobody whose grant ran out or who
/// belongs to another matter; a matter without anyone; and no matter at all.
#[tokio::test]
async fn a_matter_is_read_with_its_members_and_live_grants() {
    use courier_core::MemberRole;
    use courier_store::matters::{self, MatterRecord};
    use courier_store::users::{self, UserRecord};

    let dir = tempfile::tempdir().unwrap();
    for (name, db) in databases(&dir).await {
        let mut tx = db.begin().await.unwrap();
        for id in ["ann", "bob", "cy", "dee"] {
            let user = UserRecord {
                id: id.into(),
                email: format!("{id}@firm.example"),
                role: courier_core::Role::Attorney,
                password_hash: String::new(),
                totp_sealed: Vec::new(),
                totp_last_step: 0,
                disabled: false,
                department: String::new(),
                last_login_at: None,
                mfa_enrolled: false,
                language: None,
            };
            users::insert(&mut tx, &user, 1).await.unwrap();
        }
        for id in ["m1", "m2"] {
            let matter = MatterRecord {
                id: id.into(),
                name: id.into(),
                department: "litigation".into(),
                sensitivity: courier_core::Sensitivity::Restricted,
                firm_wide: false,
                created_at: 1,
                archived_at: None,
                last_reviewed_at: None,
                retention_ms: None,
            };
            matters::insert(&mut tx, &matter).await.unwrap();
        }
        matters::upsert_member(&mut tx, "m1", "ann", MemberRole::Attorney, 1).await.unwrap();
        matters::upsert_member(&mut tx, "m1", "bob", MemberRole::Paralegal, 1).await.unwrap();
        matters::upsert_member(&mut tx, "m2", "dee", MemberRole::Attorney, 1).await.unwrap();
        for (id, matter, user, expires) in
            [("g1", "m1", "cy", 500), ("g2", "m1", "cy", 900), ("g3", "m1", "dee", 50), ("g4", "m2", "bob", 900)]
        {
            matters::insert_break_glass(&mut tx, id, matter, user, "why", 1, expires).await.unwrap();
        }
        Db::commit(tx).await.unwrap();

        let a = matters::with_access(db.pool(), "m1", 100).await.unwrap().expect("m1");
        assert_eq!(a.matter.id, "m1", "{name}");
        assert_eq!(a.matter.department, "litigation", "{name}");
        let mut members = a.members.clone();
        members.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(
            members,
            [("ann".to_owned(), MemberRole::Attorney), ("bob".to_owned(), MemberRole::Paralegal)],
            "{name}"
        );
        assert_eq!(a.break_glass, ["cy"], "{name}");

        let later = matters::with_access(db.pool(), "m1", 600).await.unwrap().expect("m1");
        assert_eq!(later.break_glass, ["cy"], "{name}: g2 still runs");
        let after = matters::with_access(db.pool(), "m1", 900).await.unwrap().expect("m1");
        assert!(after.break_glass.is_empty(), "{name}: every grant ran out");
        assert_eq!(after.members.len(), 2, "{name}");

        let mut tx = db.begin().await.unwrap();
        let empty = MatterRecord {
            id: "m3".into(),
            name: "m3".into(),
            department: String::new(),
            sensitivity: courier_core::Sensitivity::Normal,
            firm_wide: false,
            created_at: 1,
            archived_at: None,
            last_reviewed_at: None,
            retention_ms: None,
        };
        matters::insert(&mut tx, &empty).await.unwrap();
        Db::commit(tx).await.unwrap();
        let a = matters::with_access(db.pool(), "m3", 100).await.unwrap().expect("m3");
        assert!(a.matter.id == "m3" && a.members.is_empty() && a.break_glass.is_empty(), "{name}: {a:?}");
        assert!(matters::with_access(db.pool(), "nope", 100).await.unwrap().is_none(), "{name}");
    }
}

/// An open transaction holding the audit head (an insider at a `psql` prompt) makes an audited
/// write fail as "busy" after PostgreSQL's `lock_timeout` instead of stalling it, and every
/// request queued behind it, for as long as the holder likes. (SQLite has its busy timeout.)
#[tokio::test]
async fn a_head_held_elsewhere_fails_a_write_as_busy_instead_of_stalling_it() {
    let dir = tempfile::tempdir().unwrap();
    for (name, db) in databases(&dir).await {
        if name != "postgres" {
            continue;
        }
        let mut holder = db.begin().await.unwrap();
        sqlx::query("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE").execute(&mut *holder).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        let attempt = audit::lock_head(&mut tx, courier_store::Backend::Postgres);
        let outcome = tokio::time::timeout(std::time::Duration::from_secs(60), attempt).await;
        let err = outcome.expect("still waiting for the lock after 60 s").expect_err("the lock was taken");
        assert!(err.is_unavailable(), "{err}");
        drop(tx);
        Db::commit(holder).await.unwrap();
    }
}
