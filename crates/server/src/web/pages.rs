//! Public HTML pages: guides (`/g/{slug}`), document pages, the pages a
//! French public service must have, and the assets they use.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use locadocs_core::guide::{self, Answers, Current, Guide, GuideEnv, Step, StepKind, Walk};
use locadocs_core::locate::{Period, When};
use locadocs_core::snapshot::{Answer, Holder};
use locadocs_core::{InseeCode, Snapshot};
use serde::Deserialize;

use super::AppState;
use super::api::IfNoneMatch;
use super::client_ip::{self, ClientIp};
use super::i18n::{Texts, long_date, texts};
use super::theme::{Lang, Palette, Theme};
use crate::store::{Feedback, Suggestion};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/g/{slug}", get(guide_page))
        .route("/g/{slug}/avis", post(post_feedback))
        .route("/g/{slug}/suggestion", post(post_suggestion))
        .route("/documents", get(documents_index))
        .route("/documents/{slug}", get(document_page))
        .route("/accessibilite", get(accessibility))
        .route("/mentions-legales", get(legal))
        .route("/contact", get(contact))
        .route("/confidentialite", get(privacy))
        .route("/assets/{file}", get(asset))
        .route("/favicon.ico", get(favicon))
        .route("/assets/dsfr/{*path}", get(dsfr_asset))
}

// ---------------------------------------------------------------- layout

/// What every page's frame needs.
pub struct Layout {
    pub lang: &'static str,
    pub title: String,
    pub t: &'static Texts,
    pub dsfr: bool,
    /// Where the DSFR files are (`/assets/dsfr/{version}`).
    pub dsfr_prefix: &'static str,
    /// The page's only inline stylesheet: the host's colours and font, and
    /// the DSFR theme's defaults. Its hash goes into the page's
    /// Content-Security-Policy (see [`render`]).
    pub inline_css: Option<String>,
    pub asset_version: &'static str,
    /// Shown inside the embedded widget: no page frame, links that leave
    /// the guide open in a new tab.
    pub embed: bool,
}

/// Display parameters read from a query string.
#[derive(Debug, Clone)]
pub struct Display {
    pub lang: Lang,
    pub theme: Theme,
    pub palette: Option<Palette>,
    /// CSS for the host's font family, when one was asked for.
    pub font: Option<String>,
    /// Inside the embedded widget (`embed=1`).
    pub embed: bool,
}

impl Display {
    pub fn from_answers(a: &Answers) -> Display {
        Display {
            lang: Lang::parse(a.get("lang")),
            theme: Theme::parse(a.get("theme")),
            palette: Palette::from_param(a.get("color")),
            font: super::theme::font_css(a.get("font")),
            embed: a.get("embed") == Some("1"),
        }
    }

    /// The plain page frame, for pages that take no display parameters.
    pub fn plain(lang: Lang) -> Display {
        Display {
            lang,
            theme: Theme::Neutral,
            palette: None,
            font: None,
            embed: false,
        }
    }

    /// The host's colours and font, then (DSFR theme) Marianne and, without
    /// a colour of the host's, the State's blue. Built only from checked
    /// values ([`Palette::from_param`], [`super::theme::font_css`]).
    fn inline_css(&self) -> Option<String> {
        let mut css = String::new();
        if let Some(p) = &self.palette {
            css.push_str(&p.css());
        }
        if let Some(f) = &self.font {
            css.push_str(f);
        }
        if self.theme == Theme::Dsfr {
            css.push_str(":root{--font:Marianne,arial,sans-serif}");
            if self.palette.is_none() {
                css.push_str(":root{--accent:#000091;--link:#000091}");
            }
        }
        (!css.is_empty()).then_some(css)
    }

    pub fn layout(&self, title: impl Into<String>) -> Layout {
        Layout {
            lang: self.lang.as_str(),
            title: title.into(),
            t: texts(self.lang),
            dsfr: self.theme == Theme::Dsfr,
            dsfr_prefix: dsfr_prefix(),
            inline_css: self.inline_css(),
            asset_version: asset_version(),
            embed: self.embed,
        }
    }
}

fn paragraphs(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("")
        .split("\n\n")
        .map(|p| p.trim().replace('\n', " "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// A paragraph of a guide's text and the list that ends it: lines that
/// begin with « - » are the list's items (a line that does not, after an
/// item, continues it).
struct Block {
    text: String,
    items: Vec<String>,
}

fn blocks(text: Option<&str>) -> Vec<Block> {
    let mut out = Vec::new();
    for para in text.unwrap_or("").split("\n\n") {
        let mut b = Block {
            text: String::new(),
            items: Vec::new(),
        };
        for line in para.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let into = if let Some(item) = line.strip_prefix("- ").or(line.strip_prefix("-\t")) {
                b.items.push(String::new());
                item.trim()
            } else {
                line
            };
            let slot = b.items.last_mut().unwrap_or(&mut b.text);
            if !slot.is_empty() {
                slot.push(' ');
            }
            slot.push_str(into);
        }
        if !b.text.is_empty() || !b.items.is_empty() {
            out.push(b);
        }
    }
    out
}

/// A page with a heading, paragraphs and links.
#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    l: Layout,
    heading: String,
    paragraphs: Vec<String>,
    links: Vec<(String, String)>,
}

/// A page template built on [`Layout`].
pub(super) trait Framed: Template {
    fn frame(&self) -> &Layout;
}

macro_rules! framed {
    ($($t:ty),*) => {
        $(impl $crate::web::pages::Framed for $t {
            fn frame(&self) -> &$crate::web::pages::Layout {
                &self.l
            }
        })*
    };
}
pub(super) use framed;

framed!(MessagePage, GuidePage, DocumentsIndex, DocumentPage);

/// Renders a page; its inline stylesheet, if any, is allowed by hash in the
/// Content-Security-Policy that [`super::headers`] writes.
pub(super) fn render(t: &impl Framed) -> Response {
    match t.render() {
        Ok(html) => {
            let mut resp = Html(html).into_response();
            if let Some(css) = &t.frame().inline_css {
                super::headers::allow_inline_style(&mut resp, css);
            }
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne").into_response()
        }
    }
}

/// A page with a heading, paragraphs and links.
pub(super) fn message(
    status: StatusCode,
    d: &Display,
    heading: &str,
    paras: Vec<String>,
    links: Vec<(String, String)>,
) -> Response {
    let mut resp = render(&MessagePage {
        l: d.layout(heading),
        heading: heading.to_owned(),
        paragraphs: paras,
        links,
    });
    *resp.status_mut() = status;
    resp
}

/// The page for an address that leads nowhere.
pub fn not_found_page(lang: Lang) -> Response {
    let d = Display::plain(lang);
    let t = texts(lang);
    message(
        StatusCode::NOT_FOUND,
        &d,
        t.not_found_title,
        vec![t.not_found_text.to_owned()],
        vec![(
            if lang == Lang::En { "Home" } else { "Accueil" }.to_owned(),
            "/".to_owned(),
        )],
    )
}

// ---------------------------------------------------------------- caching

// ---------------------------------------------------------------- guide

struct Env<'a> {
    snap: &'a Snapshot,
    today: NaiveDate,
}

impl GuideEnv for Env<'_> {
    fn document_type_known(&self, slug: &str) -> bool {
        self.snap.document_type(slug).is_some()
    }
    fn commune_known(&self, code: &str) -> bool {
        InseeCode::parse(code).is_ok_and(|c| self.snap.territories().knows(c))
    }
    fn document_type_label(&self, slug: &str) -> Option<String> {
        self.snap.document_type(slug).map(|d| d.label.clone())
    }
    fn commune_label(&self, code: &str) -> Option<String> {
        let c = InseeCode::parse(code).ok()?;
        let r = self.snap.territories().resolve(c)?;
        Some(match (r.entry, r.former_code) {
            (Some(e), Some(_)) => format!("{} ({})", e.name, r.current.name),
            _ => format!("{} ({})", r.current.name, r.current.departement),
        })
    }
    fn current_year(&self) -> Option<i32> {
        Some(chrono::Datelike::year(&self.today))
    }
}

struct PathRow {
    question: String,
    answer: String,
    change_href: Option<String>,
    /// Shown in French on an English page (no translation): the element
    /// says `lang="fr"`, so that screen readers switch voice.
    question_fr: bool,
    answer_fr: bool,
}

struct ChoiceView {
    id: String,
    value: String,
    label: String,
    help: Option<String>,
    checked: bool,
    /// Label or help shown in French on an English page.
    label_fr: bool,
    help_fr: bool,
}

/// One answer of « Je cherche… »: a document or a need a guide lists,
/// and where it leads.
struct SearchHit {
    label: String,
    href: String,
    /// In another guide than this one: « guide « its title » ».
    note: Option<String>,
}

