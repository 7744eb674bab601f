//! The languages of Courier's pages (client, share and staff): Fluent message files compiled
//! into the binary (`locales/<lang>/*.ftl`), one bundle per language, and the choice of
//! language for a request.
//! Sentences are whole messages with their variables, never pieced together.

use std::collections::HashMap;

use courier_core::Language;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// Each language's message files: the client and share pages (`client.ftl`), messages the
/// server says to staff (`staff.ftl`), and the staff pages by area.
const SOURCES: &[(Language, &[&str])] = &[
    (
        Language::En,
        &[
            include_str!("../locales/en/client.ftl"),
            include_str!("../locales/en/staff.ftl"),
            include_str!("../locales/en/staff-account.ftl"),
            include_str!("../locales/en/staff-portals.ftl"),
            include_str!("../locales/en/staff-matters.ftl"),
        ],
    ),
    (
        Language::Fr,
        &[
            include_str!("../locales/fr/client.ftl"),
            include_str!("../locales/fr/staff.ftl"),
            include_str!("../locales/fr/staff-account.ftl"),
            include_str!("../locales/fr/staff-portals.ftl"),
            include_str!("../locales/fr/staff-matters.ftl"),
        ],
    ),
];

/// Every language's messages.
pub struct Catalog {
    bundles: HashMap<Language, FluentBundle<FluentResource>>,
}

impl Catalog {
    /// Builds the bundles. The files are compiled in, so an error is a build defect that every
    /// test run catches (`catalog_tests`); it is logged, and the messages it concerns are missing.
    pub fn new() -> Self {
        let mut bundles = HashMap::new();
        for (lang, sources) in SOURCES {
            let id = LanguageIdentifier::from_parts(lang.as_str().parse().unwrap_or_default(), None, None, &[]);
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // The pages are HTML, escaped by the template engine; Unicode isolation marks
            // around every variable would only show up in copied text.
            bundle.set_use_isolating(false);
            for source in *sources {
                let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(partial, errors)| {
                    tracing::error!(language = %lang, ?errors, "a message file does not parse");
                    partial
                });
                if let Err(errors) = bundle.add_resource(resource) {
                    tracing::error!(language = %lang, ?errors, "a message is defined twice");
                }
            }
            bundles.insert(*lang, bundle);
        }
        Self { bundles }
    }

    /// Whether every message file parsed and no message is defined twice (the tests require it).
    #[cfg(test)]
    fn sound() -> bool {
        SOURCES.iter().all(|(_, sources)| {
            let mut bundle = FluentBundle::new_concurrent(Vec::<LanguageIdentifier>::new());
            sources
                .iter()
                .all(|s| FluentResource::try_new((*s).to_owned()).is_ok_and(|r| bundle.add_resource(r).is_ok()))
        })
    }

    /// The message `key` in `lang` with its variables. A missing key or variable is an error
    /// (the page fails to render, and the tests with it), never an English fallback.
    pub fn message(&self, lang: Language, key: &str, args: Option<&FluentArgs<'_>>) -> Result<String, String> {
        let bundle = self.bundles.get(&lang).ok_or_else(|| format!("no messages for {lang}"))?;
        let pattern = bundle
            .get_message(key)
            .and_then(|m| m.value())
            .ok_or_else(|| format!("message {key:?} is missing in {lang}"))?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            return Err(format!("message {key:?} in {lang}: {errors:?}"));
        }
        Ok(text.into_owned())
    }

    /// A service's message (`Said`) in `lang`; a variable that is a list of message ids is said
    /// word by word in `lang` and joined, a moment is written by `when` (in the firm's zone).
    pub fn said(
        &self,
        lang: Language,
        said: &crate::error::Said,
        when: &dyn Fn(i64) -> String,
    ) -> Result<String, String> {
        let mut args = FluentArgs::new();
        for (name, value) in &said.args {
            use crate::error::SaidArg;
            let value: FluentValue<'_> = match value {
                SaidArg::Text(text) => text.clone().into(),
                SaidArg::Number(n) => (*n).into(),
                SaidArg::Duration(secs) => self.duration(lang, courier_core::DurationSpec::from_secs(*secs))?.into(),
                SaidArg::Size(bytes) => size_in(lang, *bytes).into(),
                SaidArg::Decimal(x) => match lang {
                    Language::Fr => format!("{x:.1}").replace('.', ","),
                    _ => format!("{x:.1}"),
                }
                .into(),
                SaidArg::Time(ms) => when(*ms).into(),
                SaidArg::Messages(ids) => {
                    ids.iter().map(|id| self.message(lang, id, None)).collect::<Result<Vec<_>, _>>()?.join(", ").into()
                }
            };
            args.set(name.to_string(), value);
        }
        self.message(lang, &said.id, Some(&args))
    }

    /// A length of time in words: "30 days", "30 jours".
    pub fn duration(&self, lang: Language, d: courier_core::DurationSpec) -> Result<String, String> {
        let (n, unit) = d.count_and_unit();
        let mut args = FluentArgs::new();
        args.set("n", n);
        args.set("unit", unit);
        self.message(lang, "duration", Some(&args))
    }

    /// Whether `lang` has the message `key`.
    pub fn has(&self, lang: Language, key: &str) -> bool {
        self.bundles.get(&lang).is_some_and(|b| b.has_message(key))
    }

    /// Whether `lang` has a message whose id starts with `prefix` (a `tk()` family).
    #[cfg(test)]
    pub(crate) fn any_with_prefix(&self, lang: Language, prefix: &str) -> bool {
        Self::keys(lang).iter().any(|k| k.starts_with(prefix))
    }

    /// Every message id of `lang`, for the completeness test.
    #[cfg(test)]
    fn keys(lang: Language) -> std::collections::BTreeSet<String> {
        let sources = SOURCES.iter().find(|(l, _)| *l == lang).map(|(_, s)| *s).unwrap_or_default();
        let mut keys = std::collections::BTreeSet::new();
        for source in sources {
            let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(r, _)| r);
            keys.extend(resource.entries().filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            }));
        }
        keys
    }

    /// Every variable name (`$name`) the message files of every language use.
    #[cfg(test)]
    fn variables() -> std::collections::BTreeSet<String> {
        let mut names = std::collections::BTreeSet::new();
        for source in SOURCES.iter().flat_map(|(_, s)| s.iter()) {
            let mut rest = *source;
            while let Some(at) = rest.find('$') {
                rest = &rest[at + 1..];
                let end =
                    rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(rest.len());
                names.insert(rest[..end].to_owned());
            }
        }
        names
    }
}

