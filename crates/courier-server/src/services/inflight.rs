//! Caps on work in flight per key (a portal link, a client address): a slot is taken for
//! every key at once or not at all, and given back when dropped. Entries exist only while a
//! slot is held, so the map is as small as the work in flight.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The key of a client address for per-address caps: an IPv4 address, or an IPv6 address's
/// /64 (one subscriber's network: a single IPv6 host can use millions of addresses).
pub fn address_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[derive(Default)]
pub struct InFlight {
    counts: Mutex<HashMap<String, usize>>,
}

/// Held while the work runs.
pub struct Slot {
    registry: Arc<InFlight>,
    keys: Vec<String>,
}

impl InFlight {
    /// A slot under every `(key, cap)`, or `None` when any key is at its cap.
    pub fn try_take(self: &Arc<Self>, caps: &[(String, usize)]) -> Option<Slot> {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if caps.iter().any(|(key, cap)| counts.get(key).copied().unwrap_or(0) >= *cap) {
            return None;
        }
        for (key, _) in caps {
            *counts.entry(key.clone()).or_insert(0) += 1;
        }
        Some(Slot { registry: self.clone(), keys: caps.iter().map(|(k, _)| k.clone()).collect() })
    }

    #[cfg(test)]
    fn held(&self, key: &str) -> usize {
        self.counts.lock().map(|c| c.get(key).copied().unwrap_or(0)).unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.registry.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for key in &self.keys {
            if let Some(n) = counts.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let a: std::net::IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: std::net::IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: std::net::IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        assert_eq!(address_key("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1");
    }

    #[test]
    fn all_keys_or_none_and_given_back_on_drop() {
        let r = Arc::new(InFlight::default());
        let caps = |ip: &str| vec![("link:a".to_owned(), 2), (format!("ip:{ip}"), 1)];
        let one = r.try_take(&caps("1")).unwrap();
        assert!(r.try_take(&caps("1")).is_none(), "the address is at its cap");
        assert_eq!(r.held("link:a"), 1, "a refused take holds nothing");
        let two = r.try_take(&caps("2")).unwrap();
        assert!(r.try_take(&caps("3")).is_none(), "the link is at its cap");
        drop(one);
        drop(two);
        assert_eq!(r.held("link:a"), 0);
        assert!(r.counts.lock().unwrap().is_empty());
    }
}