/// Documents, then the needs the guides list (« les plans de la maison »),
/// each leading into the guide that answers for it: this one when it does,
/// otherwise another published guide, otherwise the document's page.
fn search_results(
    q: &str,
    slug: &str,
    walk: &Walk<'_>,
    snap: &Snapshot,
    lang: Lang,
) -> Vec<SearchHit> {
    const MAX: usize = 8;
    // A run id belongs to its guide: another guide begins its own.
    let display = walk.display.without(&[crate::analytics::RUN_PARAM]);
    let into = |g: &Guide, answers: &Answers| {
        let mut a = if g.slug.as_str() == slug {
            walk.display.clone()
        } else {
            display.clone()
        };
        for (k, v) in answers.pairs() {
            a.push(k, v.as_str());
        }
        let title = if lang == Lang::En {
            g.translations
                .get("en")
                .and_then(|t| t.title.clone())
                .unwrap_or_else(|| g.title.clone())
        } else {
            g.title.clone()
        };
        let note = (g.slug.as_str() != slug).then(|| format!("guide « {title} »"));
        (href(g.slug.as_str(), &a.to_query()), note)
    };
    // This guide first, then the others.
    let guides: Vec<&Guide> = snap
        .guide(slug)
        .into_iter()
        .chain(snap.guides().filter(|g| g.slug.as_str() != slug))
        .collect();
    let mut out: Vec<SearchHit> = Vec::new();
    for doc in guide::find_documents(q, snap.document_types(), MAX) {
        let (href, note) = match guides
            .iter()
            .find_map(|g| guide::branch_for_document(g, doc.slug.as_str()).map(|a| (g, a)))
        {
            Some((g, a)) => into(g, &a),
            None => (format!("/documents/{}", doc.slug), None),
        };
        out.push(SearchHit {
            label: doc.label.clone(),
            href,
            note,
        });
    }
    for need in guide::find_needs(q, guides.iter().copied(), MAX) {
        let (href, note) = into(need.guide, &need.answers());
        if out.iter().any(|h| h.href == href) {
            continue;
        }
        out.push(SearchHit {
            label: need.label.to_owned(),
            href,
            note,
        });
    }
    out.truncate(MAX);
    out
}

/// « Un document ou ce que vous voulez savoir, par exemple « Permis de
/// construire » ou « Cadastre ». »: the first documents this guide leads to.
fn search_hint(snap: &Snapshot, slug: &str, lang: Lang) -> String {
    let examples: Vec<String> = snap
        .guide(slug)
        .map(|g| g.document_types())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| snap.document_type(d))
        .take(3)
        .map(|d| format!("« {} »", d.label))
        .collect();
    let (lead, e, or) = match lang {
        Lang::Fr => (
            "Un document ou ce que vous voulez savoir",
            "par exemple",
            "ou",
        ),
        Lang::En => ("A document or what you want to know", "for example", "or"),
    };
    match examples.as_slice() {
        [] => format!("{lead}."),
        [one] => format!("{lead}, {e} {one}."),
        [init @ .., last] => format!("{lead}, {e} {} {or} {last}.", init.join(", ")),
    }
}

struct DocSearch {
    hidden: Vec<(String, String)>,
    q: String,
    results: Option<Vec<SearchHit>>,
    /// « 2 documents correspondent : », read out when the results show.
    summary: String,
    /// Examples taken from this guide's own documents.
    hint: String,
}

struct AskView {
    kind: &'static str,
    var: String,
    question: String,
    help: Vec<String>,
    content: Vec<Block>,
    error: Option<String>,
    /// Texts shown in French on an English page (see [`Untranslated`]).
    fr: Untranslated,
    hidden: Vec<(String, String)>,
    choices: Vec<ChoiceView>,
    unknown: Option<(String, String)>,
    commune_matches: Option<Vec<ChoiceView>>,
    text_value: String,
    doc_search: Option<DocSearch>,
}

struct MatchView {
    /// The service's id, or `@<kind>` for a holder no one has described.
    id: String,
    name: String,
    /// How to find a holder named without contact details.
    lead: Option<String>,
    period: String,
    instructions: Option<String>,
    /// Where the rule comes from, and when it was last checked (words).
    source: Option<String>,
    verified: Option<String>,
    address: Option<String>,
    hours: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    website: Option<String>,
    request_url: Option<String>,
    response_time: Option<String>,
    /// A search in the holder's own online inventories, filled in.
    search_href: Option<String>,
    /// The holder's page on FranceArchives.
    francearchives_href: Option<String>,
    has_contact: bool,
    /// The request form, when the service takes requests through Locadocs.
    ask_href: Option<String>,
    /// Periods without a holder just before this holder's (and the reason
    /// when a rule gives one), shown in their place in time.
    gaps_before: Vec<(String, Option<String>)>,
}

struct DocResult {
    slug: String,
    label: String,
    doc_href: String,
    access_line: String,
    access_class: &'static str,
    earlier: Option<String>,
    /// For a person asking for their own record a document not yet open
    /// to all: how they may obtain it now, said first.
    /// The text, and whether it is the document type's (French) note.
    own_now: Option<(String, bool)>,
    /// « Comment demander », fitted to the document.
    how_to_ask: &'static str,
    /// When the year asked is shared between holders: which date counts,
    /// and whom to ask first.
    straddle: Option<String>,
    /// Reached from needs rather than from the document's name: the needs
    /// chosen that it answers, and what the document is.
    why: Option<(String, Option<String>)>,
    matches: Vec<MatchView>,
    /// Periods without a holder after the last holder's, and the reason
    /// when a rule gives one (earlier ones are in [`MatchView::gaps_before`]).
    uncovered: Vec<(String, Option<String>)>,
    /// The holder timeline drawn beside the text (SVG).
    chart: Option<String>,
}

struct FeedbackView {
    action: String,
    hidden: Vec<(String, String)>,
    thanks: bool,
}

struct ResultView {
    commune_line: String,
    date_line: String,
    documents: Vec<DocResult>,
    feedback: FeedbackView,
    /// « Sans ce guide, à qui vous seriez-vous adressé ? »
    orientation: super::stats::Orientation,
}

struct DeadEndView {
    fr: Untranslated,
    question: String,
    content: Vec<Block>,
    help: Vec<String>,
    action: String,
    hidden: Vec<(String, String)>,
    thanks: bool,
}

/// Which of a step's texts an English page shows in French, for want of a
/// translation (or because they are messages the engine writes in French).
#[derive(Default)]
struct Untranslated {
    question: bool,
    help: bool,
    content: bool,
    error: bool,
    unknown: bool,
}

impl Untranslated {
    /// Compares the texts shown (`shown`) with the French ones (`fr`).
    fn of(shown: &Step, fr: Option<&Step>, en: bool) -> Untranslated {
        let same = |a: &Option<String>, b: Option<&Option<String>>| {
            en && a.is_some() && b.is_some_and(|b| b == a)
        };
        Untranslated {
            question: same(&shown.question, fr.map(|f| &f.question)),
            help: same(&shown.help, fr.map(|f| &f.help)),
            content: same(&shown.content, fr.map(|f| &f.content)),
            error: en,
            unknown: en
                && shown.unknown_label().is_some()
                && shown.unknown_label() != Some(guide::UNKNOWN_LABEL)
                && fr.and_then(Step::unknown_label) == shown.unknown_label(),
        }
    }
}

enum GuideBody {
    Ask(Box<AskView>),
    Result(ResultView),
    DeadEnd(DeadEndView),
}

#[derive(Template)]
#[template(path = "guide.html")]
struct GuidePage {
    l: Layout,
    guide_title: String,
    guide_title_fr: bool,
    action: String,
    path: Vec<PathRow>,
    restart_href: String,
    /// In a town hall's widget: asks for another commune than the host's.
    change_commune_href: Option<String>,
    body: GuideBody,
    /// For the widget: the step shown, and on an answer what it says
    /// (document types, holders), as JSON.
    state_step: String,
    state_result: Option<String>,
}

fn href(slug: &str, query: &str) -> String {
    if query.is_empty() {
        format!("/g/{slug}")
    } else {
        format!("/g/{slug}?{query}")
    }
}

/// Formats a period in words: "du 1er janvier 1908 au 30 juin 2015".
fn period_words(p: &Period, lang: Lang) -> String {
    let d = |x| long_date(x, lang);
    match (lang, p.from, p.to) {
        (Lang::Fr, Some(f), Some(t)) => format!("Du {} au {}", d(f), d(t)),
        (Lang::Fr, Some(f), None) => format!("Depuis le {}", d(f)),
        (Lang::Fr, None, Some(t)) => format!("Jusqu'au {}", d(t)),
        (Lang::Fr, None, None) => "Toutes dates".to_owned(),
        (Lang::En, Some(f), Some(t)) => format!("From {} to {}", d(f), d(t)),
        (Lang::En, Some(f), None) => format!("Since {}", d(f)),
        (Lang::En, None, Some(t)) => format!("Until {}", d(t)),
        (Lang::En, None, None) => "All dates".to_owned(),
    }
}

/// A holder's period in words, rolling bounds first as people read them
/// (« Documents de plus de 75 ans ») and the days they fall on today after.
/// A bound counts as rolling only where the period still ends (or starts)
/// on the rule's own rolling day, not where a date asked cut it.
fn held_period_words(
    m: &locadocs_core::snapshot::Match<'_>,
    lang: Lang,
    today: NaiveDate,
) -> String {
    use locadocs_core::reference::Bound;
    let rolling = |b: Option<Bound>, day: Option<NaiveDate>, at: Option<NaiveDate>| match b {
        Some(Bound::YearsAgo(n)) if day.is_some() && day == at => Some(n),
        _ => None,
    };
    let older = rolling(m.rule.to, m.rule.end(today), m.period.to);
    let younger = rolling(m.rule.from, m.rule.start(today), m.period.from);
    let d = |x| long_date(x, lang);
    let lead = match (lang, younger, older) {
        (_, None, None) => return period_words(&m.period, lang),
        (Lang::Fr, Some(a), Some(b)) => format!("Documents de {b} à {a} ans"),
        (Lang::Fr, None, Some(b)) => format!("Documents de plus de {b} ans"),
        (Lang::Fr, Some(a), None) => format!("Documents de moins de {a} ans"),
        (Lang::En, Some(a), Some(b)) => format!("Documents {b} to {a} years old"),
        (Lang::En, None, Some(b)) => format!("Documents over {b} years old"),
        (Lang::En, Some(a), None) => format!("Documents under {a} years old"),
    };
    let days = match (lang, m.period.from, m.period.to) {
        (Lang::Fr, Some(f), Some(t)) => format!("du {} au {}", d(f), d(t)),
        (Lang::Fr, Some(f), None) => format!("depuis le {}", d(f)),
        (Lang::Fr, None, Some(t)) => format!("jusqu'au {}", d(t)),
        (Lang::En, Some(f), Some(t)) => format!("from {} to {}", d(f), d(t)),
        (Lang::En, Some(f), None) => format!("since {}", d(f)),
        (Lang::En, None, Some(t)) => format!("until {}", d(t)),
        (_, None, None) => return lead,
    };
    format!("{lead} ({days})")
}

