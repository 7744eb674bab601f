//! The one error type of the service layer. The web layer renders it (JSON problem or HTML
//! page); only the public message ever reaches a client, internal detail goes to the log.

use std::borrow::Cow;

use axum::http::StatusCode;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Unknown, disabled, expired, deleted or malformed portal/share link: one answer for all.
    #[error("link not found")]
    LinkNotFound,
    #[error("not found")]
    NotFound,
    /// A request that cannot be done as asked; the reason says why (and, where a page may say
    /// it in the reader's language, as a message of `locales/*`).
    #[error("{0}")]
    BadRequest(Reason),
    #[error("authentication required")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("{0}")]
    PayloadTooLarge(Reason),
    #[error("{0}")]
    Conflict(Reason),
    /// An API token without a scope the request needs.
    #[error("this API token does not allow that; it needs the scope {0}")]
    MissingScope(String),
    #[error("too many requests")]
    RateLimited,
    /// A client sent its request body below the minimum transfer rate.
    #[error("{0}")]
    TooSlow(String),
    /// Every slot for this kind of work stayed taken for as long as a request may wait.
    #[error("{0}")]
    Busy(Reason),
    /// Too many failed sign-ins for one account, or too many wrong passcodes for one link (the
    /// message says until when), or a lockdown.
    #[error("{0}")]
    Locked(Reason),
    /// A file type that is not accepted (by content, never by name).
    #[error("{0}")]
    UnsupportedType(Reason),
    /// A file refused for what is in it: malware, personal data, an archive bomb.
    #[error("{0}")]
    Refused(Reason),
    /// The malware scanner is down or does not answer: uploads fail closed.
    /// tus: the bytes of a `PATCH` do not match its `Upload-Checksum` (status 460).
    #[error("the bytes sent do not match their checksum; send them again")]
    ChecksumMismatch,
    #[error("malware scanning is unavailable")]
    ScanUnavailable,
    /// The database or blob store cannot be reached; the client may retry.
    #[error("service temporarily unavailable")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Why a file was refused, in English (the API, the log, English pages), and where a client's
/// page may say it in its own language, the same as a message of `locales/*/client.ftl`.
#[derive(Debug, Clone)]
pub struct Reason {
    pub text: String,
    pub said: Option<Said>,
}

