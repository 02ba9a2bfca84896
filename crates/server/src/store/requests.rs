//! Qualified requests in the store: a request, its thread (every event,
//! with the mails it sends, written in one transaction), its attachments'
//! records (the files are in the attachments directory), labels, read
//! markers, the inbox queries, the monthly figures and the mail outbox.
//!
//! None of these writes moves the data version: requests are not reference
//! data, and the published snapshot must not be rebuilt for each of them.
//! The request settings (which services take requests, each document
//! type's form) are reference data and do move it.

use std::collections::HashMap;

use async_trait::async_trait;
use locadocs_core::Slug;
use locadocs_core::request::{RequestField, RequestSettings, Status};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::accounts::now_text;
use super::{SqlStore, StoreError};

/// A request as the person sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    pub service: String,
    pub document_type: String,
    pub commune: Option<String>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    pub guide: Option<String>,
    /// The document type's own fields, in form order.
    pub fields: Vec<(String, String)>,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub body: String,
    pub lang: String,
}

/// An attachment already written to the attachments directory.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFile {
    pub file_name: String,
    pub mime: String,
    pub size: i64,
    pub storage_key: String,
}

/// A mail to send, written to the outbox in the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct MailDraft {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Unique, without angle brackets.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub reply_to: Option<String>,
}

/// A stored request.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRequest {
    pub id: i64,
    pub reference: String,
    pub service: String,
    pub document_type: String,
    pub commune: Option<String>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    pub guide: Option<String>,
    pub fields: Vec<(String, String)>,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub body: String,
    pub lang: String,
    pub status: Status,
    pub status_reason: Option<String>,
    pub assignee: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub first_answer_at: Option<String>,
    pub closed_at: Option<String>,
    pub last_event_id: i64,
    pub reroutes_out: i64,
    pub reply_token: String,
}

impl StoredRequest {
    /// A request as it will be stored under `reference`, before it is: the
    /// mails written in the same transaction are built from it.
    pub fn unsaved(r: &NewRequest, reference: &str, reply_token: &str) -> StoredRequest {
        StoredRequest {
            id: 0,
            reference: reference.to_owned(),
            service: r.service.clone(),
            document_type: r.document_type.clone(),
            commune: r.commune.clone(),
            year_from: r.year_from,
            year_to: r.year_to,
            guide: r.guide.clone(),
            fields: r.fields.clone(),
            name: r.name.clone(),
            email: r.email.clone(),
            phone: r.phone.clone(),
            body: r.body.clone(),
            lang: r.lang.clone(),
            status: Status::New,
            status_reason: None,
            assignee: None,
            created_at: String::new(),
            updated_at: String::new(),
            first_answer_at: None,
            closed_at: None,
            last_event_id: 0,
            reroutes_out: 0,
            reply_token: reply_token.to_owned(),
        }
    }

    pub fn english(&self) -> bool {
        self.lang == "en"
    }
}

/// What happened to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    /// A message from the person.
    MessageIn,
    /// A message from an agent to the person.
    MessageOut,
    /// A private note between agents.
    Note,
    Status,
    Claim,
    Label,
    Reroute,
    /// The private link was sent again.
    LinkSent,
}

impl EventKind {
    pub const ALL: [EventKind; 9] = [
        EventKind::Created,
        EventKind::MessageIn,
        EventKind::MessageOut,
        EventKind::Note,
        EventKind::Status,
        EventKind::Claim,
        EventKind::Label,
        EventKind::Reroute,
        EventKind::LinkSent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::MessageIn => "message_in",
            EventKind::MessageOut => "message_out",
            EventKind::Note => "note",
            EventKind::Status => "status",
            EventKind::Claim => "claim",
            EventKind::Label => "label",
            EventKind::Reroute => "reroute",
            EventKind::LinkSent => "link_sent",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the person sees it on their private page.
    pub fn public(self) -> bool {
        matches!(
            self,
            EventKind::Created
                | EventKind::MessageIn
                | EventKind::MessageOut
                | EventKind::Status
                | EventKind::Reroute
        )
    }
}

/// One event of a request's thread.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestEvent {
    pub id: i64,
    pub request_id: i64,
    pub at: String,
    pub kind: EventKind,
    pub user_id: Option<i64>,
    /// Who did it, as shown: an agent's address, « le demandeur », or the
    /// command that did it.
    pub author: String,
    pub body: Option<String>,
    pub data: serde_json::Value,
    /// The service that held the request then.
    pub service: String,
}

/// A new event, with what it changes on the request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventDraft {
    pub kind: Option<EventKind>,
    pub user_id: Option<i64>,
    pub author: String,
    pub body: Option<String>,
    pub data: serde_json::Value,
    /// The new status and its reason.
    pub status: Option<(Status, Option<String>)>,
    /// The new assignee (`Some(None)`: nobody).
    pub assignee: Option<Option<i64>>,
    /// Counts as the service's first answer to the person.
    pub answers: bool,
}

impl EventDraft {
    pub fn new(kind: EventKind, author: impl Into<String>) -> EventDraft {
        EventDraft {
            kind: Some(kind),
            author: author.into(),
            data: serde_json::Value::Null,
            ..EventDraft::default()
        }
    }
}

/// A stored attachment's record.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub id: i64,
    pub request_id: i64,
    pub event_id: Option<i64>,
    pub file_name: String,
    pub mime: String,
    pub size: i64,
    pub storage_key: String,
    pub created_at: String,
}

/// A label a service puts on its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub id: i64,
    pub service: String,
    pub name: String,
}

/// The tabs of the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// New and nobody on it.
    ToDo,
    /// Claimed by me and not closed.
    Mine,
    /// Waiting for the person.
    Waiting,
    /// Closed.
    Done,
    All,
}

impl Tab {
    pub const ALL: [Tab; 5] = [Tab::ToDo, Tab::Mine, Tab::Waiting, Tab::Done, Tab::All];

