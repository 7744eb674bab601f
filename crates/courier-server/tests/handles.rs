//! Every method of the staff handle (`Acting`), called by an outsider: a signed-in paralegal
//! who is not on a restricted matter. Each method that names the matter's portal, document,
//! share, people or tokens refuses (403 or 404); each listing leaves them out; each operator
//! step refuses a staff member; and nothing of the matter changes. The method list is read from
//! `src/services/handles.rs`, so a new method without a case here fails the test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use bytes::Bytes;
use common::{PASSWORD, sign_in, start};
use courier_server::Error;
use courier_server::services::Unlock;
use courier_server::services::api_tokens::Scope;
use courier_server::services::authz::{Action, Resource};
use courier_server::services::documents::{IncomingFile, IncomingFiles};
use courier_server::services::firm::LogoChange;
use courier_server::services::lifecycle::HoldSubject;
use courier_server::services::matters::MatterRequest;
use courier_server::services::pages::PageRequest;
use courier_server::services::portals::PortalRequest;
use courier_server::services::shares::ShareRequest;
use courier_server::services::staff::Role;
use courier_server::services::users::Change;
use courier_store::firm_profile::FirmProfile;
use zeroize::Zeroizing;

/// Methods that are not about someone else's matter, and why.
const NOT_ABOUT_THE_MATTER: &[(&str, &str)] = &[
    ("actor", "who the handle is"),
    ("scopes", "the handle's own token scopes"),
    ("token_id", "the handle's own token"),
    ("default_link_base", "the instance's own settings, no data"),
    ("may", "yes or no for a resource the caller already holds"),
    ("me", "the caller's own user"),
    ("my_account", "the caller's own account"),
    ("set_my_language", "the caller's own pages' language"),
    ("create_matter", "a new matter of the caller's own"),
    ("take_notice", "the caller's own session"),
    ("logout", "the caller's own session"),
    ("my_sessions", "the caller's own sessions"),
    ("end_my_session", "ends only sessions of the caller (by handle)"),
    ("end_other_sessions", "the caller's own other sessions"),
    ("regenerate_recovery_codes", "the caller's own codes"),
    ("reauthenticate", "the caller's own password"),
    ("change_password", "the caller's own password"),
    ("passkeys", "the caller's own passkeys"),
    ("start_passkey_registration", "the caller's own passkeys"),
    ("finish_passkey_registration", "the caller's own passkeys"),
    ("remove_passkey", "removes only the caller's own passkeys"),
    ("audit_public_key", "the audit key's public half, published for certificates"),
    ("my_notifications", "the caller's own notifications"),
    ("unread_notifications", "the caller's own notifications"),
    ("mark_notifications_read", "the caller's own notifications"),
];

/// The public methods of `impl Acting` in the handle module's source.
fn acting_methods() -> BTreeSet<String> {
    let source = include_str!("../src/services/handles.rs");
    let start = source.find("impl Acting {").expect("impl Acting");
    let block = &source[start..];
    let end = block.find("\n}\n").expect("end of impl");
    block[..end]
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let rest = l.strip_prefix("pub async fn ").or_else(|| l.strip_prefix("pub fn "))?;
            Some(rest.split(['(', '<']).next()?.to_owned())
        })
        .collect()
}

/// One small text file, as the upload use case takes files.
struct OneFile(Option<IncomingFile>);

impl IncomingFiles for OneFile {
    async fn next_file(&mut self) -> courier_server::Result<Option<IncomingFile>> {
        Ok(self.0.take())
    }
}

fn memo() -> OneFile {
    let bytes = futures_util::stream::once(async { Ok::<_, String>(Bytes::from_static(b"Vault memo\n")) });
    OneFile(Some(IncomingFile { name: Some("memo.txt".into()), bytes: Box::pin(bytes), sealed: None }))
}

fn refused<T>(what: &str, r: courier_server::Result<T>) {
    match r {
        Err(Error::Forbidden | Error::NotFound | Error::MissingScope(_)) => {}
        Err(e) => panic!("{what} as an outsider: {e:?}"),
        Ok(_) => panic!("{what} as an outsider succeeded"),
    }
}