/// When the year asked falls to more than one holder (a transfer during
/// that year): the exact date decides, which one, and whom to ask first
/// when it is not known — the holder of the year's end.
fn straddle_words(answer: &Answer<'_>, year: i32, lang: Lang) -> Option<String> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1)?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31)?;
    let mut sharing: Vec<&locadocs_core::snapshot::Match<'_>> = answer
        .matches
        .iter()
        .filter(|m| {
            m.period.from.is_none_or(|f| f <= last) && m.period.to.is_none_or(|t| t >= first)
        })
        .collect();
    if sharing.len() < 2 {
        return None;
    }
    sharing.sort_by_key(|m| m.period.from);
    let latest = sharing.last()?.holder.name();
    let urbanism = answer.document_type.theme.as_deref() == Some("urbanisme");
    Some(match (lang, urbanism) {
        (Lang::Fr, true) => format!(
            "L'année {year} est partagée entre {} détenteurs : c'est la date de dépôt de la demande qui décide (voir les périodes ci-dessous). Si vous ne la connaissez pas, écrivez d'abord au service « {latest} », qui détient la fin de l'année {year}.",
            sharing.len()
        ),
        (Lang::Fr, false) => format!(
            "L'année {year} est partagée entre {} détenteurs : c'est la date exacte du document qui décide (voir les périodes ci-dessous). Si vous ne la connaissez pas, écrivez d'abord au service « {latest} », qui détient la fin de l'année {year}.",
            sharing.len()
        ),
        (Lang::En, true) => format!(
            "The year {year} is shared between {} holders: the date the application was filed decides (see the periods below). If you do not know it, write first to « {latest} », which holds the end of {year}.",
            sharing.len()
        ),
        (Lang::En, false) => format!(
            "The year {year} is shared between {} holders: the exact date of the document decides (see the periods below). If you do not know it, write first to « {latest} », which holds the end of {year}.",
            sharing.len()
        ),
    })
}

fn hidden_pairs(a: &Answers) -> Vec<(String, String)> {
    a.pairs().to_vec()
}

#[allow(clippy::too_many_arguments)]
fn ask_view(
    step: &Step,
    fr_step: Option<&Step>,
    walk: &Walk<'_>,
    raw: &Answers,
    snap: &Snapshot,
    first: bool,
    slug: &str,
    d: &Display,
) -> AskView {
    let t = texts(d.lang);
    let en = d.lang == Lang::En;
    let kind = match step.kind {
        StepKind::Choice => "choice",
        StepKind::Multiple => "multiple",
        StepKind::Commune => "commune",
        StepKind::Date => "date",
        _ => "info",
    };
    let var = step.var_name().to_owned();
    let given: Vec<&str> = raw.get_all(&var).collect();
    let choices = step
        .choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let fr = fr_step.and_then(|f| f.choices.get(i));
            ChoiceView {
                id: format!("{}-{}", step.id, i),
                value: c.value.clone(),
                label: c.label.clone(),
                help: c.help.clone(),
                checked: given.contains(&c.value.as_str()),
                label_fr: en && fr.is_some_and(|f| f.label == c.label),
                help_fr: en && c.help.is_some() && fr.is_some_and(|f| f.help == c.help),
            }
        })
        .collect();
    // The default « Je ne sais pas » is the interface's, in its language.
    let unknown = step.unknown_label().map(|label| {
        let label = if label == guide::UNKNOWN_LABEL {
            t.unknown
        } else {
            label
        };
        (guide::UNKNOWN.to_owned(), label.to_owned())
    });
    let unknown = match step.kind {
        StepKind::Date => Some((guide::UNKNOWN.to_owned(), t.unknown.to_owned())),
        _ => unknown,
    };
    let mut text_value = String::new();
    let mut commune_matches: Option<Vec<ChoiceView>> = None;
    if step.kind == StepKind::Commune
        && let Some(q) = raw
            .get("commune_q")
            .map(str::trim)
            .filter(|q| !q.is_empty())
    {
        text_value = q.chars().take(100).collect();
        commune_matches = Some(
            snap.search_communes(&text_value, 10)
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    let current = c.current.and_then(|code| snap.territories().current(code));
                    ChoiceView {
                        id: format!("commune-{i}"),
                        value: c.code.to_string(),
                        label: commune_choice_label(snap, c),
                        help: current.map(|cur| format!("{} {}", t.former_commune, cur.name)),
                        checked: i == 0,
                        label_fr: false,
                        help_fr: false,
                    }
                })
                .collect(),
        );
    }
    if step.kind == StepKind::Date {
        text_value = raw
            .get(guide::YEAR)
            .filter(|y| *y != guide::UNKNOWN)
            .unwrap_or("")
            .chars()
            .take(20)
            .collect();
    }
    let mut error = walk
        .error
        .as_ref()
        .filter(|e| e.step == step.id)
        .map(|e| e.message.clone());
    let mut fr = Untranslated::of(step, fr_step, en);
    // A commune typed but not picked: the list is what to act on.
    if let Some(matches) = &commune_matches
        && error.is_some()
    {
        fr.error = false;
        error = Some(if matches.is_empty() {
            t.commune_none.to_owned()
        } else {
            t.commune_choose.to_owned()
        });
    }
    let doc_search = first.then(|| {
        let q: String = raw
            .get("cherche")
            .unwrap_or("")
            .trim()
            .chars()
            .take(100)
            .collect();
        let results = (!q.is_empty()).then(|| search_results(&q, slug, walk, snap, d.lang));
        let n = results.as_ref().map_or(0, Vec::len);
        let summary = match (d.lang, n) {
            (_, 0) => t.search_none.to_owned(),
            (Lang::Fr, 1) => "1 réponse correspond :".to_owned(),
            (Lang::Fr, n) => format!("{n} réponses correspondent :"),
            (Lang::En, 1) => "1 matching answer:".to_owned(),
            (Lang::En, n) => format!("{n} matching answers:"),
        };
        DocSearch {
            hidden: hidden_pairs(&walk.display),
            q,
            results,
            summary,
            hint: search_hint(snap, slug, d.lang),
        }
    });
    AskView {
        fr,
        kind,
        var,
        question: step.question.clone().unwrap_or_default(),
        help: paragraphs(step.help.as_deref()),
        content: blocks(step.content.as_deref()),
        error,
        hidden: hidden_pairs(&walk.kept),
        choices,
        unknown,
        commune_matches,
        text_value,
        doc_search,
    }
}

/// « Rennes (Ille-et-Vilaine, 35) »: the département by name and number.
fn commune_choice_label(snap: &Snapshot, c: &locadocs_core::Commune) -> String {
    match snap.territories().departement(&c.departement) {
        Some(d) => format!("{} ({}, {})", c.name, d.name, c.departement),
        None => format!("{} ({})", c.name, c.departement),
    }
}

/// What a search link is filled with: the commune as asked, the date, the
/// document's name.
struct SearchFor<'a> {
    commune: &'a str,
    when: When,
    document: &'a str,
}

fn match_view(
    m: &locadocs_core::snapshot::Match<'_>,
    lang: Lang,
    today: NaiveDate,
    search: &SearchFor<'_>,
) -> MatchView {
    let (search_href, francearchives_href) = match m.holder {
        Holder::Service(s) => (
            locadocs_core::search_link::for_service(
                s,
                search.commune,
                search.when,
                search.document,
            ),
            s.francearchives_url.clone(),
        ),
        Holder::Unknown { .. } => (None, None),
    };
    let (address, hours, phone, email, website, request_url, response_time) = match m.holder {
        Holder::Service(s) => {
            let line2 = [s.postal_code.as_deref(), s.city.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let address = match (s.address.as_deref(), line2.is_empty()) {
                (Some(a), false) => Some(format!("{a}, {line2}")),
                (Some(a), true) => Some(a.to_owned()),
                (None, false) => Some(line2),
                (None, true) => None,
            };
            (
                address,
                s.opening_hours.clone(),
                s.phone.clone(),
                s.email.clone(),
                s.website.clone(),
                s.request_url.clone(),
                s.response_time.clone(),
            )
        }
        Holder::Unknown { .. } => (None, None, None, None, None, None, None),
    };
    let has_contact = address.is_some()
        || hours.is_some()
        || phone.is_some()
        || email.is_some()
        || website.is_some()
        || response_time.is_some();
    MatchView {
        id: match m.holder {
            Holder::Service(s) => s.id.to_string(),
            Holder::Unknown { kind, .. } => format!("@{kind}"),
        },
        name: m.holder.name(),
        lead: m.holder.lead().map(str::to_owned),
        period: held_period_words(m, lang, today),
        instructions: m.rule.instructions.clone(),
        source: m
            .rule
            .source
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_end_matches('.').to_owned()),
        verified: m.rule.verified_at.map(|d| long_date(d, lang)),
        address,
        hours,
        phone,
        email,
        website,
        request_url,
        response_time,
        search_href,
        francearchives_href,
        has_contact,
        ask_href: None,
        gaps_before: Vec::new(),
    }
}