    pub fn as_str(self) -> &'static str {
        match self {
            Tab::ToDo => "a-traiter",
            Tab::Mine => "suivies",
            Tab::Waiting => "en-attente",
            Tab::Done => "traitees",
            Tab::All => "toutes",
        }
    }

    pub fn parse(s: &str) -> Option<Tab> {
        Tab::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Tab::ToDo => "À traiter",
            Tab::Mine => "Suivies par moi",
            Tab::Waiting => "En attente du demandeur",
            Tab::Done => "Traitées",
            Tab::All => "Toutes",
        }
    }
}

/// What an inbox page asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxQuery {
    /// The services whose requests are shown (an agent's own; every
    /// service for an administrator when `None`).
    pub services: Option<Vec<String>>,
    pub tab: Tab,
    pub document_type: Option<String>,
    pub commune: Option<String>,
    pub label: Option<i64>,
    pub status: Option<Status>,
    /// Only requests created before this time (ISO text).
    pub created_before: Option<String>,
    /// Words found in the reference, the name, the e-mail address or the text.
    pub search: Option<String>,
    pub page: i64,
    pub per_page: i64,
}

/// One line of the inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxItem {
    pub id: i64,
    pub reference: String,
    pub service: String,
    pub document_type: String,
    pub commune: Option<String>,
    pub name: String,
    pub status: Status,
    pub assignee: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    /// Something happened since this agent last opened it.
    pub unread: bool,
}

/// Counts per tab, with the same filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TabCounts {
    pub todo: i64,
    pub mine: i64,
    pub waiting: i64,
    pub done: i64,
    pub all: i64,
}

impl TabCounts {
    pub fn of(&self, tab: Tab) -> i64 {
        match tab {
            Tab::ToDo => self.todo,
            Tab::Mine => self.mine,
            Tab::Waiting => self.waiting,
            Tab::Done => self.done,
            Tab::All => self.all,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    pub counts: TabCounts,
    /// Lines matching the chosen tab and filters.
    pub total: i64,
}

/// A service's figures for one month (`YYYY-MM`).
#[derive(Debug, Clone, PartialEq)]
pub struct MonthFigures {
    pub month: String,
    pub received: i64,
    pub rerouted_in: i64,
    pub rerouted_out: i64,
    pub not_held: i64,
    /// Hours, over the requests received that month.
    pub first_answer_median: Option<f64>,
    pub first_answer_p90: Option<f64>,
    pub close_median: Option<f64>,
    pub close_p90: Option<f64>,
}

/// A mail waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMail {
    pub id: i64,
    pub request_id: Option<i64>,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub reply_to: Option<String>,
    pub attempts: i64,
}

/// A request's secrets, as stored: the access token's SHA-256 hash, and
/// the reply token itself (reply addresses are written into every mail
/// about the request).
#[derive(Debug, Clone, PartialEq)]
pub struct Secrets {
    pub access_hash: String,
    pub reply_token: String,
}

/// Requests, their threads and the outbox.
#[async_trait]
pub trait Requests: Send + Sync {
    /// Stores a request under a reference made by [`new_reference`], its
    /// first event, its attachments and its mails in one transaction;
    /// returns its id and reference.
    async fn create_request(
        &self,
        request: &NewRequest,
        reference: &str,
        secrets: &Secrets,
        files: &[NewFile],
        mails: &[MailDraft],
    ) -> Result<(i64, String), StoreError>;

    async fn request(&self, id: i64) -> Result<Option<StoredRequest>, StoreError>;

    async fn request_by_access(&self, hash: &str) -> Result<Option<StoredRequest>, StoreError>;

    async fn request_by_reply(&self, hash: &str) -> Result<Option<StoredRequest>, StoreError>;

    async fn request_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<StoredRequest>, StoreError>;

    /// The request one of its mails' Message-IDs belongs to.
    async fn request_by_message_id(&self, ids: &[String]) -> Result<Option<i64>, StoreError>;

    /// Remembers the Message-ID of a mail received about a request.
    async fn remember_message_id(&self, request_id: i64, id: &str) -> Result<(), StoreError>;

    /// The newest Message-ID sent about a request, to thread the next one.
    async fn last_message_id(&self, request_id: i64) -> Result<Option<String>, StoreError>;

    async fn events(&self, request_id: i64) -> Result<Vec<RequestEvent>, StoreError>;

    async fn attachments(&self, request_id: i64) -> Result<Vec<Attachment>, StoreError>;

    /// Adds an event with its files and mails, and applies what it changes
    /// (status, assignee, first answer), in one transaction. Refused when
    /// the request changed since `expected_event` (another agent acted).
    async fn add_event(
        &self,
        request_id: i64,
        expected_event: Option<i64>,
        event: &EventDraft,
        files: &[NewFile],
        mails: &[MailDraft],
    ) -> Result<i64, StoreError>;

    /// Moves a request to another service: recorded on both sides, the
    /// labels and assignee dropped, status « nouvelle » at the new holder.
    async fn reroute(
        &self,
        request_id: i64,
        to_service: &str,
        event: &EventDraft,
        mails: &[MailDraft],
    ) -> Result<i64, StoreError>;

    /// Replaces the access token's hash (the private link sent again).
    async fn set_access_hash(
        &self,
        request_id: i64,
        hash: &str,
        event: &EventDraft,
        mails: &[MailDraft],
    ) -> Result<(), StoreError>;

    async fn labels(&self, service: &str) -> Result<Vec<Label>, StoreError>;

    async fn labels_of(&self, request_id: i64) -> Result<Vec<Label>, StoreError>;

    async fn create_label(&self, service: &str, name: &str) -> Result<Label, StoreError>;

    async fn delete_label(&self, service: &str, id: i64) -> Result<bool, StoreError>;

    /// Sets a request's labels (only the labels of its service are kept).
    async fn set_labels(
        &self,
        request_id: i64,
        labels: &[i64],
        event: &EventDraft,
    ) -> Result<(), StoreError>;

    async fn mark_read(
        &self,
        request_id: i64,
        user_id: i64,
        event_id: i64,
    ) -> Result<(), StoreError>;

    async fn inbox(
        &self,
        query: &InboxQuery,
        user_id: i64,
        now: &str,
    ) -> Result<InboxPage, StoreError>;

    /// Monthly figures of a service, newest month first.
    async fn figures(&self, service: &str, months: usize) -> Result<Vec<MonthFigures>, StoreError>;