#[tokio::test]
async fn every_handle_method_refuses_an_outsider() {
    let app = start().await;
    let operator = app.courier.operator(&app.operator);
    let pw = || Zeroizing::new(PASSWORD.to_owned());
    let owner = operator.create_user("owner@firm.example", Role::Attorney, pw()).await.unwrap();
    let otto = operator.create_user("otto@firm.example", Role::Paralegal, pw()).await.unwrap();
    let req = MatterRequest { name: "Vault".into(), sensitivity: Some("restricted".into()), ..Default::default() };
    let matter = operator.create_matter(req).await.unwrap().id;
    operator.add_member(&matter, "owner@firm.example", "attorney").await.unwrap();
    let portal = PortalRequest {
        label: "Vault intake".into(),
        matter: Some(matter.clone()),
        expires_at_ms: None,
        passcode: None,
        max_file_size: None,
        allowed_types: None,
        dlp_action: None,
        retention: None,
        owner: None,
        notify: None,
        language: None,
    };
    let issued = operator.create_portal(portal).await.unwrap();
    let (portal, portal_url) = (issued.id, issued.url);
    let doc = operator.upload_to_matter(&matter, &mut memo()).await.unwrap().remove(0).id;
    let share = ShareRequest {
        matter: matter.clone(),
        documents: vec![doc.clone()],
        recipient: "R".into(),
        ..Default::default()
    };
    let share = operator.create_share(share).await.unwrap().link.id;
    let token = operator.create_api_token(&owner.id, "owner's", &[Scope::PortalsRead], None).await.unwrap().id;
    let hold = operator.place_hold(HoldSubject::Matter(matter.clone()), "litigation").await.unwrap().id;
    let vault_ids = [&matter, &portal, &doc, &share, &token, &hold];

    let (_client, cookie) = sign_in(&app, "otto@firm.example", &otto.totp_secret).await;
    let session = app.courier.session(&cookie).await.unwrap().expect("a full session");
    let me = app.courier.staff(&session, None).unwrap();
    let mut tried: BTreeSet<&str> = BTreeSet::new();
    macro_rules! refuses {
        ($name:ident $(, $arg:expr)*) => {{
            tried.insert(stringify!($name));
            refused(stringify!($name), me.$name($($arg),*).await);
        }};
    }
    macro_rules! hides {
        ($name:ident $(, $arg:expr)*) => {{
            tried.insert(stringify!($name));
            let shown = format!("{:?}", me.$name($($arg),*).await.unwrap());
            for id in vault_ids {
                assert!(!shown.contains(id.as_str()), "{} shows {id} to an outsider", stringify!($name));
            }
        }};
    }

    // The matter and its members.
    refuses!(may_on_matter, Action::MatterView, &matter);
    refuses!(matter, &matter);
    refuses!(resolve_matter, &matter, false);
    refuses!(add_member, &matter, "otto@firm.example", "attorney");
    refuses!(remove_member, &matter, "owner@firm.example");
    refuses!(set_matter_archived, &matter, true);
    refuses!(break_glass, &matter, "curious", 3_600_000);
    refuses!(matter_documents, &matter, &PageRequest::default());
    refuses!(record_review, &matter, "", "looked");
    refuses!(access_review);
    hides!(list_matters);
    // Its portal.
    // A new portal in the matter: the form's own answer, the same as for a made-up matter.
    let into = |m: &str| PortalRequest {
        label: "Mine".into(),
        matter: Some(m.to_owned()),
        expires_at_ms: None,
        passcode: None,
        max_file_size: None,
        allowed_types: None,
        dlp_action: None,
        retention: None,
        owner: None,
        notify: None,
        language: None,
    };
    tried.insert("create_portal");
    let ghost = "00000000-0000-4000-8000-000000000000";
    let (real, made_up) = (me.create_portal(into(&matter)).await, me.create_portal(into(ghost)).await);
    match (real, made_up) {
        (Err(a), Err(b)) => assert_eq!(format!("{a:?}").replace(&matter, ghost), format!("{b:?}")),
        _ => panic!("create_portal in someone else's matter succeeded"),
    }
    refuses!(portal, &portal);
    refuses!(portal_documents, &portal, &PageRequest::default());
    refuses!(portal_overview, &portal, &PageRequest::default());
    refuses!(link_locked_until, Unlock::Portal, &portal);
    refuses!(set_portal_enabled, &portal, false);
    refuses!(unlock_portal_passcode, &portal);
    // Even with the portal's current link in hand.
    refuses!(instruction_sheet, &portal, &portal_url);
    refuses!(new_portal_link, &portal);
    refuses!(delete_portal, &portal);
    tried.insert("portal_archive");
    refused("portal_archive", me.portal_archive(&portal).await.map(|(name, _)| name));
    hides!(list_portals);
    // Its document.
    refuses!(all_documents, None, true, &PageRequest::default());
    refuses!(document, &doc);
    refuses!(upload_to_matter, &matter, &mut memo());
    tried.insert("open_document");
    refused("open_document", me.open_document(&doc).await.map(|(d, _)| d));
    refuses!(delete_document, &doc);
    refuses!(release_document, &doc, "curious");
    // Its lifecycle.
    refuses!(mark_filed, std::slice::from_ref(&doc), None);
    refuses!(mark_portal_filed, &portal, None);
    refuses!(place_hold, HoldSubject::Document(doc.clone()), "curious");
    refuses!(place_hold, HoldSubject::Matter(matter.clone()), "curious");
    refuses!(release_hold, &hold, "curious");
    hides!(list_holds, true);
    refuses!(holds_on_document, &doc);
    refuses!(set_portal_retention, &portal, None);
    refuses!(set_portal_notify, &portal, false);
    refuses!(set_matter_retention, &matter, None);
    refuses!(certificate, &doc);
    refuses!(shredded_documents, &matter);
    // Its share.
    let share_req = ShareRequest {
        matter: matter.clone(),
        documents: vec![doc.clone()],
        recipient: "Me".into(),
        ..Default::default()
    };
    refuses!(create_share, share_req);
    refuses!(share, &share);
    refuses!(share_with_rights, &share);
    refuses!(link_locked_until, Unlock::Share, &share);
    refuses!(unlock_share_passcode, &share);
    refuses!(revoke_share, &share);
    hides!(list_shares, None);
    // Its people and their tokens.
    refuses!(list_users);
    refuses!(user_by_email, "owner@firm.example");
    refuses!(invite_user, "new@firm.example", Role::Attorney, "", None);
    refuses!(password_reset_link, &owner.id);
    refuses!(change_user, &owner.id, Change::Disable);
    refuses!(unlock_account, "owner@firm.example");
    refuses!(unlock_user, &owner.id);
    refuses!(end_everyones_sessions);
    refuses!(end_user_sessions, &owner.id);
    refuses!(create_user, "new@firm.example", Role::Admin, pw());
    refuses!(set_user_department, &owner.id, "Tax");
    refuses!(create_api_token, &owner.id, "stolen", &[Scope::DocumentsRead], None);
    refuses!(revoke_api_token, &token);
    hides!(list_api_tokens, Some(owner.id.as_str()));
    // The operator's steps.
    refuses!(audit_read, courier_server::services::audit::AuditAction::PortalList, "portals", serde_json::json!({}));
    refuses!(key_status);
    refuses!(rotate_master_key);
    refuses!(rewrap_all);
    refuses!(retire_master_key, 1);
    refuses!(maintain_once);
    refuses!(verify_documents);
    refuses!(create_backup, &courier_server::backup::Location::Dir("/tmp".into()), "age1x");
    refuses!(record_restore, std::slice::from_ref(&doc), "b", serde_json::json!({}));
    tried.insert("address_hash");
    refused("address_hash", me.address_hash([203, 0, 113, 7].into()));
    refuses!(sweep_blobs, None);
    refuses!(issue_setup_link);
    refuses!(verify_audit);
    refuses!(restart_audit_log, "curious", 0);
    refuses!(export_audit, 0, |_| Ok(()));
    // Watch and respond: the admin's page, the switch, the forensic bundle.
    refuses!(watch_overview);
    refuses!(lockdown_status);
    // The firm's profile (the Firm page).
    let hijacked = FirmProfile { firm_name: Some("Hijacked".into()), ..FirmProfile::default() };
    refuses!(firm_profile);
    refuses!(set_firm_profile, &hijacked, LogoChange::Remove);
    refuses!(set_lockdown, true, "curious");
    refuses!(set_lockdown_confirmed, true, "curious", pw(), "000000");
    refuses!(incident_export, 0, std::path::Path::new("/tmp/never-written.tar"));
    refuses!(explain, "owner@firm.example", Action::MatterView, &format!("matter:{matter}"), [127, 0, 0, 1].into(), 0);
    assert!(!me.may(Action::MatterBreakGlass, &Resource::Firm).await.unwrap(), "a paralegal may not break glass");

    // Nothing of the matter changed.
    let still = operator.portal(&portal).await.unwrap();
    assert!(still.enabled, "the portal is still open");
    assert_eq!(
        operator.matter_documents(&matter, &PageRequest::default()).await.unwrap().items.len(),
        1,
        "the document is still there"
    );
    assert_eq!(operator.share(&share).await.unwrap().status, "active", "the share still works");
    assert!(!operator.matter(&matter).await.unwrap().archived, "the matter is not archived");
    assert!(operator.list_holds(false).await.unwrap().iter().any(|h| h.id == hold), "the hold still holds");
    let doc_now = operator.document(&doc).await.unwrap();
    assert!(doc_now.filed_at.is_none() && doc_now.hold, "the document is neither filed nor let go");
    let owner_tokens = operator.list_api_tokens(Some(&owner.id)).await.unwrap();
    assert!(owner_tokens.iter().all(|t| t.revoked_at.is_none()), "the owner's token still works");
    assert!(!operator.lockdown_status().await.unwrap().active, "not locked down");
    assert_ne!(operator.firm_profile().await.unwrap().firm_name, "Hijacked", "the brand is the firm's");
    assert!(!std::path::Path::new("/tmp/never-written.tar").exists(), "no bundle was written");

    // Every method of the handle was tried, or is listed as not about the matter.
    let exempt: BTreeSet<&str> = NOT_ABOUT_THE_MATTER.iter().map(|(m, _)| *m).collect();
    let methods = acting_methods();
    assert!(methods.len() > 60, "the parser found the methods: {methods:?}");
    let untried: Vec<_> =
        methods.iter().filter(|m| !tried.contains(m.as_str()) && !exempt.contains(m.as_str())).collect();
    assert!(untried.is_empty(), "handle methods no outsider case covers: {untried:?}");
}
