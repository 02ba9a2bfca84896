//! Holding rules: the list and a commune's timeline of every level, a
//! rule's page, its form with the preview of the public answer, creation,
//! deletion and verification.

use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use locadocs_core::locate::When;
use locadocs_core::reference::parse_day;
use locadocs_core::{Bound, HoldingRule, ServiceRef, Slug, Snapshot};
use serde::Deserialize;

use super::{
    Errors, MAX_TEXT, RevisionForm, SavedQuery, bound_text, check_len, clean, commune_from_words,
    day_text, document_label, err_of, gap_text, gaps_of, holder_name, opt, period_text, rule_title,
    saved, territory_from_words, timeline_table,
};
use crate::store::{Entity, Record, StoredHolding};
use crate::web::AppState;
use crate::web::admin::error::{AdminError, Result, write_notice};
use crate::web::admin::policy::{self, Act};
use crate::web::admin::view::{self, Block, Button, Field, FormView, Notice, Page, Suggest};
use crate::web::admin::{SignedForm, SignedIn};
use crate::web::charts;
use crate::web::theme::Lang;

#[derive(Debug, Default, Deserialize)]
pub struct RulesQuery {
    #[serde(default, rename = "type")]
    document_type: String,
    #[serde(default)]
    commune: String,
    #[serde(flatten)]
    saved: SavedQuery,
}

/// The public answer for a commune and a date, as lines of text.
fn answer_lines(
    snap: &Snapshot,
    doc: &str,
    commune: &str,
    when: When,
    today: NaiveDate,
) -> Vec<(String, String)> {
    match snap.locate(doc, commune, when, today) {
        Err(e) => vec![("Réponse".into(), e.to_string())],
        Ok(a) => {
            let mut lines: Vec<(String, String)> = a
                .matches
                .iter()
                .map(|m| (period_text(m.period.from, m.period.to), m.holder.name()))
                .collect();
            for gap in &a.uncovered {
                lines.push((
                    period_text(gap.from, gap.to),
                    "aucune règle : réponse générale".into(),
                ));
            }
            for u in &a.unstated {
                lines.push((
                    period_text(u.period.from, u.period.to),
                    "aucun détenteur nommé (@inconnu), avec sa raison".into(),
                ));
            }
            if lines.is_empty() {
                lines.push(("Réponse".into(), "aucun détenteur connu".into()));
            }
            lines
        }
    }
}