    /// Requests sent since a time, from an address and to a service.
    async fn recent_requests(
        &self,
        email: &str,
        service: &str,
        since: &str,
    ) -> Result<(i64, i64), StoreError>;

    /// Mails due to be sent.
    async fn due_mails(&self, now: &str, limit: i64) -> Result<Vec<OutboxMail>, StoreError>;

    async fn mail_sent(&self, id: i64, now: &str) -> Result<(), StoreError>;

    async fn mail_failed(&self, id: i64, error: &str, next_at: &str) -> Result<(), StoreError>;

    /// Mails not yet sent (for tests and the operations page).
    async fn unsent_mails(&self) -> Result<i64, StoreError>;

    /// Closed requests to warn before deletion: closed before
    /// `closed_before` and not warned yet.
    async fn requests_to_warn(&self, closed_before: &str)
    -> Result<Vec<StoredRequest>, StoreError>;

    async fn warned(&self, request_id: i64, mails: &[MailDraft]) -> Result<(), StoreError>;

    /// Deletes requests closed before `closed_before` whose person was
    /// warned before `warned_before`, with their threads; returns the
    /// storage keys of their attachments.
    async fn purge_requests(
        &self,
        closed_before: &str,
        warned_before: &str,
    ) -> Result<Vec<String>, StoreError>;

    /// Active accounts that handle a service's requests.
    async fn agents_of(&self, service: &str) -> Result<Vec<Agent>, StoreError>;

    /// Active accounts with services that chose a daily digest.
    async fn digest_recipients(&self) -> Result<Vec<DigestRecipient>, StoreError>;

    /// Requests of these services still new that came after the request
    /// `after` (by id, so that none is listed twice or missed), or without
    /// one, that were received since `since`; oldest first.
    async fn new_requests_since(
        &self,
        services: &[String],
        after: Option<i64>,
        since: &str,
    ) -> Result<Vec<StoredRequest>, StoreError>;

    /// Records that an account's digest went at `at`, listing requests up
    /// to `last_request`, with its mail (none when there was nothing new),
    /// in one transaction.
    async fn digest_sent(
        &self,
        user_id: i64,
        at: &str,
        last_request: Option<i64>,
        mail: Option<&MailDraft>,
    ) -> Result<(), StoreError>;

    /// Sets whether a service takes requests (moves the data version).
    async fn set_accepting(&self, service: &str, accepting: bool) -> Result<(), StoreError>;

    /// Sets a document type's request form (moves the data version).
    async fn set_request_form(
        &self,
        document_type: &str,
        fields: &[RequestField],
    ) -> Result<(), StoreError>;

    /// Sets how an account hears of new requests: `each`, `digest` or
    /// `none` (anything else is refused).
    async fn set_request_notify(&self, user_id: i64, notify: &str) -> Result<(), StoreError>;
}

/// An account that chose to hear of new requests once a day.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestRecipient {
    pub id: i64,
    pub email: String,
    pub services: Vec<String>,
    /// When its last digest went.
    pub last_sent: Option<String>,
    /// The newest request its last digest listed.
    pub last_request: Option<i64>,
}

/// An account that handles a service's requests.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: i64,
    pub email: String,
    pub notify: String,
}

pub(super) async fn load_settings(
    tx: &mut Transaction<'_, Any>,
) -> Result<RequestSettings, StoreError> {
    let mut settings = RequestSettings::default();
    for row in sqlx::query("SELECT service FROM request_services")
        .fetch_all(&mut **tx)
        .await?
    {
        let s: String = row.try_get("service")?;
        if let Ok(slug) = Slug::parse(&s) {
            settings.accepting.insert(slug);
        }
    }
    for row in sqlx::query("SELECT document_type, fields_json FROM request_forms")
        .fetch_all(&mut **tx)
        .await?
    {
        let d: String = row.try_get("document_type")?;
        let json: String = row.try_get("fields_json")?;
        let fields: Vec<RequestField> =
            serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                table: "request_forms",
                key: d.clone(),
                message: e.to_string(),
            })?;
        if let Ok(slug) = Slug::parse(&d) {
            settings.forms.insert(slug, fields);
        }
    }
    Ok(settings)
}

fn corrupt(table: &'static str, key: impl ToString, message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table,
        key: key.to_string(),
        message: message.into(),
    }
}

fn request_row(r: &AnyRow) -> Result<StoredRequest, StoreError> {
    let id: i64 = r.try_get("id")?;
    let status: String = r.try_get("status")?;
    let fields_json: String = r.try_get("fields_json")?;
    let fields: Vec<(String, String)> = serde_json::from_str(&fields_json)
        .map_err(|e| corrupt("requests", id, format!("fields_json: {e}")))?;
    let year = |c: &str| -> Result<Option<i32>, StoreError> {
        Ok(r.try_get::<Option<i64>, _>(c)?.map(|y| y as i32))
    };
    Ok(StoredRequest {
        id,
        reference: r.try_get("reference")?,
        service: r.try_get("service")?,
        document_type: r.try_get("document_type")?,
        commune: r.try_get("commune")?,
        year_from: year("year_from")?,
        year_to: year("year_to")?,
        guide: r.try_get("guide")?,
        fields,
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        body: r.try_get("body")?,
        lang: r.try_get("lang")?,
        status: Status::parse(&status)
            .ok_or_else(|| corrupt("requests", id, format!("statut {status}")))?,
        status_reason: r.try_get("status_reason")?,
        assignee: r.try_get("assignee")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        first_answer_at: r.try_get("first_answer_at")?,
        closed_at: r.try_get("closed_at")?,
        last_event_id: r.try_get("last_event_id")?,
        reroutes_out: r.try_get("reroutes_out")?,
        reply_token: r.try_get("reply_token")?,
    })
}