fn doc_result(
    answer: &Answer<'_>,
    when: When,
    lang: Lang,
    t: &Texts,
    today: NaiveDate,
    own_record: bool,
    year: Option<i32>,
) -> DocResult {
    let res = &answer.commune;
    let search = SearchFor {
        commune: match (res.former_code, res.entry) {
            (Some(_), Some(e)) => &e.name,
            _ => &res.current.name,
        },
        when,
        document: &answer.document_type.label,
    };
    let c = &answer.communicability;
    // Their own record: what they may do now leads, the date from which
    // anyone may consult it follows. The document type's note says how.
    let own_now = (own_record && c.free != Some(true)).then(|| {
        c.note
            .clone()
            .map_or_else(|| (t.own_now_how.to_owned(), false), |n| (n, true))
    });
    let (access_line, access_class) = match (c.free, c.free_from) {
        (Some(true), _) => (t.free_now.to_owned(), "free"),
        (Some(false), Some(from)) => (
            format!("{} {}.", t.free_from, long_date(from, lang)),
            "notyet",
        ),
        _ => (
            match lang {
                Lang::Fr => format!("{}{} ans après sa date.", t.not_free_unknown, c.delay_years),
                Lang::En => format!(
                    "{}{} years after its date.",
                    t.not_free_unknown, c.delay_years
                ),
            },
            "notyet",
        ),
    };
    let mut uncovered: Vec<(Option<NaiveDate>, String, Option<String>)> = answer
        .uncovered
        .iter()
        .map(|p| (p.from, period_words(p, lang), None))
        .chain(answer.unstated.iter().map(|u| {
            (
                u.period.from,
                period_words(&u.period, lang),
                u.reason().map(str::to_owned),
            )
        }))
        .collect();
    uncovered.sort_by_key(|u| u.0);
    // Oldest first, each period without a holder in its place in time:
    // before the first holder that starts after it, or at the end.
    let mut held: Vec<&locadocs_core::snapshot::Match<'_>> = answer.matches.iter().collect();
    held.sort_by_key(|m| m.period.from);
    let mut gaps = uncovered.into_iter().peekable();
    let mut matches = Vec::with_capacity(held.len());
    for m in held {
        let mut v = match_view(m, lang, today, &search);
        while let Some(g) = gaps.peek() {
            let before = match (g.0, m.period.from) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(a), Some(b)) => a < b,
            };
            if !before {
                break;
            }
            let (_, p, r) = gaps.next().expect("peeked");
            v.gaps_before.push((p, r));
        }
        matches.push(v);
    }
    let mut uncovered: Vec<(String, Option<String>)> = gaps.map(|(_, p, r)| (p, r)).collect();
    if answer.matches.is_empty() && uncovered.is_empty() {
        uncovered.push((period_words(&Period::ALL, lang), None));
    }
    DocResult {
        slug: answer.document_type.slug.to_string(),
        label: answer.document_type.label.clone(),
        doc_href: format!("/documents/{}", answer.document_type.slug),
        access_line,
        access_class,
        earlier: if own_now.is_some() {
            None
        } else {
            c.note.clone()
        },
        own_now,
        how_to_ask: super::i18n::how_to_ask(
            answer.document_type.slug.as_str(),
            answer.document_type.theme.as_deref(),
            lang,
        ),
        straddle: year.and_then(|y| straddle_words(answer, y, lang)),
        why: None,
        matches,
        uncovered,
        chart: super::charts::answer_chart(answer, today, lang),
    }
}

async fn guide_page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
    headers: IfNoneMatch,
    request_headers: HeaderMap,
) -> Response {
    let snap = state.live.snapshot();
    let mut raw_answers = Answers::parse_query(raw.as_deref().unwrap_or(""));
    // A form's empty field next to the answer chosen (`savoir=&savoir=non`):
    // the address people keep and share is the clean one.
    if let Some(clean) = raw_answers.without_shadowed_empties() {
        return Redirect::to(&format!("/g/{slug}?{}", clean.to_query())).into_response();
    }
    // A registered site that restricts framing: only its origins may show
    // pages asked for with its key. Any other key counts as no site.
    let site = raw_answers.get("site").and_then(|k| snap.site(k));
    let csp = site.and_then(|s| s.frame_ancestors());
    // The run id: kept when this instance made it, otherwise a new run
    // begins (a forged or garbled id too).
    let mut visit = None;
    if state.analytics.enabled() && snap.guide(&slug).is_some() {
        let store = state.live.store();
        let given = raw_answers
            .get(crate::analytics::RUN_PARAM)
            .map(str::to_owned);
        let kept = match given {
            Some(r) if state.analytics.verify_run(store.as_ref(), &r).await => Some((r, false)),
            _ => state
                .analytics
                .new_run(store.as_ref())
                .await
                .map(|r| (r, true)),
        };
        if let Some((run, new_run)) = kept {
            if new_run {
                raw_answers = raw_answers
                    .without(&[crate::analytics::RUN_PARAM])
                    .with(crate::analytics::RUN_PARAM, run.clone());
            }
            // A host page's origin, when the browser told it (a link from a
            // host page: never inside the widget, whose frame sends no
            // referrer).
            let from_host = site.is_some() || raw_answers.get("embed") == Some("1");
            let origin = request_headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .filter(|_| from_host && new_run)
                .and_then(crate::analytics::origin_of)
                .filter(|o| {
                    crate::analytics::origin_of(&state.admin.public_url).as_ref() != Some(o)
                })
                .unwrap_or_default();
            visit = Some(Visit {
                run,
                new_run,
                origin,
            });
        }
    }
    let usage = Counter {
        usage: &state.usage,
        day: state.clock.today(),
        site: site.map(|s| s.key.as_str()),
        analytics: &state.analytics,
        visit,
    };
    let mut resp = guide_response(&state, &snap, &slug, raw_answers, headers, usage);
    if let Some(csp) = csp {
        super::headers::restrict_framing(&mut resp, csp);
    }
    resp
}

/// The run a guide page load belongs to.
struct Visit {
    run: String,
    /// This load began the run.
    new_run: bool,
    /// The host page's origin, when known, else empty.
    origin: String,
}

/// Counts guide use for statistics.
struct Counter<'a> {
    usage: &'a crate::usage::Usage,
    day: NaiveDate,
    site: Option<&'a str>,
    analytics: &'a crate::analytics::Recorder,
    visit: Option<Visit>,
}

impl Counter<'_> {
    fn record(&self, guide: &str, embed: bool, event: crate::usage::Event) {
        let channel = if embed {
            crate::usage::Channel::Embed
        } else {
            crate::usage::Channel::Direct
        };
        self.usage
            .record(self.day, guide, self.site, channel, event);
    }

    /// Records a page load's audience events (see `docs/analytics.md`).
    fn page_load(&self, guide: &str, shown: crate::analytics::PageLoad) {
        let Some(v) = &self.visit else { return };
        self.analytics.page_load(crate::analytics::PageLoad {
            base: crate::store::RawEvent {
                at: crate::analytics::now_utc(),
                day: super::api::iso_day(self.day),
                run: v.run.clone(),
                guide: guide.to_owned(),
                site: self.site.unwrap_or_default().to_owned(),
                origin: v.origin.clone(),
                ..crate::store::RawEvent::default()
            },
            new_run: v.new_run,
            ..shown
        });
    }
}

fn guide_response(
    state: &AppState,
    snap: &Arc<Snapshot>,
    slug: &str,
    raw_answers: Answers,
    headers: IfNoneMatch,
    usage: Counter<'_>,
) -> Response {
    let mut raw = raw_answers;
    // "Chercher à nouveau" on the list of matching communes: the text typed
    // wins over the commune ticked in the list.
    if raw.contains("recherche") {
        raw = Answers::from_pairs(
            raw.pairs()
                .iter()
                .filter(|(k, _)| k != guide::COMMUNE && k != "recherche")
                .cloned(),
        );
    }
    // A commune typed and sent without picking one in the list: when the
    // text means one commune beyond doubt (« Rennes », « 35000 »), it is
    // that commune; otherwise the list of matches is shown.
    if raw.get(guide::COMMUNE).is_none_or(str::is_empty)
        && let Some(q) = raw
            .get("commune_q")
            .map(str::trim)
            .filter(|q| !q.is_empty())
        && let Some(c) = snap.obvious_commune(q)
    {
        raw = raw
            .without(&[guide::COMMUNE])
            .with(guide::COMMUNE, c.code.as_str());
    }
    let d = Display::from_answers(&raw);
    let Some(stored) = snap.guide(slug) else {
        return not_found_page(d.lang);
    };
    let today = state.clock.today();
    let body = || {
        let localized;
        let g: &Guide = if d.lang == Lang::En {
            localized = stored.localized("en");
            &localized
        } else {
            stored
        };
        render_guide(g, stored, &raw, snap, today, &d, &usage)
    };
    // A page that begins a run carries a new id in its links: never kept
    // by a cache. Later pages have the run in their address.
    if usage.visit.as_ref().is_some_and(|v| v.new_run) {
        let mut resp = body();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return resp;
    }
    super::api::conditional(&headers, snap, today, body)
}