pub async fn rules(
    State(state): State<AppState>,
    Query(q): Query<RulesQuery>,
    me: SignedIn,
) -> Result {
    let snap = state.live.snapshot();
    let today = state.clock.today();
    let holdings = state.live.store().stored_holdings().await?;
    let mut p = view::page(&me.access, "Règles de détention");
    p.notice = q.saved.notice();
    let docs: Vec<(String, String)> = std::iter::once((String::new(), "Tous".to_owned()))
        .chain(
            snap.document_types()
                .iter()
                .map(|d| (d.slug.to_string(), d.label.clone())),
        )
        .collect();
    let (code, commune_error) = match q.commune.trim() {
        "" => (None, None),
        text => match commune_from_words(&snap, text) {
            Ok(c) => (Some(c), None),
            Err(message) => (None, Some(message)),
        },
    };
    p.blocks.push(Block::Form(FormView {
        action: "/admin/regles".into(),
        csrf: String::new(),
        hidden: vec![],
        fields: vec![
            Field::select("type", "Type de document", docs, &q.document_type),
            Field::text("commune", "Commune", &q.commune)
                .hint("Son nom (Rennes) ou son code INSEE, pour voir la chronologie de tous les niveaux qui la concernent.")
                .suggest(Suggest::Communes)
                .error(commune_error),
        ],
        buttons: vec![Button::primary("Afficher")],
    }));
    p.blocks.push(Block::Links(vec![(
        "Ajouter une règle".into(),
        "/admin/regles/nouvelle".into(),
    )]));
    let commune = code.and_then(|c| snap.territories().resolve(c));
    let doc = q.document_type.trim();
    let of_doc = |h: &&StoredHolding| doc.is_empty() || h.rule.document_type.as_str() == doc;
    let selected: Vec<&StoredHolding> = match code.filter(|_| commune.is_some()) {
        Some(code) => {
            let levels = snap.territories().levels(code);
            let mut v: Vec<&StoredHolding> = holdings
                .iter()
                .filter(of_doc)
                .filter(|h| levels.contains(&h.rule.territory))
                .collect();
            v.sort_by_key(|h| (h.rule.territory.level(), h.rule.start(today)));
            v
        }
        None => holdings.iter().filter(of_doc).collect(),
    };
    let caption = match &commune {
        Some(r) => format!(
            "Chronologie des détenteurs pour {} ({}), du niveau le plus précis au plus général",
            r.current.name, r.current.code
        ),
        None => "Toutes les règles".into(),
    };
    let found = gaps_of(&selected, today);
    p.blocks.push(Block::Table(timeline_table(
        &caption, &selected, &found, &snap,
    )));
    for g in &found {
        p.blocks.push(Block::P(format!(
            "{} La réponse publique vient alors d'un niveau plus général.",
            gap_text(g)
        )));
    }
    // Overlaps: two rules of one type and territory sharing a day.
    let plain: Vec<&HoldingRule> = selected.iter().map(|h| &h.rule).collect();
    for (i, j) in locadocs_core::timeline::overlaps(&plain, today) {
        p.blocks.push(Block::P(format!(
            "Les règles n° {} et n° {} se chevauchent.",
            selected[j].id, selected[i].id
        )));
    }
    if let (Some(r), false) = (&commune, doc.is_empty()) {
        p.blocks
            .push(Block::H2("Réponse publique, toutes dates".into()));
        if let Ok(a) = snap.locate(doc, r.current.code.as_str(), When::Unknown, today) {
            let bands =
                charts::answer_bands(&a.matches, &a.periods_without_holder(), today, Lang::Fr);
            p.blocks.push(Block::Chart(charts::timeline(
                &format!(
                    "Détenteurs de « {} » à {}, toutes dates",
                    a.document_type.label, r.current.name
                ),
                &charts::timeline_desc(&bands, Lang::Fr),
                &bands,
                today,
                Lang::Fr,
            )));
        }
        p.blocks.push(Block::Dl(answer_lines(
            &snap,
            doc,
            r.current.code.as_str(),
            When::Unknown,
            today,
        )));
    }
    Ok(view::render(&p))
}

async fn stored(state: &AppState, id: i64) -> Result<StoredHolding> {
    state
        .live
        .store()
        .stored_holding(id)
        .await?
        .ok_or(AdminError::NotFound)
}

pub async fn rule_page(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
    me: SignedIn,
) -> Result {
    let snap = state.live.snapshot();
    let held = stored(&state, id).await?;
    let r = &held.rule;
    let mut p = view::page(&me.access, &rule_title(&snap, &held));
    p.notice = q.notice();
    p.blocks.push(Block::Dl(vec![
        (
            "Type de document".into(),
            document_label(&snap, r.document_type.as_str()),
        ),
        (
            "Territoire".into(),
            snap.territories().display_name(&r.territory),
        ),
        (
            "Du".into(),
            r.from.map(bound_text).unwrap_or_else(|| "le début".into()),
        ),
        (
            "Au".into(),
            r.to.map(bound_text).unwrap_or_else(|| "aujourd'hui".into()),
        ),
        ("Détenteur".into(), holder_name(&snap, &r.service)),
        ("Consignes".into(), opt(&r.instructions)),
        ("Source".into(), opt(&r.source)),
        ("Vérifiée le".into(), day_text(r.verified_at)),
    ]));
    let mut links = vec![];
    if me.may(Act::WriteRule(r, snap.territories())) {
        links.push((
            "Modifier cette règle".into(),
            format!("/admin/regles/{id}/modifier"),
        ));
    } else if let Some(why) = policy::refusal(&me.user, Act::WriteRule(r, snap.territories())) {
        p.blocks.push(Block::P(format!(
            "{why} Les éditeurs peuvent modifier cette règle."
        )));
    }
    if me.may(Act::ViewHistory(Entity::Holding)) {
        links.push((
            "Historique des modifications".into(),
            format!("/admin/historique/regle/{id}"),
        ));
    }
    p.blocks.push(Block::Links(links));
    Ok(view::render(&p))
}

