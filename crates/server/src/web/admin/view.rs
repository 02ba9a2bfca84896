//! The back office's pages: one frame (DSFR), made of blocks — paragraphs,
//! tables, forms with their per-field errors — so that every screen is
//! built the same accessible way.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::policy::{self, Act};
use crate::store::User;

/// A back-office page.
#[derive(Template)]
#[template(path = "admin.html")]
pub struct Page {
    pub title: String,
    pub nav: Option<Nav>,
    pub notice: Option<Notice>,
    /// Every field error, summed up at the top: (field id, message).
    pub errors: Vec<(String, String)>,
    pub blocks: Vec<Block>,
}

/// The menu of a signed-in user.
pub struct Nav {
    pub email: String,
    pub role: String,
    pub csrf: String,
    pub links: Vec<(String, String)>,
}

impl Nav {
    pub fn of(user: &User, csrf: &str) -> Nav {
        let mut links = vec![
            ("Mes données".to_owned(), "/admin".to_owned()),
            ("Services".to_owned(), "/admin/services".to_owned()),
            ("Règles".to_owned(), "/admin/regles".to_owned()),
        ];
        if policy::allows(user, Act::EditDocumentTypes) {
            links.push(("Types de documents".into(), "/admin/types".into()));
        }
        if policy::allows(user, Act::ManageSites) {
            links.push(("Sites".into(), "/admin/sites".into()));
        }
        links.push(("Import / export".into(), "/admin/import".into()));
        if policy::allows(user, Act::ReadStatistics) {
            links.push(("Statistiques".into(), "/admin/statistiques".into()));
        }
        if policy::allows(user, Act::OpenInbox) {
            links.push(("Demandes".into(), "/admin/demandes".into()));
        }
        if policy::allows(user, Act::SetImpact) {
            links.push(("Estimation d'impact".into(), "/admin/impact".into()));
        }
        if policy::allows(user, Act::ManageAccounts) {
            links.push(("Utilisateurs".into(), "/admin/utilisateurs".into()));
        }
        Nav {
            email: user.email.clone(),
            role: user.role.label().to_owned(),
            csrf: csrf.to_owned(),
            links,
        }
    }
}

/// A message at the top of a page.
pub struct Notice {
    /// `success`, `error`, `info` or `warning` (DSFR alert kinds).
    pub kind: &'static str,
    pub title: String,
    pub text: String,
}

impl Notice {
    pub fn error(title: &str, text: &str) -> Notice {
        Notice {
            kind: "error",
            title: title.into(),
            text: text.into(),
        }
    }
    pub fn info(title: &str, text: &str) -> Notice {
        Notice {
            kind: "info",
            title: title.into(),
            text: text.into(),
        }
    }
    pub fn success(title: &str, text: &str) -> Notice {
        Notice {
            kind: "success",
            title: title.into(),
            text: text.into(),
        }
    }
}

/// A part of a page.
pub enum Block {
    H2(String),
    P(String),
    Links(Vec<(String, String)>),
    Table(Table),
    Form(FormView),
    /// Terms and their descriptions.
    Dl(Vec<(String, String)>),
    /// A form that sends a file (`multipart/form-data`).
    Upload(Box<Upload>),
    /// A text whose line breaks are kept (a message).
    Text(String),
    /// Tabs: links, the current one marked.
    Tabs(Vec<Tab>),
    /// A request's thread, in order.
    Thread(Vec<ThreadItem>),
    /// A chart's markup, as [`crate::web::charts`] writes it (escaped there).
    Chart(String),
    /// A heading of the third level.
    H3(String),
}

/// One tab of a [`Block::Tabs`].
pub struct Tab {
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// One event of a request's thread.
pub struct ThreadItem {
    /// What happened (« Message au demandeur », « Note privée »…).
    pub title: String,
    /// Who and when.
    pub meta: String,
    pub body: Option<String>,
    /// Seen by agents only: marked « Note privée ».
    pub private: bool,
}

/// A file upload form: the file field, then select and checkbox fields.
pub struct Upload {
    pub action: String,
    pub csrf: String,
    pub hidden: Vec<(String, String)>,
    /// The file field; its `value` is the `accept` attribute.
    pub file: Option<Field>,
    pub fields: Vec<Field>,
    pub button: Button,
}

pub struct Table {
    pub caption: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    /// Shown as a warning badge (something that needs attention).
    pub warning: bool,
    /// A number: aligned right.
    pub num: bool,
    /// The header of its row (`<th scope="row">`).
    pub row_header: bool,
    /// Small POST forms in the cell, after its text (one per button).
    pub forms: Vec<CellForm>,
}

/// A one-button POST form inside a table cell.
pub struct CellForm {
    pub action: String,
    pub csrf: String,
    pub hidden: Vec<(String, String)>,
    pub button: Button,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            href: None,
            warning: false,
            num: false,
            row_header: false,
            forms: Vec::new(),
        }
    }
    /// A number (or « — »), aligned right.
    pub fn num(t: impl Into<String>) -> Cell {
        Cell {
            num: true,
            ..Cell::text(t)
        }
    }
    /// The header of its row.
    pub fn row(t: impl Into<String>) -> Cell {
        Cell {
            row_header: true,
            ..Cell::text(t)
        }
    }
    pub fn warning(t: impl Into<String>) -> Cell {
        Cell {
            warning: true,
            ..Cell::text(t)
        }
    }
    pub fn link(t: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            href: Some(href.into()),
            ..Cell::text(t)
        }
    }
}

