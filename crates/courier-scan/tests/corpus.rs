//! The detectors against a labelled corpus generated here: for each kind, valid values in
//! realistic lines (positives) and near misses (failing checksums, wrong lengths, ordinary
//! numbers) as negatives, written out as plain text, CSV, PDF, DOCX, XLSX and ODT and read
//! back through the whole inspector. Recall at least 95 % and false positives at most 2 % per
//! detector and format.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use courier_scan::FindingKind;
use support::Rng;

const N: usize = 200;

fn luhn_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let mut v = u32::from(b - b'0');
            if i % 2 == 0 {
                v *= 2;
                if v > 9 {
                    v -= 9;
                }
            }
            v
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

fn group(digits: &str, sizes: &[usize], sep: &str) -> String {
    let mut out = Vec::new();
    let mut at = 0;
    for &n in sizes {
        out.push(&digits[at..at + n]);
        at += n;
    }
    out.join(sep)
}

fn card(r: &mut Rng) -> String {
    let (prefix, len) =
        *r.pick(&[("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16), ("4", 13)]);
    let mut d = prefix.to_owned();
    d.push_str(&r.digits(len - prefix.len() - 1));
    d.push(luhn_digit(&d));
    format_card(r, &d)
}

fn format_card(r: &mut Rng, d: &str) -> String {
    match (d.len(), r.below(3)) {
        (15, 0) => group(d, &[4, 6, 5], " "),
        (16, 0) => group(d, &[4, 4, 4, 4], " "),
        (16, 1) => group(d, &[4, 4, 4, 4], "-"),
        _ => d.to_owned(),
    }
}

fn card_near_miss(r: &mut Rng) -> String {
    let mut d = String::from("4");
    d.push_str(&r.digits(14));
    let check = luhn_digit(&d);
    match r.below(3) {
        0 => {
            let wrong = char::from(b'0' + ((check as u8 - b'0' + 1 + r.below(8) as u8) % 10));
            d.push(wrong); // checksum fails
        }
        1 => {
            d = format!("9{}", &d[1..]); // no issuer starts with 9
            d.push(luhn_digit(&d));
        }
        _ => {
            d.truncate(11); // 12 digits: too short for a card
            d.push(luhn_digit(&d));
        }
    }
    format_card(r, &d)
}

fn ssn_parts(r: &mut Rng) -> (u64, u64, u64) {
    let mut area = 1 + r.below(899);
    if area == 666 {
        area = 665;
    }
    (area, 1 + r.below(99), 1 + r.below(9999))
}

fn ssn(r: &mut Rng) -> String {
    let (a, g, s) = ssn_parts(r);
    match r.below(3) {
        0 => format!("{a:03}-{g:02}-{s:04}"),
        1 => format!("{a:03} {g:02} {s:04}"),
        _ => format!("SSN {a:03}{g:02}{s:04}"),
    }
}

fn ssn_near_miss(r: &mut Rng) -> String {
    let (a, g, s) = ssn_parts(r);
    match r.below(5) {
        0 => {
            let itin = 900 + r.below(100);
            format!("{:03}-{g:02}-{s:04}", *r.pick(&[0, 666, itin]))
        }
        1 => format!("{a:03}-00-{s:04}"),
        2 => format!("{a:03}-{g:02}-0000"),
        3 => format!("order {a:03}{g:02}{s:04}"),      // unlabelled nine digits
        _ => format!("{a:03}-{g:02}-{:03}", s % 1000), // eight digits
    }
}

const IBAN_SHAPES: &[(&str, &str)] =
    &[("FR", "23"), ("DE", "18"), ("ES", "20"), ("BE", "12"), ("NL", "ABNA10"), ("GB", "NWBK14")];

fn iban_check(country: &str, bban: &str) -> u64 {
    let rearranged = format!("{bban}{country}00");
    let mut rem = 0u64;
    for c in rearranged.chars() {
        let v = c.to_digit(36).expect("alphanumeric") as u64;
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    98 - rem
}

fn iban_raw(r: &mut Rng) -> String {
    let (country, shape) = *r.pick(IBAN_SHAPES);
    let bban = match shape.parse::<usize>() {
        Ok(n) => r.digits(n),
        Err(_) => format!("{}{}", &shape[..4], r.digits(shape[4..].parse().expect("digits"))),
    };
    // France's BBAN ends in a RIB key; iban_validate checks only the shape and mod 97.
    format!("{country}{:02}{bban}", iban_check(country, &bban))
}

fn spaced(s: &str) -> String {
    s.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).expect("ascii")).collect::<Vec<_>>().join(" ")
}

fn iban(r: &mut Rng) -> String {
    let raw = iban_raw(r);
    if r.below(2) == 0 { spaced(&raw) } else { raw }
}

fn iban_near_miss(r: &mut Rng) -> String {
    let mut raw = iban_raw(r);
    if r.below(2) == 0 {
        let check: u64 = raw[2..4].parse().expect("check digits");
        raw.replace_range(2..4, &format!("{:02}", (check + 1 + r.below(90)) % 97 + 2));
        if iban_ok(&raw) {
            raw.replace_range(2..4, "01"); // 01 is never a valid check
        }
    } else {
        raw.pop(); // one character short
    }
    spaced(&raw)
}

fn iban_ok(s: &str) -> bool {
    courier_scan::dlp::validate::iban(s.as_bytes())
}

fn nir_body(r: &mut Rng) -> (String, u64) {
    let corsica = r.below(10) == 0;
    let (dept_text, dept_num) = if corsica {
        if r.below(2) == 0 { ("2A".to_owned(), 19) } else { ("2B".to_owned(), 18) }
    } else {
        let d = 1 + r.below(95);
        let d = if d == 20 { 21 } else { d };
        (format!("{d:02}"), d)
    };
    let (sex, yy, mm) = (1 + r.below(2), r.below(100), 1 + r.below(12));
    let (commune, order) = (1 + r.below(990), 1 + r.below(999));
    let text = format!("{sex}{yy:02}{mm:02}{dept_text}{commune:03}{order:03}");
    let num: u64 = format!("{sex}{yy:02}{mm:02}{dept_num:02}{commune:03}{order:03}").parse().expect("digits");
    (text, 97 - num % 97)
}

fn format_nir(r: &mut Rng, body: &str, key: u64) -> String {
    if r.below(2) == 0 {
        format!(
            "{} {} {} {} {} {} {key:02}",
            &body[0..1],
            &body[1..3],
            &body[3..5],
            &body[5..7],
            &body[7..10],
            &body[10..13]
        )
    } else {
        format!("{body}{key:02}")
    }
}

fn nir(r: &mut Rng) -> String {
    let (body, key) = nir_body(r);
    format_nir(r, &body, key)
}

fn nir_near_miss(r: &mut Rng) -> String {
    let (mut body, key) = nir_body(r);
    match r.below(3) {
        0 => format_nir(r, &body, (key % 97) + 1), // wrong key
        1 => {
            body.replace_range(0..1, "5"); // no such sex digit
            format_nir(r, &body, key)
        }
        _ => {
            body.replace_range(3..5, &format!("{}", 13 + r.below(7))); // month 13-19
            format_nir(r, &body, key)
        }
    }
}

const NAMES: &[&str] = &["jane.doe", "j.smith", "marie-claire.dupont", "o.brien", "k_tanaka", "legal+intake"];
const DOMAINS: &[&str] = &["example.com", "dewey-partners.law", "mail.example.co.uk", "cabinet-martin.fr"];

fn email(r: &mut Rng) -> String {
    format!("{}{}@{}", r.pick(NAMES), r.below(100), r.pick(DOMAINS))
}

fn email_near_miss(r: &mut Rng) -> String {
    let (n, d) = (*r.pick(NAMES), *r.pick(DOMAINS));
    match r.below(4) {
        0 => format!("{n} at {}", d.replace('.', " dot ")),
        1 => format!("{n}@localhost"),
        2 => format!("{n}@@{d}"),
        _ => format!("{n}@{}", d.split('.').next().unwrap_or("example")),
    }
}

fn phone(r: &mut Rng) -> String {
    let d = |r: &mut Rng, n| r.digits(n);
    match r.below(5) {
        0 => format!("+33 {} {} {} {} {}", 6 + r.below(2), d(r, 2), d(r, 2), d(r, 2), d(r, 2)),
        1 => format!("0{} {} {} {} {}", 1 + r.below(9), d(r, 2), d(r, 2), d(r, 2), d(r, 2)),
        2 => format!("({}{}) {}{}-{}", 2 + r.below(8), d(r, 2), 2 + r.below(8), d(r, 2), d(r, 4)),
        3 => format!("{}{}-{}{}-{}", 2 + r.below(8), d(r, 2), 2 + r.below(8), d(r, 2), d(r, 4)),
        _ => format!("+44 20 {} {}", d(r, 4), d(r, 4)),
    }
}

fn phone_near_miss(r: &mut Rng) -> String {
    match r.below(6) {
        0 => format!("invoice 2026-{}", r.digits(4)),
        1 => format!("case no. 1:24-cv-{}", r.digits(5)),
        2 => format!("{}", 1_000_000_000 + r.below(8_999_999_999)), // ten digits, no separators
        3 => format!("00{}-{}-{}", r.digits(2), r.digits(3), r.digits(3)),
        4 => format!("1{}-{}-{}", r.digits(2), r.digits(3), r.digits(4)),
        _ => format!("EUR {} {} {},{}", 1 + r.below(9), r.digits(3), r.digits(3), r.digits(2)),
    }
}

/// Sentences a value appears in, as in a client's documents.
fn line(r: &mut Rng, i: usize, value: &str) -> String {
    let who = *r.pick(&["Mr Alvarez", "Ms Chen", "the claimant", "Dr. Okafor", "the tenant"]);
    match r.below(4) {
        0 => format!("Record {i}: details for {who} are {value}."),
        1 => format!("Please note {value} for {who}"),
        2 => format!("{who} confirmed ({value}) on the call"),
        _ => format!("Ref {i} - {value}"),
    }
}

type Generator = fn(&mut Rng) -> String;

const KINDS: &[(FindingKind, Generator, Generator)] = &[
    (FindingKind::Ssn, ssn, ssn_near_miss),
    (FindingKind::PaymentCard, card, card_near_miss),
    (FindingKind::Iban, iban, iban_near_miss),
    (FindingKind::FrNir, nir, nir_near_miss),
    (FindingKind::Email, email, email_near_miss),
    (FindingKind::Phone, phone, phone_near_miss),
];

#[derive(Clone, Copy, Debug)]
enum Format {
    Text,
    Csv,
    Pdf,
    Docx,
    Xlsx,
    Odt,
}

fn render(format: Format, lines: &[String]) -> (Vec<u8>, &'static str) {
    match format {
        Format::Text => (lines.join("\n").into_bytes(), "corpus.txt"),
        Format::Csv => {
            let mut csv = String::from("id,client,note\n");
            for (i, l) in lines.iter().enumerate() {
                csv.push_str(&format!("{i},\"Doe, J.\",\"{}\"\n", l.replace('"', "\"\"")));
            }
            (csv.into_bytes(), "corpus.csv")
        }
        Format::Pdf => (support::pdf(&lines.chunks(60).map(<[String]>::to_vec).collect::<Vec<_>>()), "corpus.pdf"),
        Format::Docx => (support::docx(lines), "corpus.docx"),
        Format::Xlsx => {
            let rows: Vec<Vec<String>> =
                lines.iter().enumerate().map(|(i, l)| vec![i.to_string(), "Doe, J.".into(), l.clone()]).collect();
            (support::xlsx(&rows), "corpus.xlsx")
        }
        Format::Odt => (support::odt(lines), "corpus.odt"),
    }
}

#[test]
fn recall_and_false_positives_per_detector_and_format() {
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for format in [Format::Text, Format::Csv, Format::Pdf, Format::Docx, Format::Xlsx, Format::Odt] {
        // Per kind: the positives document and the negatives document.
        let mut docs = Vec::new();
        for (k, (kind, positive, negative)) in KINDS.iter().enumerate() {
            let mut r = Rng::new(1000 + k as u64);
            let mut lines = |values: Generator| -> Vec<String> {
                (0..N)
                    .map(|i| {
                        let v = values(&mut r);
                        line(&mut r, i, &v)
                    })
                    .collect()
            };
            let pos = lines(*positive);
            let neg = lines(*negative);
            let found = |lines: &[String]| {
                let (file, name) = render(format, lines);
                let report = support::inspect(&file, name).unwrap_or_else(|e| panic!("{format:?}: {e}"));
                assert_eq!(report.text, courier_scan::TextStatus::Scanned, "{format:?}");
                report.findings
            };
            docs.push((*kind, found(&pos), found(&neg)));
        }
        for (kind, pos, _) in &docs {
            let recall = pos.count(*kind).min(N as u64) as f64 / N as f64;
            // False positives: this kind found among the other kinds' values and all near misses.
            let mut wrong = 0;
            for (other, other_pos, other_neg) in &docs {
                wrong += other_neg.count(*kind);
                if other != kind {
                    wrong += other_pos.count(*kind);
                }
            }
            let fp = wrong as f64 / (N * (2 * KINDS.len() - 1)) as f64;
            report.push(format!(
                "{format:?} {kind:?}: recall {:.1} %, false positives {:.2} %",
                recall * 100.0,
                fp * 100.0
            ));
            if recall < 0.95 || fp > 0.02 {
                failures.push(report.last().cloned().unwrap_or_default());
            }
        }
    }
    println!("{}", report.join("\n"));
    assert!(failures.is_empty(), "below target:\n{}", failures.join("\n"));
}