/// The rule form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    document_type: String,
    #[serde(default)]
    territory: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    instructions: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    revision: Option<i64>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    preview_commune: String,
    #[serde(default)]
    preview_date: String,
}

impl RuleForm {
    fn of(r: &HoldingRule, snap: &Snapshot) -> RuleForm {
        RuleForm {
            document_type: r.document_type.to_string(),
            territory: snap.territories().display_name(&r.territory),
            from: r.from.map(bound_input).unwrap_or_default(),
            to: r.to.map(bound_input).unwrap_or_default(),
            service: r.service.to_string(),
            instructions: opt(&r.instructions),
            source: opt(&r.source),
            ..RuleForm::default()
        }
    }

    /// Parses the form into a rule, or says what is wrong, field by field.
    /// `replacing` is the rule being edited (left out of the overlap check).
    /// Whether the account may write the rule is the caller's to ask.
    fn parse(
        &self,
        snap: &Snapshot,
        today: NaiveDate,
        near: &Neighbours<'_>,
        verified_at: Option<NaiveDate>,
    ) -> std::result::Result<HoldingRule, Errors> {
        let mut errors: Errors = vec![];
        let doc = match Slug::parse(self.document_type.trim()) {
            Ok(s) if snap.document_type(s.as_str()).is_some() => Some(s),
            _ => {
                errors.push((
                    "document_type".into(),
                    "Choisissez un type de document dans la liste.".into(),
                ));
                None
            }
        };
        let territory = match territory_from_words(snap, &self.territory) {
            Ok(t) => Some(t),
            Err(message) => {
                errors.push(("territory".into(), message));
                None
            }
        };
        let bound = |v: &str, f: &str, errs: &mut Errors| -> Option<Bound> {
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            if let Some(n) = rolling_years(v) {
                return Some(Bound::YearsAgo(n));
            }
            match Bound::parse(v) {
                Ok((b, _)) => Some(b),
                Err(e) => {
                    errs.push((f.into(), e.to_string()));
                    None
                }
            }
        };
        let from = bound(&self.from, "from", &mut errors);
        let to = bound(&self.to, "to", &mut errors);
        let service = match ServiceRef::parse(&self.service) {
            Ok(ServiceRef::Id(s)) if snap.service(s.as_str()).is_none() => {
                errors.push((
                    "service".into(),
                    format!("Aucun service n'a l'identifiant « {s} »."),
                ));
                None
            }
            Ok(r) => Some(r),
            Err(_) => {
                errors.push((
                    "service".into(),
                    "Choisissez le détenteur dans la liste.".into(),
                ));
                None
            }
        };
        check_len(&mut errors, "instructions", &self.instructions, 2000);
        check_len(&mut errors, "source", &self.source, MAX_TEXT);
        let (Some(document_type), Some(territory), Some(service)) = (doc, territory, service)
        else {
            return Err(errors);
        };
        let rule = HoldingRule {
            document_type,
            territory,
            from,
            to,
            service,
            instructions: clean(&self.instructions),
            source: clean(&self.source),
            verified_at,
        };
        if rule.is_empty_period(today) {
            errors.push((
                "to".into(),
                "La fin de la période est avant son début.".into(),
            ));
        }
        if let Some(error) = near.overlap(snap, &rule, today) {
            errors.push(error);
        }
        if errors.is_empty() {
            Ok(rule)
        } else {
            Err(errors)
        }
    }
}