/// The one catalog of the process (the pages and the mails share it).
pub fn catalog() -> &'static Catalog {
    static CATALOG: std::sync::LazyLock<Catalog> = std::sync::LazyLock::new(Catalog::new);
    &CATALOG
}

impl Default for Catalog {
    fn default() -> Self {
        Self::new()
    }
}

/// The language of a client or share page: an explicit `?lang=` first, then the one the
/// lawyer chose for the portal, then the browser's `Accept-Language`, then English.
pub fn choose(query: Option<&str>, portal: Option<Language>, accept_language: Option<&str>) -> Language {
    if let Some(lang) = query.and_then(|q| q.parse().ok()) {
        return lang;
    }
    if let Some(lang) = portal {
        return lang;
    }
    accept_language.map_or(Language::En, from_accept_language)
}

/// The language of a staff page: the one the staff member chose on their account page, then
/// the browser's `Accept-Language`, then English.
pub fn for_staff(chosen: Option<Language>, accept_language: Option<&str>) -> Language {
    chosen.unwrap_or_else(|| accept_language.map_or(Language::En, from_accept_language))
}

/// Most entries of an `Accept-Language` header read (browsers send a handful).
const ACCEPT_ENTRIES: usize = 32;

fn from_accept_language(header: &str) -> Language {
    let requested = by_weight(header);
    let available: Vec<LanguageIdentifier> = Language::ALL.iter().filter_map(|l| l.as_str().parse().ok()).collect();
    let default: Option<LanguageIdentifier> = Language::En.as_str().parse().ok();
    let chosen = fluent_langneg::negotiate_languages(
        &requested,
        &available,
        default.as_ref(),
        fluent_langneg::NegotiationStrategy::Lookup,
    );
    chosen.first().and_then(|id| id.language.as_str().parse().ok()).unwrap_or(Language::En)
}