fn event_row(r: &AnyRow) -> Result<RequestEvent, StoreError> {
    let id: i64 = r.try_get("id")?;
    let kind: String = r.try_get("kind")?;
    let data: Option<String> = r.try_get("data_json")?;
    Ok(RequestEvent {
        id,
        request_id: r.try_get("request_id")?,
        at: r.try_get("at")?,
        kind: EventKind::parse(&kind)
            .ok_or_else(|| corrupt("request_events", id, format!("type {kind}")))?,
        user_id: r.try_get("user_id")?,
        author: r.try_get("author")?,
        body: r.try_get("body")?,
        data: match data {
            Some(d) => serde_json::from_str(&d)
                .map_err(|e| corrupt("request_events", id, e.to_string()))?,
            None => serde_json::Value::Null,
        },
        service: r.try_get("service")?,
    })
}

fn label_row(r: &AnyRow) -> Result<Label, StoreError> {
    Ok(Label {
        id: r.try_get("id")?,
        service: r.try_get("service")?,
        name: r.try_get("name")?,
    })
}

fn attachment_row(r: &AnyRow) -> Result<Attachment, StoreError> {
    Ok(Attachment {
        id: r.try_get("id")?,
        request_id: r.try_get("request_id")?,
        event_id: r.try_get("event_id")?,
        file_name: r.try_get("file_name")?,
        mime: r.try_get("mime")?,
        size: r.try_get("size")?,
        storage_key: r.try_get("storage_key")?,
        created_at: r.try_get("created_at")?,
    })
}

fn mail_row(r: &AnyRow) -> Result<OutboxMail, StoreError> {
    Ok(OutboxMail {
        id: r.try_get("id")?,
        request_id: r.try_get("request_id")?,
        to: r.try_get("to_address")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        message_id: r.try_get("message_id")?,
        in_reply_to: r.try_get("in_reply_to")?,
        reply_to: r.try_get("reply_to")?,
        attempts: r.try_get("attempts")?,
    })
}

/// A reference people can read out on the phone: `AAAA-XXXX-XXXX` from an
/// alphabet without look-alike characters.
pub fn new_reference(year: i32) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("system random generator");
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect();
    format!("{year}-{}-{}", &chars[..4], &chars[4..])
}