/// `g` is the guide in the page's language, `fr` the guide as written.
#[allow(clippy::too_many_arguments)]
fn render_guide(
    g: &Guide,
    fr: &Guide,
    raw: &Answers,
    snap: &Snapshot,
    today: NaiveDate,
    d: &Display,
    usage: &Counter<'_>,
) -> Response {
    let t = texts(d.lang);
    let en = d.lang == Lang::En;
    let env = Env { snap, today };
    let walk = guide::run(g, raw, &env);
    let slug = g.slug.as_str();
    let path = walk
        .path
        .iter()
        .filter(|a| a.step.kind != StepKind::Info)
        .map(|a| {
            let fr_step = fr.step(&a.step.id);
            let fr_labels: Vec<&str> = a
                .values
                .iter()
                .filter_map(|v| fr_step.and_then(|s| s.choice(v)).map(|c| c.label.as_str()))
                .collect();
            PathRow {
                question: a.step.question.clone().unwrap_or_else(|| a.step.id.clone()),
                answer: if a.labels.is_empty() {
                    a.values.join(", ")
                } else {
                    a.labels.join(", ")
                },
                change_href: Some(href(slug, &a.query)),
                question_fr: en
                    && a.step.question.is_some()
                    && fr_step.is_some_and(|f| f.question == a.step.question),
                // Choice labels left in French, document names (data, in
                // French), « Je ne sais pas » of the guide's own wording.
                answer_fr: en
                    && match a.step.kind {
                        StepKind::Choice | StepKind::Multiple if !a.preset => {
                            !fr_labels.is_empty()
                                && a.labels.iter().map(String::as_str).eq(fr_labels)
                                || a.values.iter().any(|v| v == guide::UNKNOWN)
                                    && a.labels.iter().any(|l| l != guide::UNKNOWN_LABEL)
                                    && fr_step.and_then(Step::unknown_label)
                                        == a.labels.first().map(String::as_str)
                        }
                        _ => a.preset,
                    },
            }
        })
        .collect();
    let first = walk.path.is_empty();
    if first && matches!(walk.current, Current::Step(_)) {
        usage.record(slug, d.embed, crate::usage::Event::Start);
    }
    let mut facts = Vec::new();
    let (title, body) = match &walk.current {
        Current::Step(step) => {
            let view = ask_view(step, fr.step(&step.id), &walk, raw, snap, first, slug, d);
            (view.question.clone(), GuideBody::Ask(Box::new(view)))
        }
        Current::DeadEnd(step) => {
            let mut hidden = hidden_pairs(&walk.display);
            hidden.push(("step".into(), step.id.clone()));
            hidden.push(("back".into(), walk.kept.to_query()));
            let view = DeadEndView {
                fr: Untranslated {
                    // Its help starts with the engine's message, if any.
                    help: en && (walk.error.is_some() || step.help.is_some()),
                    ..Untranslated::of(step, fr.step(&step.id), en)
                },
                question: step.question.clone().unwrap_or_default(),
                content: blocks(step.content.as_deref()),
                help: walk
                    .error
                    .iter()
                    .map(|e| e.message.clone())
                    .chain(paragraphs(step.help.as_deref()))
                    .collect(),
                action: format!("/g/{slug}/suggestion"),
                hidden,
                thanks: raw.get("merci").is_some(),
            };
            (view.question.clone(), GuideBody::DeadEnd(view))
        }
        Current::Result {
            document_types,
            commune,
            year,
            year_to,
            ..
        } => {
            let when = match (*year, *year_to) {
                (Some(a), Some(b)) => When::Years(a, b),
                (Some(y), None) => When::Year(y),
                _ => When::Unknown,
            };
            let commune = commune.clone().unwrap_or_default();
            let answers: Vec<Answer<'_>> = document_types
                .iter()
                .filter_map(|doc| snap.locate(doc, &commune, when, today).ok())
                .collect();
            facts = answers
                .iter()
                .map(|a| crate::analytics::AnswerFacts {
                    document_type: a.document_type.slug.to_string(),
                    holders: a
                        .matches
                        .iter()
                        .filter_map(|m| match m.holder {
                            Holder::Service(s) => Some(s.id.to_string()),
                            Holder::Unknown { .. } => None,
                        })
                        .collect(),
                    date_known: year.is_some(),
                    complete: a.is_complete(),
                })
                .collect();
            let commune_line = match answers.first().map(|a| &a.commune) {
                Some(r) => match (r.former_code, r.entry) {
                    (Some(code), entry) => format!(
                        "{}{} {} ({}, {} {})",
                        t.for_commune,
                        t.colon,
                        entry.map(|e| e.name.as_str()).unwrap_or(code.as_str()),
                        code,
                        t.former_commune,
                        r.current.name
                    ),
                    (None, _) => format!(
                        "{}{} {} ({})",
                        t.for_commune, t.colon, r.current.name, r.current.code
                    ),
                },
                None => String::new(),
            };
            let date_line = match (year, year_to, d.lang) {
                (Some(a), Some(b), Lang::Fr) => {
                    format!(
                        "Années des documents : de {a} à {b}, tous les détenteurs de la période"
                    )
                }
                (Some(a), Some(b), Lang::En) => {
                    format!("Years of the documents: {a} to {b}, every holder of the period")
                }
                (Some(y), None, Lang::Fr) => format!("Année du document : {y}"),
                (Some(y), None, Lang::En) => format!("Year of the document: {y}"),
                (None, _, _) => t.year_any.to_owned(),
            };
            let mut hidden = hidden_pairs(&walk.display);
            hidden.push(("back".into(), walk.kept.to_query()));
            if let Some(doc) = document_types.first() {
                hidden.push(("document_type".into(), doc.clone()));
            }
            hidden.push(("commune".into(), commune.clone()));
            let own_record = walk
                .vars
                .get(guide::OWN_RECORD)
                .is_some_and(|v| v.iter().any(|x| x == guide::OWN_RECORD_YES));
            let mut documents: Vec<DocResult> = answers
                .iter()
                .map(|a| {
                    doc_result(
                        a,
                        when,
                        d.lang,
                        t,
                        today,
                        own_record,
                        year.filter(|_| year_to.is_none()),
                    )
                })
                .collect();
            // A document proposed for needs (« je sais seulement ce que je
            // cherche »): say which of them it answers, and what it is.
            for (doc, a) in documents.iter_mut().zip(&answers) {
                let slug = doc.slug.clone();
                let needs: Vec<String> = walk
                    .path
                    .iter()
                    .filter(|p| p.step.kind == StepKind::Multiple)
                    .flat_map(|p| {
                        let slug = &slug;
                        p.values.iter().zip(&p.labels).filter_map(move |(v, l)| {
                            let c = p.step.choices.iter().find(|c| &c.value == v)?;
                            let set = c.set.get(guide::DOCUMENT_TYPE)?;
                            set.as_slice()
                                .iter()
                                .any(|x| x == slug)
                                .then(|| format!("« {l} »"))
                        })
                    })
                    .collect();
                if needs.is_empty() {
                    continue;
                }
                let needs = match (needs.split_last(), d.lang) {
                    (Some((last, [])), _) => last.clone(),
                    (Some((last, rest)), Lang::Fr) => format!("{} et {last}", rest.join(", ")),
                    (Some((last, rest)), Lang::En) => format!("{} and {last}", rest.join(", ")),
                    (None, _) => continue,
                };
                let lead = match d.lang {
                    Lang::Fr => format!("Ce document répond à ce que vous cherchez : {needs}."),
                    Lang::En => format!("This document answers what you are looking for: {needs}."),
                };
                doc.why = Some((lead, a.document_type.description.clone()));
            }
            // Holders that take requests through Locadocs offer the form,
            // prefilled with what the guide knows.
            for doc in &mut documents {
                for m in &mut doc.matches {
                    if !snap.accepts_requests(&m.id) {
                        continue;
                    }
                    let mut q = form_urlencoded::Serializer::new(String::new());
                    q.append_pair("document", &doc.slug)
                        .append_pair("service", &m.id)
                        .append_pair("commune", &commune)
                        .append_pair("guide", slug);
                    match (year, year_to) {
                        (Some(a), Some(b)) => {
                            q.append_pair("annee", &format!("{a}-{b}"));
                        }
                        (Some(y), None) => {
                            q.append_pair("annee", &y.to_string());
                        }
                        _ => {}
                    }
                    for (k, v) in walk.display.pairs() {
                        q.append_pair(k, v);
                    }
                    q.append_pair("retour", &href(slug, &walk.kept.to_query()));
                    m.ask_href = Some(format!("/demande/nouvelle?{}", q.finish()));
                }
            }
            let orientation =
                super::stats::orientation(slug, document_types, &commune, *year, d.lang, raw);
            let view = ResultView {
                commune_line,
                date_line,
                documents,
                orientation,
                feedback: FeedbackView {
                    action: format!("/g/{slug}/avis"),
                    hidden,
                    thanks: raw.get("merci").is_some(),
                },
            };
            usage.record(slug, d.embed, crate::usage::Event::Result);
            (t.answer_title.to_owned(), GuideBody::Result(view))
        }
    };
    let state_step = match &walk.current {
        Current::Step(step) | Current::DeadEnd(step) | Current::Result { step, .. } => {
            step.id.clone()
        }
    };
    usage.page_load(
        slug,
        crate::analytics::PageLoad {
            step: state_step.clone(),
            answered: walk
                .path
                .last()
                .filter(|a| matches!(a.step.kind, StepKind::Choice | StepKind::Multiple))
                .filter(|a| !a.preset)
                .map(|a| (a.step.id.clone(), a.values.clone())),
            dead_end: matches!(walk.current, Current::DeadEnd(_)),
            answers: facts,
            ..crate::analytics::PageLoad::default()
        },
    );
    let state_result = match &body {
        GuideBody::Result(r) => Some(
            serde_json::json!({
                "documentTypes": r.documents.iter().map(|d| &d.slug).collect::<Vec<_>>(),
                "holders": r.documents.iter().flat_map(|d| d.matches.iter().map(|m| &m.id)).collect::<Vec<_>>(),
                "commune": raw.get(guide::COMMUNE),
            })
            .to_string(),
        ),
        _ => None,
    };
    render(&GuidePage {
        l: d.layout(format!("{title} – {}", g.title)),
        guide_title: g.title.clone(),
        guide_title_fr: en && g.title == fr.title,
        action: format!("/g/{slug}"),
        path,
        restart_href: href(slug, &walk.restart_query()),
        change_commune_href: walk.change_commune_query().map(|q| href(slug, &q)),
        body,
        state_step,
        state_result,
    })
}