/// The languages of an `Accept-Language` header, highest `q` first (the header's order among
/// equals), without those it refuses (`q=0`). `fluent_langneg`'s own parser keeps the order
/// and ignores the weights; a browser may list "en;q=0.1, fr" and mean French.
fn by_weight(header: &str) -> Vec<LanguageIdentifier> {
    let mut weighted: Vec<(u16, LanguageIdentifier)> = header
        .split(',')
        .take(ACCEPT_ENTRIES)
        .filter_map(|entry| {
            let mut parts = entry.split(';');
            let tag = parts.next()?.trim().parse().ok()?;
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q)))?;
            // Thousandths, as the header has at most three decimals.
            let q = (q * 1000.0).round() as u16;
            (q > 0).then_some((q, tag))
        })
        .collect();
    weighted.sort_by_key(|(q, _)| std::cmp::Reverse(*q));
    weighted.into_iter().map(|(_, tag)| tag).collect()
}

/// A size as `lang` writes it: `1.4 MiB` in English; in French a decimal comma and octets,
/// `1,4 Mio` (with a non-breaking space, as French typography wants).
pub fn size_in(lang: Language, bytes: u64) -> String {
    const FRENCH_UNITS: [&str; courier_core::ByteSize::SCALES] = ["o", "Kio", "Mio", "Gio", "Tio"];
    match lang {
        Language::En => courier_core::ByteSize(bytes).human(),
        Language::Fr => {
            let (number, unit) = courier_core::ByteSize(bytes).scaled();
            format!("{}\u{a0}{}", number.replace('.', ","), FRENCH_UNITS[unit])
        }
    }
}

#[cfg(test)]
mod catalog_tests {
    #[test]
    fn sizes_are_written_as_each_language_writes_them() {
        use super::{Language, size_in};
        assert_eq!(size_in(Language::En, 1_468_006), "1.4 MiB");
        assert_eq!(size_in(Language::Fr, 1_468_006), "1,4\u{a0}Mio");
        assert_eq!(size_in(Language::Fr, 512 * 1024), "512\u{a0}Kio");
        assert_eq!(size_in(Language::Fr, 12), "12\u{a0}o");
    }

    #[test]
    fn decimals_and_field_names_are_said_in_the_page_language() {
        use crate::error::{Said, SaidArg};
        let catalog = super::Catalog::new();
        let light = Said::new("staff-refused-colour-light")
            .with("value", SaidArg::Text("#eeeeee".into()))
            .with("contrast", SaidArg::Decimal(1.149));
        let fr = catalog.said(super::Language::Fr, &light, &|ms| ms.to_string()).unwrap();
        assert!(fr.contains("contraste de 1,1") && !fr.contains("1.1"), "{fr}");
        let en = catalog.said(super::Language::En, &light, &|ms| ms.to_string()).unwrap();
        assert!(en.contains("contrast of 1.1:1"), "{en}");
        let line = Said::new("staff-refused-setting-line")
            .with("setting", SaidArg::Messages(vec!["staff-setup-firm-name".into()]))
            .with("max", SaidArg::Text("120".into()));
        let fr = catalog.said(super::Language::Fr, &line, &|ms| ms.to_string()).unwrap();
        assert!(!fr.contains("firm_name"), "{fr}");
    }

    use super::*;