pub struct FormView {
    pub action: String,
    pub csrf: String,
    pub hidden: Vec<(String, String)>,
    pub fields: Vec<Field>,
    pub buttons: Vec<Button>,
}

pub struct Button {
    pub name: String,
    pub value: String,
    pub label: String,
    pub secondary: bool,
}

impl Button {
    pub fn primary(label: &str) -> Button {
        Button {
            name: String::new(),
            value: String::new(),
            label: label.into(),
            secondary: false,
        }
    }
    pub fn named(name: &str, value: &str, label: &str, secondary: bool) -> Button {
        Button {
            name: name.into(),
            value: value.into(),
            label: label.into(),
            secondary,
        }
    }
}

pub enum Kind {
    Text,
    Email,
    /// A day, `YYYY-MM-DD` (the browser shows its date picker).
    Date,
    Password,
    Textarea,
    Select(Vec<Opt>),
    Checkboxes(Vec<Opt>),
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct Field {
    pub id: String,
    pub name: String,
    pub label: String,
    pub hint: Option<String>,
    pub value: String,
    pub error: Option<String>,
    pub kind: Kind,
    pub autocomplete: Option<&'static str>,
    pub disabled: bool,
    /// Names suggested while typing (`admin.js`, from
    /// `/admin/territoires.json`); without script the field is typed and
    /// read by name on the server all the same.
    pub suggest: Option<Suggest>,
}

/// What a text field suggests while typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suggest {
    /// Communes only.
    Communes,
    /// Communes, intercommunalities, départements and France.
    Territories,
}

impl Suggest {
    /// As `admin.js` and `/admin/territoires.json` name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Suggest::Communes => "communes",
            Suggest::Territories => "territoires",
        }
    }
}

impl Field {
    pub fn new(name: &str, label: &str, value: &str, kind: Kind) -> Field {
        Field {
            id: format!("f-{name}"),
            name: name.into(),
            label: label.into(),
            hint: None,
            value: value.into(),
            error: None,
            kind,
            autocomplete: None,
            disabled: false,
            suggest: None,
        }
    }
    pub fn suggest(mut self, s: Suggest) -> Field {
        self.suggest = Some(s);
        self
    }
    pub fn text(name: &str, label: &str, value: &str) -> Field {
        Field::new(name, label, value, Kind::Text)
    }
    pub fn date(name: &str, label: &str, value: &str) -> Field {
        Field::new(name, label, value, Kind::Date)
    }
    pub fn email(name: &str, label: &str, value: &str) -> Field {
        Field::new(name, label, value, Kind::Email)
    }
    pub fn password(name: &str, label: &str, autocomplete: &'static str) -> Field {
        Field::new(name, label, "", Kind::Password).autocomplete(autocomplete)
    }
    pub fn textarea(name: &str, label: &str, value: &str) -> Field {
        Field::new(name, label, value, Kind::Textarea)
    }
    pub fn select(
        name: &str,
        label: &str,
        options: Vec<(String, String)>,
        selected: &str,
    ) -> Field {
        let opts = options
            .into_iter()
            .map(|(value, label)| Opt {
                selected: value == selected,
                value,
                label,
            })
            .collect();
        Field::new(name, label, selected, Kind::Select(opts))
    }
    pub fn checkboxes(name: &str, label: &str, options: Vec<(String, String, bool)>) -> Field {
        let opts = options
            .into_iter()
            .map(|(value, label, selected)| Opt {
                value,
                label,
                selected,
            })
            .collect();
        Field::new(name, label, "", Kind::Checkboxes(opts))
    }
    pub fn hint(mut self, h: &str) -> Field {
        self.hint = Some(h.into());
        self
    }
    pub fn error(mut self, e: Option<String>) -> Field {
        self.error = e;
        self
    }
    pub fn autocomplete(mut self, a: &'static str) -> Field {
        self.autocomplete = Some(a);
        self
    }
    pub fn disabled(mut self, d: bool) -> Field {
        self.disabled = d;
        self
    }
    fn input_type(&self) -> &'static str {
        match self.kind {
            Kind::Email => "email",
            Kind::Date => "date",
            Kind::Password => "password",
            _ => "text",
        }
    }
}

impl Page {
    pub fn new(title: &str, nav: Option<Nav>) -> Page {
        Page {
            title: title.into(),
            nav,
            notice: None,
            errors: vec![],
            blocks: vec![],
        }
    }
}

/// Renders a page as HTML; the back office is never cached.
pub fn render(page: &Page) -> Response {
    match page.render() {
        Ok(html) => {
            let mut r = Html(html).into_response();
            r.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "admin template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne").into_response()
        }
    }
}

/// A page with a heading and a paragraph.
pub fn message_page(status: StatusCode, user: Option<&User>, title: &str, text: &str) -> Response {
    let _ = user;
    let mut page = Page::new(title, None);
    page.blocks.push(Block::P(text.into()));
    page.blocks.push(Block::Links(vec![(
        "Retour à l'administration".into(),
        "/admin".into(),
    )]));
    let mut r = render(&page);
    *r.status_mut() = status;
    r
}

/// A page of the back office, with the menu of whoever is signed in.
pub fn page(access: &super::Access, title: &str) -> Page {
    let nav = access.user.as_ref().map(|u| Nav::of(u, &access.csrf));
    Page::new(title, nav)
}

/// A rendered page with another status than 200.
pub fn render_with(status: StatusCode, page: &Page) -> Response {
    let mut r = render(page);
    *r.status_mut() = status;
    r
}