// ---------------------------------------------------------------- feedback

/// A rating or suggestion form as posted.
#[derive(Debug, Deserialize)]
pub struct PostedForm {
    rating: Option<String>,
    comment: Option<String>,
    text: Option<String>,
    step: Option<String>,
    document_type: Option<String>,
    commune: Option<String>,
    back: Option<String>,
    site: Option<String>,
    lang: Option<String>,
    /// The run id the page carried.
    run: Option<String>,
    /// A field people never see: bots fill it.
    website: Option<String>,
}

/// A form post's audience event: the run kept only when this instance made
/// it, the site only when registered. Never the comment or the text.
async fn form_event(
    state: &AppState,
    slug: &str,
    form: &PostedForm,
    kind: &str,
) -> crate::store::RawEvent {
    let snap = state.live.snapshot();
    let run = match form.run.as_deref() {
        Some(r)
            if state
                .analytics
                .verify_run(state.live.store().as_ref(), r)
                .await =>
        {
            r.to_owned()
        }
        _ => String::new(),
    };
    crate::store::RawEvent {
        at: crate::analytics::now_utc(),
        day: super::api::iso_day(state.clock.today()),
        run,
        kind: kind.to_owned(),
        guide: slug.to_owned(),
        site: form
            .site
            .as_deref()
            .filter(|k| snap.site(k).is_some())
            .unwrap_or_default()
            .to_owned(),
        ..crate::store::RawEvent::default()
    }
}

/// Longest comment or suggestion kept.
const MAX_TEXT: usize = 1000;

fn clean(s: Option<&str>, max: usize) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(max).collect())
}

/// Back to the page the form was on, with its thanks: the address leads
/// to the thanks (`#merci`), which screen readers then read first.
fn back_to(slug: &str, form: &PostedForm) -> String {
    let mut a = Answers::parse_query(form.back.as_deref().unwrap_or(""));
    a.push("merci", "1");
    format!("{}#merci", href(slug, &a.to_query()))
}

/// Back to the page the form was on, as it was.
fn back_unchanged(slug: &str, form: &PostedForm) -> String {
    href(
        slug,
        &Answers::parse_query(form.back.as_deref().unwrap_or("")).to_query(),
    )
}