    #[test]
    fn every_language_has_every_message() {
        assert!(Catalog::sound(), "a message file does not parse");
        let catalog = Catalog::new();
        let english = Catalog::keys(Language::En);
        assert!(english.len() > 300, "{english:?}");
        let variables = Catalog::variables();
        assert!(variables.contains("firm") && variables.contains("n"), "{variables:?}");
        for lang in Language::ALL {
            let keys = Catalog::keys(*lang);
            let missing: Vec<_> = english.difference(&keys).collect();
            let extra: Vec<_> = keys.difference(&english).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{lang}: missing {missing:?}, not in English {extra:?}");
            for key in &english {
                // Variables are given as text here; plural selectors fall back to their default.
                let mut args = FluentArgs::new();
                for var in &variables {
                    args.set(var.clone(), "x");
                }
                catalog.message(*lang, key, Some(&args)).unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }

    /// Every message id the service layer says a refusal with (`Said::new("…")`,
    /// `said_with("…", …)`) is in the catalogue: a typo would leave the page in English.
    #[test]
    fn every_said_id_is_a_message() {
        fn walk(dir: &std::path::Path, found: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for opener in ["Said::new(\"", "said_with(\""] {
                        for (i, _) in text.match_indices(opener) {
                            let rest = &text[i + opener.len()..];
                            let id = &rest[..rest.find('"').unwrap()];
                            found.push((path.display().to_string(), id.to_owned()));
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
        assert!(found.iter().any(|(_, id)| id == "staff-refused-passcode-short"), "{found:?}");
        let catalog = Catalog::new();
        let is_id = |id: &str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
        for (file, id) in found.iter().filter(|(_, id)| is_id(id)) {
            assert!(catalog.has(Language::En, id), "{file} says {id:?}, which no message file has");
        }
    }

    #[test]
    fn every_text_field_has_its_name() {
        let catalog = Catalog::new();
        for (field, id) in crate::services::TEXT_FIELDS {
            for lang in [Language::En, Language::Fr] {
                assert!(catalog.has(lang, id), "{field:?}: {id} is not in {lang:?}");
            }
        }
    }

    #[test]
    fn a_missing_key_is_an_error_not_english() {
        let catalog = Catalog::new();
        assert!(catalog.message(Language::Fr, "no-such-message", None).is_err());
        let mut args = FluentArgs::new();
        args.set("firm", "Dewey & Partners");
        assert_eq!(
            catalog.message(Language::Fr, "portal-title", Some(&args)).unwrap(),
            "Envoyer des documents à Dewey & Partners"
        );
    }

    #[test]
    fn durations_are_said_in_the_page_language() {
        let catalog = Catalog::new();
        let say = |lang, n: u64, unit: &str| {
            let mut args = FluentArgs::new();
            args.set("n", n);
            args.set("unit", unit.to_owned());
            catalog.message(lang, "duration", Some(&args)).unwrap()
        };
        assert_eq!(say(Language::En, 30, "day"), "30 days");
        assert_eq!(say(Language::En, 1, "week"), "1 week");
        assert_eq!(say(Language::Fr, 30, "day"), "30 jours");
        assert_eq!(say(Language::Fr, 1, "hour"), "1 heure");
        assert_eq!(say(Language::Fr, 2, "week"), "2 semaines");
    }

    #[test]
    fn the_language_is_chosen_by_query_then_portal_then_browser() {
        assert_eq!(choose(None, None, None), Language::En);
        assert_eq!(choose(None, None, Some("fr-BE,fr;q=0.9,en;q=0.8")), Language::Fr);
        assert_eq!(choose(None, None, Some("de-DE,fr;q=0.5")), Language::Fr);
        assert_eq!(choose(None, None, Some("de-DE,es;q=0.5")), Language::En);
        assert_eq!(choose(None, None, Some("en-GB,fr;q=0.5")), Language::En);
        assert_eq!(choose(None, Some(Language::Fr), Some("en-GB")), Language::Fr);
        assert_eq!(choose(Some("en"), Some(Language::Fr), Some("fr")), Language::En);
        assert_eq!(choose(Some("xx"), None, Some("fr")), Language::Fr, "an unknown ?lang is ignored");
        assert_eq!(choose(None, None, Some(&"x,".repeat(10_000))), Language::En);
        // The weights decide, not the order; a refused language (q=0) is never chosen.
        assert_eq!(choose(None, None, Some("en;q=0.1, fr")), Language::Fr);
        assert_eq!(choose(None, None, Some("fr;q=0.4,en-US;q=0.9")), Language::En);
        assert_eq!(choose(None, None, Some("fr;q=0, de")), Language::En);
        assert_eq!(choose(None, None, Some("fr;q=abc, en;q=0.2")), Language::En, "a bad weight drops its entry");
        assert_eq!(choose(None, None, Some("de;q=0.9, fr-CA;q=0.8, en;q=0.7")), Language::Fr);
    }
}
