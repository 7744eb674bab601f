//! Checksums and structure rules of the numbers the detectors look for. Each takes the digits
//! (and letters) of a candidate with its separators already removed.

/// US social security number: area 001-899 except 666, group 01-99, serial 0001-9999
/// (SSA rules since 2011; 9xx areas are ITINs, never SSNs). Known advertising numbers too.
pub fn ssn(d: &[u8]) -> bool {
    if d.len() != 9 || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    let (area, group, serial) = (n(0..3), n(3..5), n(5..9));
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && d != b"078051120" && d != b"219099999"
}

/// Luhn (mod 10) checksum.
pub fn luhn(d: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, b) in d.iter().rev().enumerate() {
        let mut v = u32::from(b - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// Payment card number: issuer range (IIN) with a length that issuer uses, and Luhn.
pub fn payment_card(d: &[u8]) -> bool {
    if !(13..=19).contains(&d.len()) || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let prefix = |n: usize| d[..n].iter().fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    let len = d.len();
    let issuer = match d[0] {
        b'4' => matches!(len, 13 | 16 | 19),                     // Visa
        b'5' => (51..=55).contains(&prefix(2)) && len == 16,     // Mastercard
        b'2' => (2221..=2720).contains(&prefix(4)) && len == 16, // Mastercard 2-series
        b'3' => {
            let p2 = prefix(2);
            ((p2 == 34 || p2 == 37) && len == 15)                             // American Express
                || ((3528..=3589).contains(&prefix(4)) && (16..=19).contains(&len)) // JCB
                || (((300..=305).contains(&prefix(3)) || p2 == 36 || p2 == 38 || p2 == 39) && (14..=19).contains(&len)) // Diners
        }
        b'6' => {
            let (p2, p3, p4) = (prefix(2), prefix(3), prefix(4));
            ((p4 == 6011 || p2 == 65 || (644..=649).contains(&p3)) && (16..=19).contains(&len)) // Discover
                || (p2 == 62 && (16..=19).contains(&len)) // UnionPay
        }
        _ => false,
    };
    issuer && luhn(d)
}

/// IBAN: a known country with its length, then the ISO 13616 mod-97 check (the
/// `iban_validate` crate carries the per-country registry).
pub fn iban(s: &[u8]) -> bool {
    std::str::from_utf8(s).is_ok_and(|s| s.parse::<iban::Iban>().is_ok())
}

/// French social security number (NIR): sex, year, month, department (2A/2B for Corsica),
/// commune, order number, and the key `97 - (number mod 97)`. Takes the 15 characters.
pub fn fr_nir(s: &[u8]) -> bool {
    if s.len() != 15 {
        return false;
    }
    let mut body = [0u8; 15];
    for (b, c) in body.iter_mut().zip(s) {
        *b = c.to_ascii_uppercase();
    }
    // Corsica: 2A counts as 19 and 2B as 18 for the key.
    match &body[5..7] {
        b"2A" => body[5..7].copy_from_slice(b"19"),
        b"2B" => body[5..7].copy_from_slice(b"18"),
        _ => {}
    }
    if !body.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let num = |r: std::ops::Range<usize>| body[r].iter().fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
    let sex = num(0..1);
    let month = num(3..5);
    let valid_month = (1..=12).contains(&month) || (20..=42).contains(&month) || (50..=99).contains(&month);
    if !matches!(sex, 1 | 2 | 3 | 4 | 7 | 8) || !valid_month || num(10..13) == 0 {
        return false;
    }
    let key = num(13..15);
    (1..=97).contains(&key) && 97 - num(0..13) % 97 == key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssn_rules() {
        assert!(ssn(b"123456789"));
        assert!(!ssn(b"000456789")); // area 000
        assert!(!ssn(b"666456789"));
        assert!(!ssn(b"912456789")); // ITIN range
        assert!(!ssn(b"123006789")); // group 00
        assert!(!ssn(b"123450000")); // serial 0000
        assert!(!ssn(b"078051120")); // the Woolworth wallet number
    }

    #[test]
    fn cards() {
        assert!(payment_card(b"4111111111111111"));
        assert!(payment_card(b"5555555555554444"));
        assert!(payment_card(b"378282246310005"));
        assert!(payment_card(b"6011111111111117"));
        assert!(!payment_card(b"4111111111111112")); // Luhn
        assert!(!payment_card(b"1234567812345670")); // no issuer starts with 1
        assert!(!payment_card(b"37828224631000")); // Amex with 14 digits
    }

    #[test]
    fn ibans() {
        assert!(iban(b"FR7630006000011234567890189"));
        assert!(iban(b"DE89370400440532013000"));
        assert!(iban(b"GB82WEST12345698765432"));
        assert!(!iban(b"FR7630006000011234567890188")); // check digits
        assert!(!iban(b"DE8937040044053201300")); // one character short
    }

    #[test]
    fn nirs() {
        // 1 85 05 78 006 084, key 97 - (1850578006084 mod 97)
        let body = 1_850_578_006_084u64;
        let key = 97 - body % 97;
        assert!(fr_nir(format!("{body}{key:02}").as_bytes()));
        assert!(!fr_nir(format!("{body}{:02}", (key % 97) + 1).as_bytes()));
        // Corsica: 2A counts as 19.
        let corsica = 2_851_019_006_084u64;
        let key = 97 - corsica % 97;
        assert!(fr_nir(format!("28510{}006084{key:02}", "2A").as_bytes()));
        assert!(!fr_nir(b"585057800608436")); // sex digit 5
    }
}