/// « 75 ans », « plus de 75 ans », « les documents de plus de 75 ans »,
/// « moins de 75 ans »: a rolling bound of 75 years.
fn rolling_years(v: &str) -> Option<u32> {
    let v = locadocs_core::text::fold(v);
    let v = v
        .trim_start_matches("les documents de ")
        .trim_start_matches("documents de ")
        .trim_start_matches("plus de ")
        .trim_start_matches("moins de ")
        .trim_start_matches("il y a ");
    let n = v
        .strip_suffix(" ans")
        .or_else(|| v.strip_suffix(" an"))?
        .trim();
    n.parse().ok().filter(|n| (1..=500).contains(n))
}

/// A bound as the form shows it: a date as typed in France, a rolling bound
/// as a number of years.
fn bound_input(b: Bound) -> String {
    match b {
        Bound::Date(d) => d.format("%d/%m/%Y").to_string(),
        Bound::Year(y) => y.to_string(),
        Bound::YearsAgo(n) => format!("{n} ans"),
    }
}

/// The stored rules a posted rule must not overlap, and who is asking.
struct Neighbours<'a> {
    rules: &'a [StoredHolding],
    /// The rule being edited, left out.
    replacing: Option<i64>,
    me: &'a SignedIn,
}

impl Neighbours<'_> {
    /// The first stored rule of the same timeline that shares days with
    /// `rule`, as an error on the field that causes it: the start when it
    /// falls inside the other rule, else the end. It names the other rule
    /// and its holder, and says who can change it when the account cannot.
    fn overlap(
        &self,
        snap: &Snapshot,
        rule: &HoldingRule,
        today: NaiveDate,
    ) -> Option<(String, String)> {
        let other = self.rules.iter().find(|h| {
            Some(h.id) != self.replacing
                && h.rule.document_type == rule.document_type
                && h.rule.territory == rule.territory
                && h.rule.overlaps(rule, today)
        })?;
        let o = &other.rule;
        let inside = |d: Option<NaiveDate>| {
            d.is_some_and(|d| {
                o.start(today).is_none_or(|s| s <= d) && o.end(today).is_none_or(|e| d <= e)
            })
        };
        let field = if inside(rule.start(today)) || !inside(rule.end(today)) {
            "from"
        } else {
            "to"
        };
        let what = format!(
            "Cette période chevauche la règle n° {} ({}, {}).",
            other.id,
            period_text(o.start(today), o.end(today)),
            holder_name(snap, &o.service)
        );
        let how = if self.me.may(Act::WriteRule(&other.rule, snap.territories())) {
            format!(
                "Changez les dates de celle-ci, ou celles de la règle n° {} (/admin/regles/{}).",
                other.id, other.id
            )
        } else {
            "Vous ne pouvez pas modifier cette autre règle : changez les dates de celle-ci, ou demandez aux éditeurs d'ajuster l'autre.".to_owned()
        };
        Some((field.to_owned(), format!("{what} {how}")))
    }
}

/// Asks the policy whether the account may write `rule`. A holder that is
/// not the account's can only come from a hand-made request (the form lists
/// only theirs): refused outright. A territory outside their scope can be
/// typed: a field error, with the form kept.
fn may_write(
    me: &SignedIn,
    snap: &Snapshot,
    rule: &HoldingRule,
) -> Result<Option<(String, String)>> {
    let Some(why) = policy::refusal(&me.user, Act::WriteRule(rule, snap.territories())) else {
        return Ok(None);
    };
    let holder_theirs = matches!(&rule.service, ServiceRef::Id(s) if me.user.services.iter().any(|x| x == s.as_str()));
    if !holder_theirs && !policy::edits_everything(&me.user) {
        return Err(AdminError::forbidden(why));
    }
    Ok(Some(("territory".into(), why.to_owned())))
}

/// A parsed rule form, once the account may write the rule: a holder that
/// is not theirs is refused outright (403); field errors, the territory
/// scope's included, are given back for the form.
fn writable(
    me: &SignedIn,
    snap: &Snapshot,
    form: &RuleForm,
    parsed: std::result::Result<HoldingRule, Errors>,
) -> Result<std::result::Result<HoldingRule, Errors>> {
    if let Ok(ServiceRef::Id(s)) = ServiceRef::parse(&form.service) {
        me.ensure(Act::EditService(s.as_str()))?;
    }
    Ok(match parsed {
        Err(errors) => Err(errors),
        Ok(rule) => match may_write(me, snap, &rule)? {
            Some(error) => Err(vec![error]),
            None => Ok(rule),
        },
    })
}