impl Reason {
    pub fn said(text: impl Into<String>, said: Said) -> Self {
        Self { text: text.into(), said: Some(said) }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The English text, for the many places that read a reason as text (logs, CLI, tests).
impl std::ops::Deref for Reason {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl From<String> for Reason {
    fn from(text: String) -> Self {
        Self { text, said: None }
    }
}

impl From<&str> for Reason {
    fn from(text: &str) -> Self {
        Self { text: text.to_owned(), said: None }
    }
}

/// A request refused as asked (400), in English and as the message `id` with its variables.
pub fn bad_request(text: impl Into<String>, said: Said) -> Error {
    Error::BadRequest(Reason::said(text, said))
}

/// A request that conflicts with the state of things (409), in English and as a message.
pub fn conflict(text: impl Into<String>, said: Said) -> Error {
    Error::Conflict(Reason::said(text, said))
}

/// `Said` with one text variable.
pub fn said_with(id: &'static str, name: &'static str, value: impl ToString) -> Said {
    Said::new(id).with(name, SaidArg::Text(value.to_string()))
}

/// A value that did not parse: the English text as before, said in the member's language
/// where the kind of value is known.
impl From<courier_core::ParseError> for Reason {
    fn from(e: courier_core::ParseError) -> Self {
        use courier_core::ParseKind;
        let id = match e.kind() {
            ParseKind::Size => Some("staff-refused-not-size"),
            ParseKind::Duration => Some("staff-refused-not-duration"),
            ParseKind::Time => Some("staff-refused-not-time"),
            ParseKind::Other => None,
        };
        Self { said: id.map(|id| said_with(id, "input", e.input())), text: e.to_string() }
    }
}

/// "The file is larger than this portal accepts", with the portal's limit.
pub fn too_large(max: u64) -> Reason {
    Reason::said(
        format!("the file is larger than this portal accepts ({} at most)", courier_core::ByteSize(max).human()),
        Said::new("refusal-too-large").with("max", SaidArg::Size(max)),
    )
}

/// A message id and its variables; a variable that is a list of words is given as message ids
/// (each said in the page's language, joined). Stored with an alert, so that the alerts page
/// says it in each reader's language (hence owned as well as static names).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Said {
    pub id: Cow<'static, str>,
    pub args: Vec<(Cow<'static, str>, SaidArg)>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaidArg {
    Text(String),
    /// A count, which a message may choose its plural by.
    Number(i64),
    /// A length of time in seconds, in words ("2 hours", "2 heures").
    Duration(u64),
    /// A number with one decimal, as the language writes it ("1.5", "1,5").
    Decimal(f64),
    /// A number of bytes, written as the page's language writes sizes.
    Size(u64),
    /// A moment (Unix milliseconds), written in the firm's time zone.
    Time(i64),
    Messages(Vec<String>),
}

impl Said {
    /// Whether it names a moment (then even English says it from its message, so that the
    /// time is in the firm's zone and not the UTC of the English text).
    pub fn has_time(&self) -> bool {
        self.args.iter().any(|(_, a)| matches!(a, SaidArg::Time(_)))
    }

    pub fn new(id: &'static str) -> Self {
        Self { id: Cow::Borrowed(id), args: Vec::new() }
    }

    pub fn with(mut self, name: &'static str, value: SaidArg) -> Self {
        self.args.push((Cow::Borrowed(name), value));
        self
    }
}

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::LinkNotFound | Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::MissingScope(_) => StatusCode::FORBIDDEN,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::RateLimited | Self::Locked(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::TooSlow(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::ScanUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::ChecksumMismatch => StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What a client may read. Internal causes are never part of it.
    pub fn public_message(&self) -> String {
        match self {
            Self::Unavailable(_) => "The service is temporarily unavailable. Please try again in a moment.".into(),
            Self::Internal(_) => "Something went wrong on our side. Please try again.".into(),
            Self::RateLimited => "Too many requests. Please wait a minute and try again.".into(),
            Self::ScanUnavailable => "Scanning is temporarily unavailable, please try again in a few minutes.".into(),
            Self::LinkNotFound => "This link is not valid.".into(),
            other => other.to_string(),
        }
    }

    /// The public message as a client page may say it in its language (see `Reason`).
    pub fn said(&self) -> Option<Said> {
        match self {
            Self::PayloadTooLarge(r) | Self::UnsupportedType(r) | Self::Refused(r) => r.said.clone(),
            Self::BadRequest(r) | Self::Conflict(r) | Self::Locked(r) => r.said.clone(),
            Self::ScanUnavailable => Some(Said::new("refusal-scan-unavailable")),
            Self::Busy(r) => r.said.clone().or_else(|| Some(Said::new("refusal-busy"))),
            Self::TooSlow(_) => Some(Said::new("refusal-too-slow")),
            Self::RateLimited => Some(Said::new("refusal-rate-limited")),
            Self::ChecksumMismatch => Some(Said::new("refusal-checksum")),
            Self::Unavailable(_) => Some(Said::new("refusal-unavailable")),
            Self::Internal(_) => Some(Said::new("refusal-internal")),
            Self::NotFound => Some(Said::new("error-not-found")),
            Self::Forbidden => Some(Said::new("error-forbidden")),
            Self::Unauthenticated => Some(Said::new("error-unauthenticated")),
            _ => None,
        }
    }

    /// Detail for the server log (never sent to a client).
    pub fn internal_detail(&self) -> Option<&str> {
        match self {
            Self::Unavailable(d) | Self::Internal(d) => Some(d),
            _ => None,
        }
    }

    pub fn internal(context: &str, e: impl std::fmt::Display) -> Self {
        Self::Internal(format!("{context}: {e}"))
    }
}

impl From<courier_store::StoreError> for Error {
    fn from(e: courier_store::StoreError) -> Self {
        if e.is_unavailable() {
            Self::Unavailable(e.to_string())
        } else if matches!(e, courier_store::StoreError::Conflict) {
            Self::Conflict(Reason::said("already exists", Said::new("staff-refused-exists")))
        } else {
            Self::Internal(e.to_string())
        }
    }
}

/// A word typed by someone (a role in a form, an action on the command line) that is not one
/// of its set's. Words read back from the database that do not parse are `StoreError::Corrupt`.
impl From<courier_core::UnknownWord> for Error {
    fn from(e: courier_core::UnknownWord) -> Self {
        bad_request(
            e.to_string(),
            said_with("staff-refused-unknown-word", "input", &e.given).with("known", SaidArg::Text(e.known.join(", "))),
        )
    }
}

impl From<courier_crypto::CryptoError> for Error {
    fn from(e: courier_crypto::CryptoError) -> Self {
        Self::Internal(format!("crypto: {e}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::Internal(format!("io: {e}"))
    }
}
