//! Certificates of deletion (`docs/format.md`): a shredded document's facts, the audit event
//! of its shredding and a signed audit head, as canonical JSON (RFC 8785) signed with the
//! audit key (Ed25519). Anyone with the audit public key checks one offline.

use courier_core::time_fmt::rfc3339;
use courier_crypto::audit::{verify_head, verify_signature};
use serde_json::{Map, Value, json};

use super::audit::AuditAction;
use super::authz::Action;
use super::{Caller, Courier};
use crate::error::{Said, conflict};
use crate::{Error, Result};

/// The `certificate` field: what this document is, and its version.
pub const KIND: &str = "courier certificate of deletion v1";

impl Courier {
    /// The audit key's Ed25519 public key, hex: what certificates and heads verify against.
    pub fn audit_public_key(&self) -> String {
        hex::encode(self.audit.signer().public_key())
    }

    /// Issues the certificate of deletion of a shredded document (`NotFound` for a live one:
    /// there is nothing to certify yet). The issue is audited first, so the signed head in
    /// the certificate already covers it.
    pub(super) async fn certificate(&self, caller: &Caller, id: &str) -> Result<Value> {
        let d = courier_store::documents::get(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        self.authorize(caller, Action::MatterView, &self.document_resource(&d).await?).await?;
        let not_shredded = || {
            conflict(
                format!("document {id} is not shredded; a certificate exists only once it is"),
                Said::new("staff-refused-not-shredded"),
            )
        };
        if d.deleted_at.is_none() || d.wrapped_dek.is_some() {
            return Err(not_shredded());
        }
        // The facts that matter come from the shredding event in the verified chain, not from
        // the row (which someone with database access could have edited): its time, reason,
        // size and SHA-256. The name is the row's: client-typed text is never in the trail.
        let target = format!("document:{id}");
        let event = self.audit.chained_event(&self.db, &target, AuditAction::DocumentDelete).await?;
        let details: Value = serde_json::from_str(&event.details).map_err(|e| Error::internal("event details", e))?;
        let (Some(reason), Some(size), Some(sha256)) =
            (details["reason"].as_str(), details["size"].as_i64(), details["sha256"].as_str())
        else {
            return Err(conflict(
                format!("the shredding of {id} predates certificates (its event names no reason)"),
                Said::new("staff-refused-certificate-predates"),
            ));
        };
        if details["document_id"] != id {
            return Err(not_shredded());
        }
        self.audit
            .record(&self.db, caller, AuditAction::DocumentCertificate, &target, json!({ "document_id": id }))
            .await?;
        let head = courier_store::audit::head(self.db.pool())
            .await?
            .ok_or_else(|| Error::Internal("the audit head row is missing".into()))?;
        let mut cert = json!({
            "certificate": KIND,
            "document": {
                "id": d.id, "name": d.name, "size": size, "sha256": sha256,
                "matter_id": details["matter_id"], "portal_id": details["portal_id"],
                "uploaded_at": rfc3339(d.uploaded_at), "shredded_at": rfc3339(event.at), "reason": reason,
            },
            "shredding_event": { "seq": event.seq, "hash": hex::encode(&event.hash), "at": rfc3339(event.at) },
            "audit_head": {
                "seq": head.seq, "hash": hex::encode(&head.hash), "at": rfc3339(head.at), "at_ms": head.at,
                "signature": hex::encode(&head.signature),
            },
            "issued_at": rfc3339(self.clock.now_ms()),
            "public_key": self.audit_public_key(),
        });
        let signature = self.audit.signer().sign_bytes(&canonical(&cert)?);
        cert["signature"] = Value::String(hex::encode(signature));
        Ok(cert)
    }
}

/// RFC 8785 (JCS) for the values a certificate holds: objects with keys sorted by UTF-16
/// code units, no whitespace, strings escaped as serde_json does (the same rules), integers
/// only. Written here because it is twenty lines for this subset; a float is refused rather
/// than printed in a way another implementation might not reproduce.
pub fn canonical(value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<()> {
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => {
            out.extend(serde_json::to_vec(value).map_err(|e| Error::internal("canonical JSON", e))?);
        }
        Value::Number(n) if n.is_i64() || n.is_u64() => out.extend(n.to_string().as_bytes()),
        Value::Number(_) => return Err(Error::BadRequest("a certificate holds no fractional number".into())),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(&Value::String(key.clone()), out)?;
                out.push(b':');
                write_canonical(&map[key], out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// What a genuine certificate says, for `certificate verify`.
#[derive(Debug, serde::Serialize)]
pub struct CertificateCheck {
    pub ok: bool,
    pub document_id: Option<String>,
    pub shredded_at: Option<String>,
    pub reason: Option<String>,
    pub error: Option<String>,
}

/// Checks a certificate offline against the audit public key `trusted_key` (hex): its
/// signature over the canonical JSON of everything but `signature`, the signed head's own
/// signature, that the head comes at or after the shredding event, and that it certifies a
/// shredding (a document with a shredding time and reason).
pub fn verify_certificate(text: &[u8], trusted_key: &str) -> CertificateCheck {
    let mut check = CertificateCheck { ok: false, document_id: None, shredded_at: None, reason: None, error: None };
    match check_certificate(text, trusted_key) {
        Ok((id, at, reason)) => {
            check.ok = true;
            (check.document_id, check.shredded_at, check.reason) = (Some(id), Some(at), Some(reason));
        }
        Err(e) => check.error = Some(e),
    }
    check
}

fn check_certificate(text: &[u8], trusted_key: &str) -> std::result::Result<(String, String, String), String> {
    let key = hex::decode(trusted_key.trim()).map_err(|_| "the public key is not hex".to_owned())?;
    if key.len() != 32 {
        return Err("the public key is not a 32-byte Ed25519 key".into());
    }
    // Duplicate keys are refused: a reader keeping the first of two `reason`s would read
    // another certificate than the one whose last `reason` the signature covers.
    let value = serde_json::from_slice::<Strict>(text).map_err(|e| format!("not JSON: {e}"))?.0;
    let mut fields: Map<String, Value> = match value {
        Value::Object(m) => m,
        _ => return Err("not a certificate (a JSON object)".into()),
    };
    let signature = match fields.remove("signature") {
        Some(Value::String(s)) => hex::decode(s).map_err(|_| "the signature is not hex".to_owned())?,
        _ => return Err("the certificate is not signed".into()),
    };
    let str_at = |v: &Value, path: &[&str]| -> std::result::Result<String, String> {
        path.iter()
            .try_fold(v, |v, k| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("{} is missing", path.join(".")))
    };
    let int_at = |v: &Value, path: &[&str]| -> std::result::Result<i64, String> {
        path.iter()
            .try_fold(v, |v, k| v.get(k))
            .and_then(Value::as_i64)
            .ok_or_else(|| format!("{} is missing", path.join(".")))
    };
    let body = Value::Object(fields);
    if str_at(&body, &["certificate"])? != KIND {
        return Err(format!("not a {KIND}"));
    }
    if str_at(&body, &["public_key"])?.to_ascii_lowercase() != hex::encode(&key) {
        return Err("signed with another key than the one given".into());
    }
    let canonical = canonical(&body).map_err(|e| e.to_string())?;
    if !verify_signature(&key, &canonical, &signature) {
        return Err("the signature does not match: the certificate was altered or not made with this key".into());
    }
    let head_hash: [u8; 32] = hex::decode(str_at(&body, &["audit_head", "hash"])?)
        .ok()
        .and_then(|h| h.try_into().ok())
        .ok_or("audit_head.hash is not a SHA-256 hash")?;
    let head_sig =
        hex::decode(str_at(&body, &["audit_head", "signature"])?).map_err(|_| "audit_head.signature is not hex")?;
    let head_seq = int_at(&body, &["audit_head", "seq"])?;
    if !verify_head(&key, head_seq, &head_hash, int_at(&body, &["audit_head", "at_ms"])?, &head_sig) {
        return Err("the audit head's signature does not verify".into());
    }
    if int_at(&body, &["shredding_event", "seq"])? > head_seq {
        return Err("the signed audit head comes before the shredding event".into());
    }
    let reason = str_at(&body, &["document", "reason"])?;
    reason.parse::<courier_core::ShredReason>().map_err(|e| e.to_string())?;
    Ok((str_at(&body, &["document", "id"])?, str_at(&body, &["document", "shredded_at"])?, reason))
}

/// JSON that refuses an object with a key twice (RFC 8785 input must have unique keys).
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("the key {key:?} appears twice")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_leaves_no_space() {
        let v = json!({ "b": [1, "x\u{1}\n"], "a": { "é": null, "Z": true }, "": -5 });
        let out = String::from_utf8(canonical(&v).unwrap()).unwrap();
        assert_eq!(out, r#"{"":-5,"a":{"Z":true,"é":null},"b":[1,"x\u0001\n"]}"#);
        assert!(canonical(&json!({ "f": 1.5 })).is_err());
    }

    #[test]
    fn a_key_twice_is_not_json_a_certificate_may_be() {
        assert!(serde_json::from_str::<Strict>(r#"{"a":{"b":1,"b":2}}"#).is_err());
        assert!(serde_json::from_str::<Strict>(r#"{"a":{"b":1,"c":[{"b":2}]}}"#).is_ok());
    }

    #[test]
    fn keys_sort_by_utf16_code_units() {
        // U+FF61 sorts after U+1F600 in UTF-8 byte order but before it in UTF-16 (RFC 8785 3.2.3).
        let v = json!({ "\u{1F600}": 1, "\u{FF61}": 2 });
        let out = String::from_utf8(canonical(&v).unwrap()).unwrap();
        assert_eq!(out, "{\"\u{1F600}\":1,\"\u{FF61}\":2}");
    }
}