async fn insert_event(
    tx: &mut Transaction<'_, Any>,
    request_id: i64,
    service: &str,
    event: &EventDraft,
    at: &str,
) -> Result<i64, StoreError> {
    let kind = event
        .kind
        .ok_or_else(|| StoreError::Invalid("événement sans type".into()))?;
    let data = (!event.data.is_null()).then(|| event.data.to_string());
    let row = sqlx::query(
        "INSERT INTO request_events (request_id, at, kind, user_id, author, body, data_json, service) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(request_id)
    .bind(at)
    .bind(kind.as_str())
    .bind(event.user_id)
    .bind(&event.author)
    .bind(&event.body)
    .bind(data)
    .bind(service)
    .fetch_one(&mut **tx)
    .await?;
    let id: i64 = row.try_get("id")?;
    sqlx::query("UPDATE requests SET last_event_id = $1, updated_at = $2 WHERE id = $3")
        .bind(id)
        .bind(at)
        .bind(request_id)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

async fn insert_files(
    tx: &mut Transaction<'_, Any>,
    request_id: i64,
    event_id: i64,
    files: &[NewFile],
    at: &str,
) -> Result<(), StoreError> {
    for f in files {
        sqlx::query(
            "INSERT INTO request_attachments (request_id, event_id, file_name, mime, size, storage_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(request_id)
        .bind(event_id)
        .bind(&f.file_name)
        .bind(&f.mime)
        .bind(f.size)
        .bind(&f.storage_key)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn insert_mails(
    tx: &mut Transaction<'_, Any>,
    request_id: Option<i64>,
    mails: &[MailDraft],
    at: &str,
) -> Result<(), StoreError> {
    for m in mails {
        sqlx::query(
            "INSERT INTO outbox (request_id, to_address, subject, body, message_id, in_reply_to, reply_to, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(request_id)
        .bind(&m.to)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(&m.message_id)
        .bind(&m.in_reply_to)
        .bind(&m.reply_to)
        .bind(at)
        .execute(&mut **tx)
        .await?;
        if let Some(id) = request_id {
            sqlx::query("INSERT INTO request_message_ids (message_id, request_id) VALUES ($1, $2)")
                .bind(&m.message_id)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

async fn request_in(
    tx: &mut Transaction<'_, Any>,
    id: i64,
) -> Result<Option<StoredRequest>, StoreError> {
    sqlx::query("SELECT * FROM requests WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .as_ref()
        .map(request_row)
        .transpose()
}

/// The `p`-quantile (0–1) of sorted values, by nearest rank.
fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

fn hours_between(from: &str, to: &str) -> Option<f64> {
    let a = chrono::DateTime::parse_from_rfc3339(from).ok()?;
    let b = chrono::DateTime::parse_from_rfc3339(to).ok()?;
    Some((b - a).num_seconds() as f64 / 3600.0)
}

impl SqlStore {
    async fn one_request(
        &self,
        column: &str,
        value: &str,
    ) -> Result<Option<StoredRequest>, StoreError> {
        // `column` is one of this file's constants, never user input.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM requests WHERE {column} = $1"
        )))
        .bind(value)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(request_row)
        .transpose()
    }
}

#[async_trait]
impl Requests for SqlStore {
    async fn create_request(
        &self,
        r: &NewRequest,
        reference: &str,
        secrets: &Secrets,
        files: &[NewFile],
        mails: &[MailDraft],
    ) -> Result<(i64, String), StoreError> {
        let now = now_text();
        let fields = serde_json::to_string(&r.fields).unwrap_or_else(|_| "[]".into());
        let mut tx = self.begin_write().await?;
        // References are random (31^8 values): a collision is refused by
        // the unique index, and the caller's mails name this reference.
        let reference = reference.to_owned();
        let row = sqlx::query(
            "INSERT INTO requests (reference, service, document_type, commune, year_from, year_to, guide, \
             fields_json, name, email, phone, body, lang, status, access_hash, reply_token, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'nouvelle', $14, $15, $16, $16) RETURNING id",
        )
        .bind(&reference)
        .bind(&r.service)
        .bind(&r.document_type)
        .bind(&r.commune)
        .bind(r.year_from.map(i64::from))
        .bind(r.year_to.map(i64::from))
        .bind(&r.guide)
        .bind(fields)
        .bind(&r.name)
        .bind(&r.email)
        .bind(&r.phone)
        .bind(&r.body)
        .bind(&r.lang)
        .bind(&secrets.access_hash)
        .bind(&secrets.reply_token)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        let mut created = EventDraft::new(EventKind::Created, "demandeur");
        created.body = Some(r.body.clone());
        let event = insert_event(&mut tx, id, &r.service, &created, &now).await?;
        insert_files(&mut tx, id, event, files, &now).await?;
        insert_mails(&mut tx, Some(id), mails, &now).await?;
        tx.commit().await?;
        Ok((id, reference))
    }

    async fn request(&self, id: i64) -> Result<Option<StoredRequest>, StoreError> {
        sqlx::query("SELECT * FROM requests WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(request_row)
            .transpose()
    }

    async fn request_by_access(&self, hash: &str) -> Result<Option<StoredRequest>, StoreError> {
        self.one_request("access_hash", hash).await
    }

    async fn request_by_reply(&self, hash: &str) -> Result<Option<StoredRequest>, StoreError> {
        self.one_request("reply_token", hash).await
    }

    async fn request_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<StoredRequest>, StoreError> {
        self.one_request("reference", &reference.trim().to_uppercase())
            .await
    }

    async fn request_by_message_id(&self, ids: &[String]) -> Result<Option<i64>, StoreError> {
        for id in ids {
            let row =
                sqlx::query("SELECT request_id FROM request_message_ids WHERE message_id = $1")
                    .bind(id)
                    .fetch_optional(self.pool())
                    .await?;
            if let Some(row) = row {
                return Ok(Some(row.try_get("request_id")?));
            }
        }
        Ok(None)
    }

    async fn remember_message_id(&self, request_id: i64, id: &str) -> Result<(), StoreError> {
        let known = sqlx::query("SELECT 1 FROM request_message_ids WHERE message_id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        if known.is_none() {
            sqlx::query("INSERT INTO request_message_ids (message_id, request_id) VALUES ($1, $2)")
                .bind(id)
                .bind(request_id)
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }

    async fn last_message_id(&self, request_id: i64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT message_id FROM outbox WHERE request_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(request_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.try_get("message_id")).transpose()?)
    }

    async fn events(&self, request_id: i64) -> Result<Vec<RequestEvent>, StoreError> {
        sqlx::query("SELECT * FROM request_events WHERE request_id = $1 ORDER BY id")
            .bind(request_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(event_row)
            .collect()
    }

    async fn attachments(&self, request_id: i64) -> Result<Vec<Attachment>, StoreError> {
        sqlx::query("SELECT * FROM request_attachments WHERE request_id = $1 ORDER BY id")
            .bind(request_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(attachment_row)
            .collect()
    }

    async fn add_event(
        &self,
        request_id: i64,
        expected_event: Option<i64>,
        event: &EventDraft,
        files: &[NewFile],
        mails: &[MailDraft],
    ) -> Result<i64, StoreError> {
        let now = now_text();
        let mut tx = self.begin_write().await?;
        let req = request_in(&mut tx, request_id)
            .await?
            .ok_or_else(|| StoreError::Invalid("demande inconnue".into()))?;
        if let Some(expected) = expected_event
            && expected != req.last_event_id
        {
            return Err(StoreError::Conflict {
                expected,
                found: req.last_event_id,
            });
        }
        let id = insert_event(&mut tx, request_id, &req.service, event, &now).await?;
        if let Some((status, reason)) = &event.status {
            let closed = status.is_final().then_some(now.as_str());
            sqlx::query(
                "UPDATE requests SET status = $1, status_reason = $2, closed_at = $3, notice_sent_at = NULL WHERE id = $4",
            )
            .bind(status.as_str())
            .bind(reason)
            .bind(closed)
            .bind(request_id)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(assignee) = event.assignee {
            sqlx::query("UPDATE requests SET assignee = $1 WHERE id = $2")
                .bind(assignee)
                .bind(request_id)
                .execute(&mut *tx)
                .await?;
        }
        if event.answers && req.first_answer_at.is_none() {
            sqlx::query("UPDATE requests SET first_answer_at = $1 WHERE id = $2")
                .bind(&now)
                .bind(request_id)
                .execute(&mut *tx)
                .await?;
        }
        insert_files(&mut tx, request_id, id, files, &now).await?;
        insert_mails(&mut tx, Some(request_id), mails, &now).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn reroute(
        &self,
        request_id: i64,
        to_service: &str,
        event: &EventDraft,
        mails: &[MailDraft],
    ) -> Result<i64, StoreError> {
        let now = now_text();
        let mut tx = self.begin_write().await?;
        let req = request_in(&mut tx, request_id)
            .await?
            .ok_or_else(|| StoreError::Invalid("demande inconnue".into()))?;
        if req.service == to_service {
            return Err(StoreError::Invalid(
                "la demande est déjà chez ce service".into(),
            ));
        }
        // Recorded under the service that had it (its figures count a
        // reroute out), then the request moves.
        let id = insert_event(&mut tx, request_id, &req.service, event, &now).await?;
        sqlx::query(
            "UPDATE requests SET service = $1, status = 'nouvelle', status_reason = NULL, assignee = NULL, \
             closed_at = NULL, reroutes_out = reroutes_out + 1 WHERE id = $2",
        )
        .bind(to_service)
        .bind(request_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM request_label_links WHERE request_id = $1")
            .bind(request_id)
            .execute(&mut *tx)
            .await?;
        insert_mails(&mut tx, Some(request_id), mails, &now).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn set_access_hash(
        &self,
        request_id: i64,
        hash: &str,
        event: &EventDraft,
        mails: &[MailDraft],
    ) -> Result<(), StoreError> {
        let now = now_text();
        let mut tx = self.begin_write().await?;
        let req = request_in(&mut tx, request_id)
            .await?
            .ok_or_else(|| StoreError::Invalid("demande inconnue".into()))?;
        sqlx::query("UPDATE requests SET access_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(request_id)
            .execute(&mut *tx)
            .await?;
        insert_event(&mut tx, request_id, &req.service, event, &now).await?;
        insert_mails(&mut tx, Some(request_id), mails, &now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn labels(&self, service: &str) -> Result<Vec<Label>, StoreError> {
        let rows = sqlx::query("SELECT * FROM request_labels WHERE service = $1 ORDER BY name")
            .bind(service)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(label_row).collect()
    }

    async fn labels_of(&self, request_id: i64) -> Result<Vec<Label>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.* FROM request_labels l JOIN request_label_links k ON k.label_id = l.id \
             WHERE k.request_id = $1 ORDER BY l.name",
        )
        .bind(request_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(label_row).collect()
    }

    async fn create_label(&self, service: &str, name: &str) -> Result<Label, StoreError> {
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM request_labels WHERE service = $1 AND name = $2")
            .bind(service)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Invalid(format!(
                "l'étiquette « {name} » existe déjà"
            )));
        }
        let row =
            sqlx::query("INSERT INTO request_labels (service, name) VALUES ($1, $2) RETURNING id")
                .bind(service)
                .bind(name)
                .fetch_one(&mut *tx)
                .await?;
        let id = row.try_get("id")?;
        tx.commit().await?;
        Ok(Label {
            id,
            service: service.to_owned(),
            name: name.to_owned(),
        })
    }

    async fn delete_label(&self, service: &str, id: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM request_label_links WHERE label_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM request_labels WHERE id = $1 AND service = $2")
            .bind(id)
            .bind(service)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_labels(
        &self,
        request_id: i64,
        labels: &[i64],
        event: &EventDraft,
    ) -> Result<(), StoreError> {
        let now = now_text();
        let mut tx = self.begin_write().await?;
        let req = request_in(&mut tx, request_id)
            .await?
            .ok_or_else(|| StoreError::Invalid("demande inconnue".into()))?;
        sqlx::query("DELETE FROM request_label_links WHERE request_id = $1")
            .bind(request_id)
            .execute(&mut *tx)
            .await?;
        for label in labels {
            sqlx::query(
                "INSERT INTO request_label_links (request_id, label_id) \
                 SELECT $1, id FROM request_labels WHERE id = $2 AND service = $3",
            )
            .bind(request_id)
            .bind(label)
            .bind(&req.service)
            .execute(&mut *tx)
            .await?;
        }
        insert_event(&mut tx, request_id, &req.service, event, &now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn mark_read(
        &self,
        request_id: i64,
        user_id: i64,
        event_id: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO request_reads (request_id, user_id, event_id) VALUES ($1, $2, $3) \
             ON CONFLICT (request_id, user_id) DO UPDATE SET event_id = excluded.event_id",
        )
        .bind(request_id)
        .bind(user_id)
        .bind(event_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn inbox(
        &self,
        q: &InboxQuery,
        user_id: i64,
        _now: &str,
    ) -> Result<InboxPage, StoreError> {
        // Filters other than the tab, as SQL with numbered parameters.
        let mut filters = Vec::new();
        let mut binds: Vec<Bind> = Vec::new();
        let param = |binds: &mut Vec<Bind>, b: Bind| {
            binds.push(b);
            format!("${}", binds.len())
        };
        if let Some(services) = &q.services {
            if services.is_empty() {
                return Ok(InboxPage {
                    items: Vec::new(),
                    counts: TabCounts::default(),
                    total: 0,
                });
            }
            let list: Vec<String> = services
                .iter()
                .map(|s| param(&mut binds, Bind::Text(s.clone())))
                .collect();
            filters.push(format!("r.service IN ({})", list.join(", ")));
        }
        if let Some(d) = &q.document_type {
            let p = param(&mut binds, Bind::Text(d.clone()));
            filters.push(format!("r.document_type = {p}"));
        }
        if let Some(c) = &q.commune {
            let p = param(&mut binds, Bind::Text(c.clone()));
            filters.push(format!("r.commune = {p}"));
        }
        if let Some(s) = q.status {
            let p = param(&mut binds, Bind::Text(s.as_str().to_owned()));
            filters.push(format!("r.status = {p}"));
        }
        if let Some(before) = &q.created_before {
            let p = param(&mut binds, Bind::Text(before.clone()));
            filters.push(format!("r.created_at < {p}"));
        }
        if let Some(label) = q.label {
            let p = param(&mut binds, Bind::Int(label));
            filters.push(format!(
                "EXISTS (SELECT 1 FROM request_label_links k WHERE k.request_id = r.id AND k.label_id = {p})"
            ));
        }
        if let Some(words) = &q.search {
            for word in words.split_whitespace().take(5) {
                let like = format!("%{}%", word.to_lowercase().replace(['%', '_'], ""));
                let p = param(&mut binds, Bind::Text(like));
                filters.push(format!(
                    "(lower(r.reference) LIKE {p} OR lower(r.name) LIKE {p} OR r.email LIKE {p} OR lower(r.body) LIKE {p})"
                ));
            }
        }
        let me = param(&mut binds, Bind::Int(user_id));
        let finals = "('repondue', 'non_detenu', 'redirigee', 'sans_suite')";
        let tab_sql = |t: Tab| -> String {
            match t {
                Tab::ToDo => "r.status = 'nouvelle' AND r.assignee IS NULL".to_owned(),
                Tab::Mine => format!("r.assignee = {me} AND r.status NOT IN {finals}"),
                Tab::Waiting => "r.status = 'attente'".to_owned(),
                Tab::Done => format!("r.status IN {finals}"),
                Tab::All => "1 = 1".to_owned(),
            }
        };
        let where_all = if filters.is_empty() {
            "1 = 1".to_owned()
        } else {
            filters.join(" AND ")
        };
        let counts_sql = format!(
            "SELECT \
             COALESCE(SUM(CASE WHEN {} THEN 1 ELSE 0 END), 0) AS todo, \
             COALESCE(SUM(CASE WHEN {} THEN 1 ELSE 0 END), 0) AS mine, \
             COALESCE(SUM(CASE WHEN {} THEN 1 ELSE 0 END), 0) AS waiting, \
             COALESCE(SUM(CASE WHEN {} THEN 1 ELSE 0 END), 0) AS done, \
             COUNT(*) AS total \
             FROM requests r WHERE {where_all}",
            tab_sql(Tab::ToDo),
            tab_sql(Tab::Mine),
            tab_sql(Tab::Waiting),
            tab_sql(Tab::Done),
        );
        let row = bind_all(sqlx::query(sqlx::AssertSqlSafe(counts_sql)), &binds)
            .fetch_one(self.pool())
            .await?;
        let counts = TabCounts {
            todo: row.try_get("todo")?,
            mine: row.try_get("mine")?,
            waiting: row.try_get("waiting")?,
            done: row.try_get("done")?,
            all: row.try_get("total")?,
        };
        let per_page = q.per_page.clamp(1, 200);
        let offset = q.page.max(0) * per_page;
        let list_sql = format!(
            "SELECT r.id, r.reference, r.service, r.document_type, r.commune, r.name, r.status, r.assignee, \
             r.created_at, r.updated_at, r.last_event_id, \
             (SELECT d.event_id FROM request_reads d WHERE d.request_id = r.id AND d.user_id = {me}) AS seen \
             FROM requests r WHERE {where_all} AND {} ORDER BY r.updated_at DESC, r.id DESC LIMIT {per_page} OFFSET {offset}",
            tab_sql(q.tab)
        );
        let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(list_sql)), &binds)
            .fetch_all(self.pool())
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let status: String = r.try_get("status")?;
            let last: i64 = r.try_get("last_event_id")?;
            let seen: Option<i64> = r.try_get("seen")?;
            items.push(InboxItem {
                id,
                reference: r.try_get("reference")?,
                service: r.try_get("service")?,
                document_type: r.try_get("document_type")?,
                commune: r.try_get("commune")?,
                name: r.try_get("name")?,
                status: Status::parse(&status)
                    .ok_or_else(|| corrupt("requests", id, format!("statut {status}")))?,
                assignee: r.try_get("assignee")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
                unread: seen.is_none_or(|s| s < last),
            });
        }
        Ok(InboxPage {
            items,
            total: counts.of(q.tab),
            counts,
        })
    }

    async fn figures(&self, service: &str, months: usize) -> Result<Vec<MonthFigures>, StoreError> {
        let received = sqlx::query(
            "SELECT created_at, first_answer_at, closed_at, status FROM requests WHERE service = $1",
        )
        .bind(service)
        .fetch_all(self.pool())
        .await?;
        // Requests that left this service were rerouted; those are counted
        // from the events, recorded under the service that had them.
        let moves = sqlx::query(
            "SELECT e.at, e.service, e.data_json FROM request_events e WHERE e.kind = 'reroute' \
             AND (e.service = $1 OR e.data_json LIKE $2)",
        )
        .bind(service)
        .bind(format!("%\"to\":\"{service}\"%"))
        .fetch_all(self.pool())
        .await?;
        #[derive(Default)]
        struct Acc {
            received: i64,
            rerouted_in: i64,
            rerouted_out: i64,
            not_held: i64,
            first: Vec<f64>,
            close: Vec<f64>,
        }
        let mut by_month: HashMap<String, Acc> = HashMap::new();
        for r in &received {
            let created: String = r.try_get("created_at")?;
            let acc = by_month.entry(created[..7].to_owned()).or_default();
            acc.received += 1;
            let status: String = r.try_get("status")?;
            if status == "non_detenu" {
                acc.not_held += 1;
            }
            if let Some(first) = r.try_get::<Option<String>, _>("first_answer_at")?
                && let Some(h) = hours_between(&created, &first)
            {
                acc.first.push(h);
            }
            if let Some(closed) = r.try_get::<Option<String>, _>("closed_at")?
                && let Some(h) = hours_between(&created, &closed)
            {
                acc.close.push(h);
            }
        }
        for m in &moves {
            let at: String = m.try_get("at")?;
            let from: String = m.try_get("service")?;
            let data: Option<String> = m.try_get("data_json")?;
            let to = data
                .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
                .and_then(|v| v.get("to").and_then(|t| t.as_str()).map(str::to_owned));
            let acc = by_month.entry(at[..7].to_owned()).or_default();
            if from == service {
                acc.rerouted_out += 1;
            } else if to.as_deref() == Some(service) {
                acc.rerouted_in += 1;
            }
        }
        let mut out: Vec<MonthFigures> = by_month
            .into_iter()
            .map(|(month, mut a)| {
                a.first.sort_by(f64::total_cmp);
                a.close.sort_by(f64::total_cmp);
                MonthFigures {
                    month,
                    received: a.received,
                    rerouted_in: a.rerouted_in,
                    rerouted_out: a.rerouted_out,
                    not_held: a.not_held,
                    first_answer_median: quantile(&a.first, 0.5),
                    first_answer_p90: quantile(&a.first, 0.9),
                    close_median: quantile(&a.close, 0.5),
                    close_p90: quantile(&a.close, 0.9),
                }
            })
            .collect();
        out.sort_by(|a, b| b.month.cmp(&a.month));
        out.truncate(months);
        Ok(out)
    }

    async fn recent_requests(
        &self,
        email: &str,
        service: &str,
        since: &str,
    ) -> Result<(i64, i64), StoreError> {
        let by_email =
            sqlx::query("SELECT COUNT(*) AS n FROM requests WHERE email = $1 AND created_at >= $2")
                .bind(email)
                .bind(since)
                .fetch_one(self.pool())
                .await?
                .try_get("n")?;
        let by_service = sqlx::query(
            "SELECT COUNT(*) AS n FROM request_events WHERE service = $1 AND kind = 'created' AND at >= $2",
        )
        .bind(service)
        .bind(since)
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        Ok((by_email, by_service))
    }

    async fn due_mails(&self, now: &str, limit: i64) -> Result<Vec<OutboxMail>, StoreError> {
        sqlx::query(
            "SELECT * FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(mail_row)
        .collect()
    }

    async fn mail_sent(&self, id: i64, now: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn mail_failed(&self, id: i64, error: &str, next_at: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3",
        )
        .bind(error.chars().take(500).collect::<String>())
        .bind(next_at)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn unsent_mails(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL")
                .fetch_one(self.pool())
                .await?
                .try_get("n")?,
        )
    }

    async fn requests_to_warn(
        &self,
        closed_before: &str,
    ) -> Result<Vec<StoredRequest>, StoreError> {
        sqlx::query(
            "SELECT * FROM requests WHERE closed_at IS NOT NULL AND closed_at < $1 AND notice_sent_at IS NULL ORDER BY id LIMIT 500",
        )
        .bind(closed_before)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(request_row)
        .collect()
    }

    async fn warned(&self, request_id: i64, mails: &[MailDraft]) -> Result<(), StoreError> {
        let now = now_text();
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE requests SET notice_sent_at = $1 WHERE id = $2")
            .bind(&now)
            .bind(request_id)
            .execute(&mut *tx)
            .await?;
        insert_mails(&mut tx, Some(request_id), mails, &now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn purge_requests(
        &self,
        closed_before: &str,
        warned_before: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.begin_write().await?;
        let ids: Vec<i64> = sqlx::query(
            "SELECT id FROM requests WHERE closed_at IS NOT NULL AND closed_at < $1 \
             AND notice_sent_at IS NOT NULL AND notice_sent_at < $2",
        )
        .bind(closed_before)
        .bind(warned_before)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
        let mut keys = Vec::new();
        for id in ids {
            for r in
                sqlx::query("SELECT storage_key FROM request_attachments WHERE request_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?
            {
                keys.push(r.try_get("storage_key")?);
            }
            for table in [
                "request_attachments",
                "request_label_links",
                "request_reads",
                "request_message_ids",
                "request_events",
            ] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE request_id = $1"
                )))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            // Mails already sent keep nothing personal once the request is
            // gone; unsent ones are dropped.
            sqlx::query("DELETE FROM outbox WHERE request_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM requests WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(keys)
    }

    async fn digest_recipients(&self) -> Result<Vec<DigestRecipient>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.digest_sent_at, u.digest_last_request, s.service FROM users u \
             JOIN user_services s ON s.user_id = u.id \
             WHERE u.active = 1 AND u.request_notify = 'digest' ORDER BY u.id, s.service",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<DigestRecipient> = Vec::new();
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let service: String = r.try_get("service")?;
            match out.last_mut() {
                Some(last) if last.id == id => last.services.push(service),
                _ => out.push(DigestRecipient {
                    id,
                    email: r.try_get("email")?,
                    services: vec![service],
                    last_sent: r.try_get("digest_sent_at")?,
                    last_request: r.try_get("digest_last_request")?,
                }),
            }
        }
        Ok(out)
    }

    async fn new_requests_since(
        &self,
        services: &[String],
        after: Option<i64>,
        since: &str,
    ) -> Result<Vec<StoredRequest>, StoreError> {
        let mut out = Vec::new();
        for service in services {
            let query = match after {
                Some(id) => sqlx::query(
                    "SELECT * FROM requests WHERE service = $1 AND status = 'nouvelle' AND id > $2 ORDER BY id",
                )
                .bind(service)
                .bind(id),
                None => sqlx::query(
                    "SELECT * FROM requests WHERE service = $1 AND status = 'nouvelle' AND created_at >= $2 ORDER BY id",
                )
                .bind(service)
                .bind(since),
            };
            let rows = query.fetch_all(self.pool()).await?;
            for r in &rows {
                out.push(request_row(r)?);
            }
        }
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    async fn digest_sent(
        &self,
        user_id: i64,
        at: &str,
        last_request: Option<i64>,
        mail: Option<&MailDraft>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE users SET digest_sent_at = $1, digest_last_request = COALESCE($2, digest_last_request) WHERE id = $3",
        )
            .bind(at)
            .bind(last_request)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if let Some(m) = mail {
            insert_mails(&mut tx, None, std::slice::from_ref(m), at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn agents_of(&self, service: &str) -> Result<Vec<Agent>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.request_notify FROM users u \
             JOIN user_services s ON s.user_id = u.id WHERE s.service = $1 AND u.active = 1 ORDER BY u.email",
        )
        .bind(service)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Agent {
                    id: r.try_get("id")?,
                    email: r.try_get("email")?,
                    notify: r.try_get("request_notify")?,
                })
            })
            .collect()
    }

    async fn set_accepting(&self, service: &str, accepting: bool) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM request_services WHERE service = $1")
            .bind(service)
            .execute(&mut *tx)
            .await?;
        if accepting {
            sqlx::query("INSERT INTO request_services (service, enabled_at) VALUES ($1, $2)")
                .bind(service)
                .bind(now_text())
                .execute(&mut *tx)
                .await?;
        }
        super::accounts::bump_data_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_request_form(
        &self,
        document_type: &str,
        fields: &[RequestField],
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(fields).unwrap_or_else(|_| "[]".into());
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM request_forms WHERE document_type = $1")
            .bind(document_type)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO request_forms (document_type, fields_json, updated_at) VALUES ($1, $2, $3)",
        )
        .bind(document_type)
        .bind(json)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        super::accounts::bump_data_version(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_request_notify(&self, user_id: i64, notify: &str) -> Result<(), StoreError> {
        if !matches!(notify, "each" | "digest" | "none") {
            return Err(StoreError::Invalid(format!(
                "choix de notification inconnu : « {notify} »"
            )));
        }
        sqlx::query("UPDATE users SET request_notify = $1 WHERE id = $2")
            .bind(notify)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

enum Bind {
    Text(String),
    Int(i64),
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s.as_str()),
            Bind::Int(i) => q.bind(*i),
        };
    }
    q
}

#[cfg(test)]
mod tests {
    #[test]
    fn references_are_readable_and_distinct() {
        let a = super::new_reference(2026);
        let b = super::new_reference(2026);
        assert_eq!(a.len(), 14, "{a}");
        assert!(a.starts_with("2026-"));
        assert!(!a[5..].contains(['0', 'O', '1', 'I', 'L']));
        assert_ne!(a, b);
    }

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(super::quantile(&v, 0.5), Some(5.0));
        assert_eq!(super::quantile(&v, 0.9), Some(9.0));
        assert_eq!(super::quantile(&[], 0.5), None);
    }
}