async fn post_feedback(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PeerIp(peer): PeerIp,
    Form(form): Form<PostedForm>,
) -> Response {
    let lang = Lang::parse(form.lang.as_deref());
    if state.live.snapshot().guide(&slug).is_none() {
        return not_found_page(lang);
    }
    if !state.limiter.allow(peer) {
        return too_many(lang);
    }
    let Some(rating) = form
        .rating
        .as_deref()
        .and_then(|r| r.parse::<u8>().ok())
        .filter(|r| (1..=4).contains(r))
    else {
        let d = Display::plain(lang);
        return message(
            StatusCode::BAD_REQUEST,
            &d,
            texts(lang).error_title,
            vec![match lang {
                Lang::Fr => "Choisissez une réponse parmi les quatre proposées.".to_owned(),
                Lang::En => "Choose one of the four answers.".to_owned(),
            }],
            vec![(
                texts(lang).start_again.to_owned(),
                back_unchanged(&slug, &form),
            )],
        );
    };
    if form.website.as_deref().is_none_or(str::is_empty) {
        let f = Feedback {
            guide: slug.clone(),
            document_type: clean(form.document_type.as_deref(), 80),
            commune: clean(form.commune.as_deref(), 5),
            rating,
            comment: clean(form.comment.as_deref(), MAX_TEXT),
            site: clean(form.site.as_deref(), 80),
            lang: lang.as_str().to_owned(),
        };
        if let Err(e) = state.live.store().add_feedback(&f).await {
            tracing::error!(error = %e, "feedback not saved");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        let snap = state.live.snapshot();
        let event = form_event(&state, &slug, &form, crate::store::kind::FEEDBACK).await;
        state.analytics.record(crate::store::RawEvent {
            value: rating.to_string(),
            document_type: f
                .document_type
                .filter(|d| snap.document_type(d).is_some())
                .unwrap_or_default(),
            ..event
        });
    }
    Redirect::to(&back_to(&slug, &form)).into_response()
}

async fn post_suggestion(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PeerIp(peer): PeerIp,
    Form(form): Form<PostedForm>,
) -> Response {
    let lang = Lang::parse(form.lang.as_deref());
    if state.live.snapshot().guide(&slug).is_none() {
        return not_found_page(lang);
    }
    if !state.limiter.allow(peer) {
        return too_many(lang);
    }
    let text = clean(form.text.as_deref(), MAX_TEXT);
    if let (Some(text), true) = (text, form.website.as_deref().is_none_or(str::is_empty)) {
        let s = Suggestion {
            guide: slug.clone(),
            step: clean(form.step.as_deref(), 80).unwrap_or_default(),
            text,
            site: clean(form.site.as_deref(), 80),
            lang: lang.as_str().to_owned(),
        };
        if let Err(e) = state.live.store().add_suggestion(&s).await {
            tracing::error!(error = %e, "suggestion not saved");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        let known_step = state
            .live
            .snapshot()
            .guide(&slug)
            .is_some_and(|g| g.steps.iter().any(|st| st.id == s.step));
        let event = form_event(&state, &slug, &form, crate::store::kind::SUGGESTION).await;
        state.analytics.record(crate::store::RawEvent {
            step: if known_step {
                s.step.clone()
            } else {
                String::new()
            },
            ..event
        });
    }
    Redirect::to(&back_to(&slug, &form)).into_response()
}

fn too_many(lang: Lang) -> Response {
    let d = Display::plain(lang);
    let t = texts(lang);
    let mut resp = message(
        StatusCode::TOO_MANY_REQUESTS,
        &d,
        t.error_title,
        vec![t.too_many.to_owned()],
        vec![],
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("600"));
    resp
}

// ---------------------------------------------------------------- documents

#[derive(Template)]
#[template(path = "documents.html")]
struct DocumentsIndex {
    l: Layout,
    items: Vec<(String, String)>,
}

async fn documents_index(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: IfNoneMatch,
) -> Response {
    let d = Display::from_answers(&Answers::parse_query(raw.as_deref().unwrap_or("")));
    let snap = state.live.snapshot();
    let title = if d.lang == Lang::En {
        "Documents"
    } else {
        "Les documents"
    };
    super::api::conditional(&headers, &snap, state.clock.today(), || {
        let items = snap
            .document_types()
            .iter()
            .map(|doc| (doc.label.clone(), format!("/documents/{}", doc.slug)))
            .collect();
        render(&DocumentsIndex {
            l: d.layout(title),
            items,
        })
    })
}

#[derive(Template)]
#[template(path = "document.html")]
struct DocumentPage {
    l: Layout,
    label: String,
    description: Vec<String>,
    also_called: &'static str,
    aliases: String,
    access_heading: &'static str,
    access: String,
    note: Option<String>,
    related_heading: &'static str,
    related: Vec<(String, String)>,
    guide_links: Vec<(String, String)>,
}

async fn document_page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
    headers: IfNoneMatch,
) -> Response {
    let d = Display::from_answers(&Answers::parse_query(raw.as_deref().unwrap_or("")));
    let snap = state.live.snapshot();
    let Some(doc) = snap.document_type(&slug) else {
        return not_found_page(d.lang);
    };
    let today = state.clock.today();
    super::api::conditional(&headers, &snap, today, || {
        let en = d.lang == Lang::En;
        let access = match (doc.communicability_years, en) {
            (0, false) => {
                "Librement consultable par tous, dès sa création ou sa décision.".to_owned()
            }
            (0, true) => "Freely accessible to everyone as soon as it exists.".to_owned(),
            (n, false) => format!(
                "Librement consultable par tous {n} ans après sa date (Code du patrimoine, article L213-2) : \
                 un document de 1980 l'est à partir du 1er janvier {}.",
                1980 + n + 1
            ),
            (n, true) => format!("Freely accessible to everyone {n} years after its date."),
        };
        let related = snap
            .document_types()
            .iter()
            .filter(|o| o.slug != doc.slug && o.theme.is_some() && o.theme == doc.theme)
            .map(|o| (o.label.clone(), format!("/documents/{}", o.slug)))
            .collect();
        let guide_links = snap
            .guides()
            .filter_map(|g| guide::branch_for_document(g, doc.slug.as_str()).map(|a| (g, a)))
            .map(|(g, a)| {
                (
                    format!("{} – {}", texts(d.lang).open_guide_with, g.title),
                    href(g.slug.as_str(), &a.to_query()),
                )
            })
            .collect();
        render(&DocumentPage {
            l: d.layout(doc.label.clone()),
            label: doc.label.clone(),
            description: paragraphs(doc.description.as_deref()),
            also_called: if en { "Also called:" } else { "On dit aussi :" },
            aliases: doc.aliases.join(", "),
            access_heading: if en {
                "Who may consult it, and when"
            } else {
                "Qui peut le consulter, et quand"
            },
            access,
            note: doc.communicability_note.clone(),
            related_heading: if en {
                "Related documents"
            } else {
                "Documents proches"
            },
            related,
            guide_links,
        })
    })
}

// ---------------------------------------------------------------- required pages

fn query_display(raw: Option<&str>) -> Display {
    Display::from_answers(&Answers::parse_query(raw.unwrap_or("")))
}

async fn home(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: IfNoneMatch,
) -> Response {
    let d = query_display(raw.as_deref());
    let snap = state.live.snapshot();
    let today = state.clock.today();
    super::api::conditional(&headers, &snap, today, || home_page(&d, &snap))
}

fn home_page(d: &Display, snap: &Snapshot) -> Response {
    let mut links: Vec<(String, String)> = snap
        .guides()
        .map(|g| (g.title.clone(), format!("/g/{}", g.slug)))
        .collect();
    links.push(("Tous les documents".into(), "/documents".into()));
    links.push(("Intégrer un guide à votre site".into(), "/integrer".into()));
    links.push((
        "API publique (OpenAPI)".into(),
        "/api/v1/openapi.json".into(),
    ));
    message(
        StatusCode::OK,
        d,
        "Locadocs",
        vec![
            "Trouvez quel document public contient l'information que vous cherchez, qui le détient aujourd'hui \
             pour votre commune et votre date, et si vous pouvez déjà le consulter."
                .into(),
            format!(
                "{} communes et anciennes communes, {} types de documents, {} services, {} règles de détention.",
                snap.territories().commune_count(),
                snap.document_types().len(),
                snap.services().len(),
                snap.holdings().len()
            ),
        ],
        links,
    )
}

/// Pages whose text is compiled in: their validator is the build's.
fn static_page(headers: &IfNoneMatch, body: impl FnOnce() -> Response) -> Response {
    let etag = format!(
        "W/\"static-{}-{}\"",
        env!("CARGO_PKG_VERSION"),
        asset_version()
    );
    super::api::revalidate(headers, etag, body)
}

const ACCESSIBILITY: (&str, &[&str]) = (
    "Déclaration d'accessibilité",
    &[
        "Locadocs s'engage à rendre ses services accessibles, conformément à l'article 47 de la loi n° 2005-102 du 11 février 2005.",
        "État de conformité : Locadocs est non conforme avec le référentiel général d'amélioration de l'accessibilité (RGAA), version 4.1, car aucun audit de conformité n'a encore été réalisé. Une déclaration fondée sur un audit la remplacera.",
        "Résultats des tests dont nous disposons, sans valeur d'audit : à chaque version, chaque type de page (guides, réponses, pages de documents, widget, administration) est vérifié automatiquement avec axe-core, sans erreur détectée ; le parcours complet d'un guide est testé au clavier seul, avec et sans JavaScript, sur un écran d'ordinateur et un écran de 390 pixels de large. Ces tests automatiques ne couvrent qu'une partie des critères du RGAA.",
        "Retour d'information et contact : si vous n'arrivez pas à accéder à un contenu ou à un service, écrivez-nous par la page Contact, ou signalez-le par le formulaire « Est-ce que cela vous a été utile ? » en fin de parcours ; nous vous proposerons une autre façon d'obtenir l'information.",
        "Voies de recours : si vous constatez un défaut d'accessibilité qui vous empêche d'accéder à un contenu et que vous n'obtenez pas de réponse satisfaisante, vous pouvez contacter le Défenseur des droits (defenseurdesdroits.fr).",
    ],
);

const LEGAL: (&str, &[&str]) = (
    "Mentions légales",
    &[
        "Locadocs est un service public numérique qui aide à trouver quel document public contient une information et qui le détient.",
        "Les informations sur les services et sur les documents qu'ils détiennent sont tenues à jour par ces services eux-mêmes. Elles sont données à titre indicatif : en cas de doute, le service concerné fait foi.",
        "Les données territoriales proviennent du Code officiel géographique de l'INSEE, diffusé par Etalab (Licence Ouverte 2.0).",
        "Le code source de Locadocs est publié sous licence EUPL 1.2.",
    ],
);

/// Said in place of a fact of the legal notice that the instance's settings
/// do not give.
const UNSET: &str = "non renseigné par l'exploitant de ce site";

const PRIVACY: (&str, &[&str]) = (
    "Données personnelles",
    &[
        "Locadocs ne dépose aucun cookie et ne vous suit pas d'un site à l'autre. Vos réponses restent dans l'adresse de la page : elles ne sont pas enregistrées.",
        "Quand vous donnez votre avis ou une suggestion, nous enregistrons seulement ce que vous écrivez, la note choisie, le guide, le type de document et la commune concernés. Nous n'enregistrons ni votre adresse IP, ni aucun identifiant.",
        "N'écrivez pas d'informations personnelles dans les champs de commentaire.",
        "Quand vous faites une demande à un service par Locadocs, nous enregistrons ce que vous écrivez dans le formulaire (votre nom, votre adresse électronique, votre téléphone si vous le donnez, votre message, les précisions sur le document), vos pièces jointes et les messages échangés avec le service. Ces données servent uniquement à traiter votre demande : seuls les agents du service qui la reçoit (et les administrateurs de Locadocs) peuvent les lire ; elles ne sont jamais écrites dans les journaux du serveur.",
        "Une demande close est supprimée, avec ses messages et ses pièces jointes, {conservation} après sa clôture ; vous êtes prévenu par courriel deux semaines avant. Le lien personnel qui donne accès à votre demande n'est conservé que sous une forme chiffrée (empreinte) : ne le communiquez pas. Vous pouvez en recevoir un nouveau depuis la page « Je n'ai pas reçu le courriel ».",
        "Mesure d'audience. Pour savoir si les guides sont utiles, Locadocs compte, sur ses propres serveurs, les étapes des guides : un parcours commencé, chaque étape affichée, le choix fait à une question à choix (jamais une commune ni une année tapée, jamais un texte libre), la réponse affichée (type de document, services détenteurs, date connue ou non, réponse complète ou non), une impasse, la note d'un avis (le commentaire reste avec l'avis), l'envoi d'une suggestion (son texte reste avec la suggestion), un clic sur le contact, le site ou la demande d'un service, le guide affiché dans le site d'un partenaire.",
        "Chaque événement enregistré contient uniquement : sa date et son heure (à la seconde), le jour, le guide, l'étape, la valeur choisie ou la note, le type de document, les identifiants des services, la clé du site partenaire qui intègre le guide et l'origine de sa page (par exemple https://www.exemple.fr, sans le reste de l'adresse), si la date était connue et si la réponse était complète, et un identifiant de parcours tiré au hasard.",
        "Cet identifiant de parcours est placé dans l'adresse des pages du guide, pas dans votre navigateur : il relie les étapes d'un même parcours et rien d'autre. Il n'y a ni cookie, ni adresse IP, ni navigateur (« user agent »), ni empreinte, ni suivi d'un site à l'autre. Votre adresse IP sert seulement, en mémoire et sans être enregistrée, à limiter le nombre d'envois.",
        "Ces événements sont conservés {retention_evenements}, puis supprimés. Seuls restent les totaux par jour (nombre d'événements et de parcours), sans identifiant de parcours : ce sont eux qu'affichent la page de statistiques et les tableaux de bord.",
        "Cette mesure respecte les conditions dans lesquelles la CNIL dispense la mesure d'audience de consentement : elle est faite par Locadocs lui-même pour son seul usage, ne produit que des statistiques anonymes, ne permet pas de suivre une personne d'un site à l'autre, et les données brutes sont conservées bien moins de 25 mois.",
    ],
);

/// A page of fixed text: a heading and paragraphs.
fn text_page(
    raw: Option<&str>,
    headers: &IfNoneMatch,
    (title, paragraphs): (&str, &[&str]),
    links: Vec<(String, String)>,
) -> Response {
    let d = query_display(raw);
    static_page(headers, || {
        message(
            StatusCode::OK,
            &d,
            title,
            paragraphs.iter().map(|p| (*p).to_owned()).collect(),
            links,
        )
    })
}

async fn accessibility(RawQuery(raw): RawQuery, headers: IfNoneMatch) -> Response {
    text_page(
        raw.as_deref(),
        &headers,
        ACCESSIBILITY,
        vec![("Nous contacter".to_owned(), "/contact".to_owned())],
    )
}

/// A page whose text depends on the settings read at start: its validator
/// is the build's and a digest of those settings.
fn settings_page(
    headers: &IfNoneMatch,
    settings: &crate::settings::LegalNotice,
    body: impl FnOnce() -> Response,
) -> Response {
    let digest = fingerprint(format!("{settings:?}").into_bytes());
    let etag = format!(
        "W/\"static-{}-{}-{digest}\"",
        env!("CARGO_PKG_VERSION"),
        asset_version()
    );
    super::api::revalidate(headers, etag, body)
}

async fn legal(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: IfNoneMatch,
) -> Response {
    let d = query_display(raw.as_deref());
    let n = &state.admin.legal;
    let (title, intro) = LEGAL;
    settings_page(&headers, n, || {
        let fact = |label: &str, v: &Option<String>| {
            format!("{label} : {}.", v.as_deref().unwrap_or(UNSET))
        };
        let mut paras = vec![
            fact("Éditeur du site", &n.publisher),
            fact("Directeur de la publication", &n.publication_director),
            fact("Hébergeur", &n.hosting_provider),
        ];
        paras.extend(intro.iter().map(|p| (*p).to_owned()));
        message(
            StatusCode::OK,
            &d,
            title,
            paras,
            vec![("Nous contacter".to_owned(), "/contact".to_owned())],
        )
    })
}

/// `/contact`: where to write about Locadocs itself, and where not to.
async fn contact(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: IfNoneMatch,
) -> Response {
    let d = query_display(raw.as_deref());
    let n = &state.admin.legal;
    settings_page(&headers, n, || {
        let en = d.lang == Lang::En;
        let mut paras = vec![if en {
            "Locadocs holds no document itself. To obtain a document, write to the service that holds it: each guide tells you which one and how to reach it, and some services take requests through Locadocs.".to_owned()
        } else {
            "Locadocs ne détient aucun document. Pour obtenir un document, adressez-vous au service qui le détient : chaque guide vous dit lequel et comment le joindre, et certains services reçoivent les demandes par Locadocs.".to_owned()
        }];
        let mut links = Vec::new();
        match &n.contact_email {
            Some(email) => {
                paras.push(if en {
                    "To report an error, an accessibility problem or to ask a question about Locadocs itself, write to us:".to_owned()
                } else {
                    "Pour signaler une erreur, un défaut d'accessibilité, ou poser une question sur Locadocs lui-même, écrivez-nous :".to_owned()
                });
                links.push((email.clone(), format!("mailto:{email}")));
            }
            None => paras.push(if en {
                "No contact address has been given yet by those who run this site. Until then, report an error or an accessibility problem with the form « Est-ce que cela vous a été utile ? » at the end of a guide.".to_owned()
            } else {
                "L'exploitant de ce site n'a pas encore donné d'adresse de contact. En attendant, signalez une erreur ou un défaut d'accessibilité par le formulaire « Est-ce que cela vous a été utile ? » en fin de parcours d'un guide.".to_owned()
            }),
        }
        if let Some(p) = &n.publisher {
            paras.push(if en {
                format!("This site is published by {p}.")
            } else {
                format!("Ce site est édité par {p}.")
            });
        }
        links.push((
            if en { "Home" } else { "Accueil" }.to_owned(),
            "/".to_owned(),
        ));
        message(
            StatusCode::OK,
            &d,
            if en { "Contact" } else { "Nous contacter" },
            paras,
            links,
        )
    })
}

async fn privacy(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: IfNoneMatch,
) -> Response {
    // The page states the retention this instance is set to.
    let days = state.admin.requests.retention_days;
    let event_days = state.analytics.retention_days();
    let d = query_display(raw.as_deref());
    let etag = format!(
        "W/\"static-{}-{}-{days}-{event_days}\"",
        env!("CARGO_PKG_VERSION"),
        asset_version()
    );
    let (title, paragraphs) = PRIVACY;
    super::api::revalidate(&headers, etag, || {
        message(
            StatusCode::OK,
            &d,
            title,
            paragraphs
                .iter()
                .map(|p| {
                    p.replace(
                        "{conservation}",
                        &crate::requests::retention_words(days, Lang::Fr),
                    )
                    .replace(
                        "{retention_evenements}",
                        &crate::requests::retention_words(event_days, Lang::Fr),
                    )
                })
                .collect(),
            vec![],
        )
    })
}

// ---------------------------------------------------------------- assets

const NEUTRAL_CSS: &str = include_str!("../../assets/neutral.css");
const GUIDE_JS: &str = include_str!("../../assets/guide.js");
/// The back office's only script: names suggested while typing.
const ADMIN_JS: &str = include_str!("../../assets/admin.js");
/// The site's icon, drawn for Locadocs: a document under a magnifying glass.
const FAVICON_SVG: &str = include_str!("../../assets/favicon.svg");

/// A short fingerprint of our own assets, so that they can be cached for a
/// year and still change at once after a release.
pub fn asset_version() -> &'static str {
    static V: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        fingerprint(
            NEUTRAL_CSS
                .bytes()
                .chain(GUIDE_JS.bytes())
                .chain(ADMIN_JS.bytes())
                .chain(FAVICON_SVG.bytes()),
        )
    })
}

