use super::*;

fn ctx() -> RequestContext {
    RequestContext { ip: "10.1.2.3".parse().unwrap(), at_ms: 12 * 3_600_000, via: "session", mfa: "totp".into() }
}

fn user(id: &str, role: &str) -> Principal {
    Principal { id: id.into(), role: role.into(), department: String::new() }
}

fn matter() -> MatterFacts {
    MatterFacts {
        id: "m1".into(),
        sensitivity: "normal".into(),
        attorneys: vec!["att".into()],
        paralegals: vec!["para".into()],
        ..Default::default()
    }
}

fn doc(m: MatterFacts) -> Resource {
    Resource::Document {
        matter: m,
        id: "d1".into(),
        kind: "pdf".into(),
        scan_status: "clean".into(),
        held: false,
        watermarkable: true,
    }
}

#[test]
fn the_default_policies_load_and_deny_by_default() {
    let a = Authorizer::load(None, 0).unwrap();
    assert!(a.policy_count() >= 9);
    let outsider = a.decide(&user("x", "attorney"), Action::DocumentDownload, &doc(matter()), &ctx());
    assert!(!outsider.allowed);
    assert!(outsider.policies.is_empty(), "{outsider:?}");
    assert!(outsider.errors.is_empty(), "{outsider:?}");
}

#[test]
fn members_work_attorneys_delete_paralegals_do_not() {
    let a = Authorizer::load(None, 0).unwrap();
    let d = doc(matter());
    let para = a.decide(&user("para", "paralegal"), Action::DocumentDownload, &d, &ctx());
    assert!(para.allowed);
    assert_eq!(para.policies, ["members-work-in-their-matters"]);
    assert!(!a.decide(&user("para", "paralegal"), Action::DocumentDelete, &d, &ctx()).allowed);
    assert!(a.decide(&user("att", "attorney"), Action::DocumentDelete, &d, &ctx()).allowed);
}

#[test]
fn admins_manage_but_do_not_read_unless_break_glass() {
    let a = Authorizer::load(None, 0).unwrap();
    let admin = user("adm", "admin");
    assert!(a.decide(&admin, Action::MatterManageMembers, &Resource::Matter(matter()), &ctx()).allowed);
    assert!(!a.decide(&admin, Action::DocumentDownload, &doc(matter()), &ctx()).allowed);
    let mut glass = matter();
    glass.break_glass = vec!["adm".into()];
    let d = a.decide(&admin, Action::DocumentDownload, &doc(glass.clone()), &ctx());
    assert_eq!(d.policies, ["break-glass-reads"]);
    assert!(!a.decide(&admin, Action::DocumentDelete, &doc(glass), &ctx()).allowed);
}

#[test]
fn held_documents_and_archived_matters_are_forbidden() {
    let a = Authorizer::load(None, 0).unwrap();
    let held = Resource::Document {
        matter: matter(),
        id: "d".into(),
        kind: "pdf".into(),
        scan_status: "quarantined".into(),
        held: true,
        watermarkable: true,
    };
    let d = a.decide(&user("att", "attorney"), Action::DocumentShare, &held, &ctx());
    assert_eq!((d.allowed, d.policies.as_slice()), (false, &["held-documents-are-not-shared".to_owned()][..]));
    let mut archived = matter();
    archived.archived = true;
    let d = a.decide(&user("att", "attorney"), Action::PortalCreate, &Resource::Matter(archived), &ctx());
    assert_eq!(d.policies, ["archived-matters-take-nothing-new"]);
}

fn firm_dir(policy: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("firm.cedar"), policy).unwrap();
    dir
}

#[test]
fn a_firm_policy_restricts_by_network_and_hour() {
    let dir = firm_dir(
        r#"@id("restricted-office-only")
forbid (principal, action == Courier::Action::"document.download", resource)
when { resource.sensitivity == "restricted" }
unless { context.source_ip.isInRange(ip("10.0.0.0/8")) && context.hour >= 7 && context.hour < 21 };
"#,
    );
    let a = Authorizer::load(Some(dir.path()), 0).unwrap();
    let mut m = matter();
    m.sensitivity = "restricted".into();
    let para = user("para", "paralegal");
    assert!(a.decide(&para, Action::DocumentDownload, &doc(m.clone()), &ctx()).allowed);
    let outside = RequestContext { ip: "192.0.2.1".parse().unwrap(), ..ctx() };
    let d = a.decide(&para, Action::DocumentDownload, &doc(m.clone()), &outside);
    assert_eq!((d.allowed, d.policies.as_slice()), (false, &["restricted-office-only".to_owned()][..]));
    let night = RequestContext { at_ms: 23 * 3_600_000, ..ctx() };
    assert!(!a.decide(&para, Action::DocumentDownload, &doc(m.clone()), &night).allowed);
    // An office an hour ahead of UTC: 20:30 UTC is 21:30 there.
    let late = RequestContext { at_ms: 20 * 3_600_000 + 1_800_000, ..ctx() };
    assert!(a.decide(&para, Action::DocumentDownload, &doc(m.clone()), &late).allowed);
    let ahead = Authorizer::load(Some(dir.path()), 60).unwrap();
    assert!(!ahead.decide(&para, Action::DocumentDownload, &doc(m), &late).allowed);
}

#[test]
fn a_bad_policy_file_is_named_with_its_line() {
    let dir = firm_dir("// firm rules\n\npermit (principal, action, resource)\nwhen { resource.nonsense == 1 ;\n");
    let e = Authorizer::load(Some(dir.path()), 0).err().unwrap();
    assert!(e.contains("firm.cedar:4:"), "{e}");
    let dir = firm_dir("permit (principal, action, resource)\nwhen {\n  principal.rank == \"partner\" };\n");
    let e = Authorizer::load(Some(dir.path()), 0).err().unwrap();
    assert!(e.contains("firm.cedar:3:"), "{e}");
}

#[test]
fn weekday_and_minute_come_from_the_clock() {
    let dir = firm_dir(
        r#"@id("no-weekend-shares")
forbid (principal, action == Courier::Action::"share.create", resource) when { context.weekday >= 6 };
"#,
    );
    let a = Authorizer::load(Some(dir.path()), 0).unwrap();
    let para = user("para", "paralegal");
    // 1970-01-03 was a Saturday; 1970-01-05 a Monday.
    let saturday = RequestContext { at_ms: 2 * 86_400_000 + 1000, ..ctx() };
    let monday = RequestContext { at_ms: 4 * 86_400_000 + 1000, ..ctx() };
    assert!(!a.decide(&para, Action::ShareCreate, &Resource::Matter(matter()), &saturday).allowed);
    assert!(a.decide(&para, Action::ShareCreate, &Resource::Matter(matter()), &monday).allowed);
}