fn rule_fields(
    snap: &Snapshot,
    me: &SignedIn,
    f: &RuleForm,
    errors: &[(String, String)],
) -> Vec<Field> {
    let e = |n: &str| err_of(errors, n);
    let docs = snap
        .document_types()
        .iter()
        .map(|d| (d.slug.to_string(), d.label.clone()))
        .collect();
    let mut holders: Vec<(String, String)> = snap
        .services()
        .iter()
        .filter(|s| me.may(Act::EditService(s.id.as_str())))
        .map(|s| (s.id.to_string(), s.name.clone()))
        .collect();
    if policy::edits_everything(&me.user) {
        holders.insert(0, ("@mairie".into(), "La mairie de la commune".into()));
    }
    let scope = if policy::edits_everything(&me.user) {
        "Une commune (Rennes, ou son code INSEE 35238), une intercommunalité (Rennes Métropole), un département (Ille-et-Vilaine, ou 35) ou France.".to_owned()
    } else {
        format!(
            "Une commune (Rennes, ou son code INSEE 35238), une intercommunalité (Rennes Métropole) ou un département (Ille-et-Vilaine, ou 35). Votre périmètre : {}",
            if me.user.territories.is_empty() {
                "aucun territoire".to_owned()
            } else {
                me.user
                    .territories
                    .iter()
                    .map(|t| snap.territories().display_name(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )
    };
    vec![
        Field::select("document_type", "Type de document", docs, &f.document_type)
            .error(e("document_type")),
        Field::text("territory", "Territoire", &f.territory)
            .hint(&scope)
            .suggest(Suggest::Territories)
            .error(e("territory")),
        Field::text("from", "Du", &f.from)
            .hint("Une date (30/06/2015), une année (1908), ou un nombre d'années : « 75 ans » pour les documents de moins de 75 ans (la borne avance chaque jour). Vide : depuis toujours.")
            .error(e("from")),
        Field::text("to", "Au", &f.to)
            .hint("Une date (31/12/1983), une année (1983), ou un nombre d'années : « 75 ans » pour les documents de plus de 75 ans (la borne avance chaque jour). Vide : jusqu'à aujourd'hui.")
            .error(e("to")),
        Field::select("service", "Détenteur", holders, &f.service).error(e("service")),
        Field::textarea(
            "instructions",
            "Consignes pour le demandeur",
            &f.instructions,
        )
        .error(e("instructions")),
        Field::text("source", "Source", &f.source).error(e("source")),
    ]
}

fn new_rule_page(snap: &Snapshot, me: &SignedIn, f: &RuleForm, errors: Errors) -> Page {
    let mut p = view::page(&me.access, "Nouvelle règle");
    p.blocks.push(Block::Form(FormView {
        action: "/admin/regles/nouvelle".into(),
        csrf: me.access.csrf.clone(),
        hidden: vec![],
        fields: rule_fields(snap, me, f, &errors),
        buttons: vec![Button::primary("Créer la règle")],
    }));
    p.errors = errors;
    p
}

pub async fn rule_new(State(state): State<AppState>, me: SignedIn) -> Result {
    let snap = state.live.snapshot();
    Ok(view::render(&new_rule_page(
        &snap,
        &me,
        &RuleForm::default(),
        vec![],
    )))
}

pub async fn rule_create(
    State(state): State<AppState>,
    SignedForm { me, form }: SignedForm<RuleForm>,
) -> Result {
    let snap = state.live.snapshot();
    let today = state.clock.today();
    let stored_rules = state.live.store().stored_holdings().await?;
    let near = Neighbours {
        rules: &stored_rules,
        replacing: None,
        me: &me,
    };
    let parsed = form.parse(&snap, today, &near, Some(today));
    // A rule for another service's holder is refused outright (403), not
    // merely shown as a field error: it can only come from a hand-made request.
    let rule = match writable(&me, &snap, &form, parsed)? {
        Ok(r) => r,
        Err(errors) => {
            return Err(AdminError::invalid(new_rule_page(
                &snap, &me, &form, errors,
            )));
        }
    };
    let key = state
        .live
        .store()
        .save(
            &me.author(),
            Entity::Holding,
            None,
            None,
            Some(Record::Holding(rule)),
        )
        .await?;
    let _ = state.live.refresh().await;
    Ok(saved(&format!("/admin/regles/{key}")))
}

/// The edit form of a rule, with what it shows around the fields.
struct EditView<'a> {
    snap: &'a Snapshot,
    me: &'a SignedIn,
    id: i64,
    revision: i64,
}

impl EditView<'_> {
    fn page(
        &self,
        f: &RuleForm,
        errors: Errors,
        notice: Option<Notice>,
        preview: Vec<Block>,
    ) -> Page {
        let (id, revision) = (self.id, self.revision);
        let mut p = view::page(&self.me.access, &format!("Modifier la règle n° {id}"));
        p.notice = notice;
        let mut fields = rule_fields(self.snap, self.me, f, &errors);
        fields.push(
            Field::text(
                "preview_commune",
                "Aperçu : commune",
                &f.preview_commune,
            )
            .hint("Son nom (Rennes) ou son code INSEE, pour voir la réponse publique avant et après la modification.")
            .suggest(Suggest::Communes),
        );
        fields.push(
            Field::date("preview_date", "Aperçu : date du document", &f.preview_date)
                .hint("Vide : toutes dates."),
        );
        let csrf = self.me.access.csrf.clone();
        p.blocks.push(Block::Form(FormView {
            action: format!("/admin/regles/{id}/modifier"),
            csrf: csrf.clone(),
            hidden: vec![("revision".into(), revision.to_string())],
            fields,
            buttons: vec![
                Button::named("action", "preview", "Prévisualiser", true),
                Button::named("action", "save", "Enregistrer", false),
            ],
        }));
        p.blocks.extend(preview);
        p.blocks.push(Block::H2("Autres actions".into()));
        p.blocks.push(Block::Form(FormView {
            action: format!("/admin/regles/{id}/verifie"),
            csrf: csrf.clone(),
            hidden: vec![("revision".into(), revision.to_string())],
            fields: vec![],
            buttons: vec![Button::named(
                "verify",
                "1",
                "Ces informations sont à jour",
                true,
            )],
        }));
        p.blocks.push(Block::Form(FormView {
            action: format!("/admin/regles/{id}/supprimer"),
            csrf,
            hidden: vec![("revision".into(), revision.to_string())],
            fields: vec![],
            buttons: vec![Button::named("delete", "1", "Supprimer cette règle", true)],
        }));
        p.errors = errors;
        p
    }
}

pub async fn rule_edit(State(state): State<AppState>, Path(id): Path<i64>, me: SignedIn) -> Result {
    let held = stored(&state, id).await?;
    let snap = state.live.snapshot();
    let v = EditView {
        snap: &snap,
        me: &me,
        id,
        revision: held.revision,
    };
    Ok(view::render(&v.page(
        &RuleForm::of(&held.rule, &snap),
        vec![],
        None,
        vec![],
    )))
}

/// The public answer before and after a change, for a commune and a date.
async fn preview_blocks(
    state: &AppState,
    snap: &Snapshot,
    old: &HoldingRule,
    new: &HoldingRule,
    f: &RuleForm,
) -> Vec<Block> {
    let today = state.clock.today();
    if f.preview_commune.trim().is_empty() {
        return vec![Block::P(
            "Indiquez une commune dans « Aperçu » pour voir la réponse publique avant et après."
                .into(),
        )];
    }
    let code = match commune_from_words(snap, &f.preview_commune) {
        Ok(c) => c.to_string(),
        Err(message) => return vec![Block::P(message)],
    };
    let commune = code.as_str();
    let when = match clean(&f.preview_date) {
        None => When::Unknown,
        Some(d) => match parse_day(&d) {
            Ok((d, _)) => When::Day(d),
            Err(e) => return vec![Block::P(e.to_string())],
        },
    };
    let mut data = match state.live.store().load_ref_data().await {
        Ok(d) => d,
        Err(e) => return vec![Block::P(format!("Aperçu impossible : {e}"))],
    };
    data.holdings.retain(|h| h != old);
    data.holdings.push(new.clone());
    let after = Snapshot::build(snap.version, snap.geo().clone(), data);
    let doc = new.document_type.as_str();
    vec![
        Block::H2("Aperçu de la réponse publique".into()),
        Block::P("Avant la modification :".into()),
        Block::Dl(answer_lines(
            snap,
            old.document_type.as_str(),
            commune,
            when,
            today,
        )),
        Block::P("Après la modification :".into()),
        Block::Dl(answer_lines(&after, doc, commune, when, today)),
    ]
}

pub async fn rule_save(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { me, form }: SignedForm<RuleForm>,
) -> Result {
    let held = stored(&state, id).await?;
    let snap = state.live.snapshot();
    me.ensure(Act::WriteRule(&held.rule, snap.territories()))?;
    let today = state.clock.today();
    let rev = form.revision.unwrap_or(held.revision);
    let v = EditView {
        snap: &snap,
        me: &me,
        id,
        revision: rev,
    };
    // The rule as it will be must be theirs too: no moving it to another
    // service's holder, nor out of scope.
    let stored_rules = state.live.store().stored_holdings().await?;
    let near = Neighbours {
        rules: &stored_rules,
        replacing: Some(id),
        me: &me,
    };
    let parsed = form.parse(&snap, today, &near, held.rule.verified_at);
    let rule = match writable(&me, &snap, &form, parsed)? {
        Ok(r) => r,
        Err(errors) => return Err(AdminError::invalid(v.page(&form, errors, None, vec![]))),
    };
    if form.action == "preview" {
        let blocks = preview_blocks(&state, &snap, &held.rule, &rule, &form).await;
        return Ok(view::render(&v.page(&form, vec![], None, blocks)));
    }
    let written = state
        .live
        .store()
        .save(
            &me.author(),
            Entity::Holding,
            Some(&id.to_string()),
            Some(rev),
            Some(Record::Holding(rule)),
        )
        .await;
    match written {
        Ok(_) => {
            let _ = state.live.refresh().await;
            Ok(saved(&format!("/admin/regles/{id}")))
        }
        Err(e) => match write_notice(&e) {
            Some((status, notice)) => Err(AdminError::Form(
                status,
                Box::new(v.page(&form, vec![], Some(notice), vec![])),
            )),
            None => Err(e.into()),
        },
    }
}

pub async fn rule_delete(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { me, form }: SignedForm<RevisionForm>,
) -> Result {
    // Checked again on the rule as read here, whose revision the write then
    // requires: a rule moved out of scope meanwhile is not deleted.
    let held = stored(&state, id).await?;
    let snap = state.live.snapshot();
    me.ensure(Act::WriteRule(&held.rule, snap.territories()))?;
    state
        .live
        .store()
        .save(
            &me.author(),
            Entity::Holding,
            Some(&id.to_string()),
            Some(form.revision.unwrap_or(held.revision)),
            None,
        )
        .await?;
    let _ = state.live.refresh().await;
    Ok(saved("/admin/regles"))
}

pub async fn rule_verified(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { me, form }: SignedForm<RevisionForm>,
) -> Result {
    let mut held = stored(&state, id).await?;
    let snap = state.live.snapshot();
    me.ensure(Act::WriteRule(&held.rule, snap.territories()))?;
    held.rule.verified_at = Some(state.clock.today());
    state
        .live
        .store()
        .save(
            &me.author(),
            Entity::Holding,
            Some(&id.to_string()),
            Some(form.revision.unwrap_or(held.revision)),
            Some(Record::Holding(held.rule)),
        )
        .await?;
    let _ = state.live.refresh().await;
    Ok(saved(&format!("/admin/regles/{id}")))
}