/// Eight hex digits that change whenever the bytes do (FNV-1a): a cache
/// validator for files compiled into the binary.
pub fn fingerprint(bytes: impl IntoIterator<Item = u8>) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    format!("{:08x}", h as u32)
}

fn cached(content_type: &'static str, body: impl IntoResponse) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    resp
}

async fn asset(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "neutral.css" => cached("text/css; charset=utf-8", NEUTRAL_CSS),
        "guide.js" => cached("text/javascript; charset=utf-8", GUIDE_JS),
        "admin.js" => cached("text/javascript; charset=utf-8", ADMIN_JS),
        "favicon.svg" => cached("image/svg+xml", FAVICON_SVG),
        _ => not_found_page(Lang::Fr),
    }
}

/// Browsers that ask for `/favicon.ico` without reading the page's
/// `<link rel="icon">` get the SVG icon.
async fn favicon() -> Response {
    let mut resp =
        Redirect::permanent(&format!("/assets/favicon.svg?v={}", asset_version())).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    resp
}

mod dsfr {
    include!(concat!(env!("OUT_DIR"), "/dsfr_assets.rs"));
}

pub use dsfr::DSFR_VERSION;

/// The address prefix of the State design system files: the package's
/// version is part of it, so that they can be cached for a year and still
/// change at once when the package is upgraded.
pub fn dsfr_prefix() -> &'static str {
    static P: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    P.get_or_init(|| format!("/assets/dsfr/{DSFR_VERSION}"))
}

/// The DSFR files carried in the binary (built from the npm package by
/// `build.rs`): the two stylesheets, the Marianne fonts and the icons they
/// reference. Path under the package's `dist/`, content type, bytes.
pub fn dsfr_files() -> &'static [(&'static str, &'static str, &'static [u8])] {
    dsfr::DSFR_FILES
}

fn dsfr_file(path: &str) -> Option<(&'static str, &'static [u8])> {
    dsfr::DSFR_FILES
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, t, b)| (*t, *b))
}

async fn dsfr_asset(Path(path): Path<String>) -> Response {
    // `/assets/dsfr/{version}/{file}`: the current version is served; an
    // older version or no version at all (addresses of earlier releases, a
    // page kept in a cache) leads to the current file, never cached.
    let (version, file) = match path.split_once('/') {
        Some((v, f)) if looks_like_version(v) => (Some(v), f),
        _ => (None, path.as_str()),
    };
    match (version, dsfr_file(file)) {
        (Some(v), Some((content_type, bytes))) if v == DSFR_VERSION => cached(content_type, bytes),
        (_, Some(_)) => {
            let mut resp =
                Redirect::temporary(&format!("{}/{file}", dsfr_prefix())).into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            resp
        }
        (_, None) => not_found_page(Lang::Fr),
    }
}

fn looks_like_version(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// What the feedback limit counts by: the client's address (through a
/// trusted reverse proxy, see `client_ip`), its /64 network for IPv6; `None`
/// when the server does not know it. Kept in memory for rate limiting only.
pub struct PeerIp(pub Option<std::net::IpAddr>);

impl axum::extract::FromRequestParts<AppState> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        Ok(PeerIp(ip.map(client_ip::limit_key)))
    }
}

/// Rate limit for the feedback and suggestion forms: a few posts per
/// address per window. Addresses are kept in memory only, never stored.
#[derive(Debug)]
pub struct Limiter {
    per_window: u32,
    window: std::time::Duration,
    seen: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (u32, std::time::Instant)>>,
}

impl Limiter {
    pub fn new(per_window: u32, window: std::time::Duration) -> Arc<Limiter> {
        Arc::new(Limiter {
            per_window,
            window,
            seen: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// Whether one more post from this address is allowed now.
    pub fn allow(&self, ip: Option<std::net::IpAddr>) -> bool {
        let Some(ip) = ip else { return true };
        let now = std::time::Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 100_000 {
            seen.retain(|_, (_, start)| now.duration_since(*start) < self.window);
        }
        let entry = seen.entry(ip).or_insert((0, now));
        if now.duration_since(entry.1) >= self.window {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.0 <= self.per_window
    }
}

#[cfg(test)]
mod tests {
    use super::blocks;

    #[test]
    fn lines_beginning_with_a_dash_are_a_list() {
        let b = blocks(Some(
            "Intro\non two lines.\n\nQuelques pistes :\n- la mairie ;\n- les Archives\n  départementales.\n\nFin.",
        ));
        assert_eq!(b.len(), 3);
        assert_eq!(b[0].text, "Intro on two lines.");
        assert!(b[0].items.is_empty());
        assert_eq!(b[1].text, "Quelques pistes :");
        assert_eq!(b[1].items, ["la mairie ;", "les Archives départementales."]);
        assert_eq!(b[2].text, "Fin.");
        assert!(blocks(None).is_empty());
    }
}
