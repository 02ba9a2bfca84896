//! Services: the list, a service's page, and its form.

use axum::extract::{Path, Query, State};
use locadocs_core::{Service, ServiceKind, Slug, Snapshot, Territory};
use serde::Deserialize;

use super::{
    Errors, MAX_TEXT, RevisionForm, SavedQuery, check_len, clean, day_text, err_of, free_slug, opt,
    saved, services_table, territory_from_words,
};
use crate::store::{Entity, Record};
use crate::web::AppState;
use crate::web::admin::error::{AdminError, Result, write_notice};
use crate::web::admin::policy::Act;
use crate::web::admin::view::{self, Block, Button, Field, FormView, Notice, Page};
use crate::web::admin::{SignedForm, SignedIn};

pub async fn services(State(state): State<AppState>, me: SignedIn) -> Result {
    let snap = state.live.snapshot();
    let all: Vec<&Service> = snap.services().iter().collect();
    let mut p = view::page(&me.access, "Services");
    if me.may(Act::SetServiceIdentity) {
        p.blocks.push(Block::Links(vec![(
            "Créer un service".into(),
            "/admin/services/nouveau".into(),
        )]));
    }
    p.blocks.push(Block::Table(services_table(
        "Tous les services",
        &all,
        state.clock.today(),
    )));
    Ok(view::render(&p))
}

/// A service's competence, one territory per line, by name.
fn competence_text(s: &Service, snap: &Snapshot) -> String {
    s.competence
        .iter()
        .map(|t| snap.territories().display_name(t))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Which commune a town hall answers for, as its page says it.
fn town_hall_line(s: &Service, snap: &Snapshot) -> Option<(String, String)> {
    let c = s.commune.filter(|_| s.kind == ServiceKind::Mairie)?;
    let name = snap
        .territories()
        .display_name(&locadocs_core::Territory::Commune(c));
    Some((
        "Mairie de la commune".into(),
        format!(
            "{name} : les règles « la mairie de la commune » de {name} désignent ce service. Ce choix appartient aux éditeurs."
        ),
    ))
}

pub async fn service_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
    me: SignedIn,
) -> Result {
    let snap = state.live.snapshot();
    let s = snap.service(&id).ok_or(AdminError::NotFound)?;
    let mut p = view::page(&me.access, &s.name);
    p.notice = q.notice();
    let mut facts = vec![
        ("Identifiant".into(), s.id.to_string()),
        ("Type".into(), s.kind.label().into()),
        (
            "Commune".into(),
            s.commune
                .map(|c| snap.territories().display_name(&Territory::Commune(c)))
                .unwrap_or_default(),
        ),
    ];
    facts.extend(town_hall_line(s, &snap));
    facts.push((
        "Compétent pour".into(),
        competence_text(s, &snap).replace('\n', " ; "),
    ));
    facts.extend([
        ("Adresse".into(), opt(&s.address)),
        ("Code postal".into(), opt(&s.postal_code)),
        ("Ville".into(), opt(&s.city)),
        ("Téléphone".into(), opt(&s.phone)),
        ("Courriel".into(), opt(&s.email)),
        ("Site internet".into(), opt(&s.website)),
        ("Formulaire de demande".into(), opt(&s.request_url)),
        ("Recherche dans les inventaires".into(), opt(&s.search_url)),
        ("Page FranceArchives".into(), opt(&s.francearchives_url)),
        ("Horaires".into(), opt(&s.opening_hours)),
        ("Délai de réponse".into(), opt(&s.response_time)),
        ("Vérifié le".into(), day_text(s.verified_at)),
        (
            "Demandes par Locadocs".into(),
            if snap.accepts_requests(&id) {
                "reçues"
            } else {
                "non reçues"
            }
            .into(),
        ),
    ]);
    p.blocks.push(Block::Dl(facts));
    let mut links = vec![];
    if me.may(Act::EditService(&id)) {
        links.push((
            "Modifier ce service".into(),
            format!("/admin/services/{id}/modifier"),
        ));
    }
    if me.may(Act::ViewHistory(Entity::Service)) {
        links.push((
            "Historique des modifications".into(),
            format!("/admin/historique/service/{id}"),
        ));
    }
    p.blocks.push(Block::Links(links));
    Ok(view::render(&p))
}

/// The service form's fields, as typed. `kind` and `commune` are absent
/// from the form of someone who may not change them.
#[derive(Debug, Default, Deserialize)]
pub struct ServiceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    commune: Option<String>,
    /// One territory per line, as people write them (« Ille-et-Vilaine »,
    /// « Rennes Métropole »); absent like `kind`.
    #[serde(default)]
    competence: Option<String>,
    #[serde(default)]
    address: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    request_url: String,
    #[serde(default)]
    search_url: String,
    #[serde(default)]
    francearchives_url: String,
    #[serde(default)]
    opening_hours: String,
    #[serde(default)]
    response_time: String,
    #[serde(default)]
    revision: Option<i64>,
    /// The checkbox « Reçoit les demandes par Locadocs ».
    #[serde(default)]
    accepts_requests: Option<String>,
}

impl ServiceForm {
    fn of(s: &Service, snap: &Snapshot) -> ServiceForm {
        ServiceForm {
            name: s.name.clone(),
            kind: Some(s.kind.as_str().into()),
            commune: Some(
                s.commune
                    .map(|c| snap.territories().display_name(&Territory::Commune(c)))
                    .unwrap_or_default(),
            ),
            competence: Some(competence_text(s, snap)),
            address: opt(&s.address),
            postal_code: opt(&s.postal_code),
            city: opt(&s.city),
            phone: opt(&s.phone),
            email: opt(&s.email),
            website: opt(&s.website),
            request_url: opt(&s.request_url),
            search_url: opt(&s.search_url),
            francearchives_url: opt(&s.francearchives_url),
            opening_hours: opt(&s.opening_hours),
            response_time: opt(&s.response_time),
            revision: None,
            accepts_requests: None,
        }
    }

    /// Applies the form to a service, or says what is wrong, field by field.
    fn apply(&self, base: &Service, snap: &Snapshot) -> std::result::Result<Service, Errors> {
        let mut errors = vec![];
        let mut s = base.clone();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(("name".into(), "Indiquez le nom du service.".into()));
        }
        check_len(&mut errors, "name", name, 200);
        for (field, v) in [
            ("address", &self.address),
            ("postal_code", &self.postal_code),
            ("city", &self.city),
            ("phone", &self.phone),
            ("email", &self.email),
            ("website", &self.website),
            ("request_url", &self.request_url),
            ("search_url", &self.search_url),
            ("francearchives_url", &self.francearchives_url),
            ("opening_hours", &self.opening_hours),
            ("response_time", &self.response_time),
        ] {
            check_len(&mut errors, field, v, MAX_TEXT);
        }
        s.name = name.to_owned();
        if let Some(kind) = &self.kind {
            match ServiceKind::parse(kind.trim()) {
                Some(k) => s.kind = k,
                None => errors.push((
                    "kind".into(),
                    "Choisissez un type de service dans la liste.".into(),
                )),
            }
        }
        if let Some(commune) = &self.commune {
            s.commune = match clean(commune) {
                None => None,
                Some(c) => match super::commune_from_words(snap, &c) {
                    Ok(code) => Some(code),
                    Err(message) => {
                        errors.push(("commune".into(), message));
                        None
                    }
                },
            };
        }
        if let Some(text) = &self.competence {
            let mut area: Vec<locadocs_core::Territory> = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match territory_from_words(snap, line) {
                    Ok(t) if !area.contains(&t) => area.push(t),
                    Ok(_) => {}
                    Err(why) => {
                        errors.push(("competence".into(), format!("Ligne {} : {why}", i + 1)))
                    }
                }
            }
            s.competence = area;
        }
        if let Some(pc) = clean(&self.postal_code)
            && !(pc.len() == 5 && pc.bytes().all(|b| b.is_ascii_digit()))
        {
            errors.push(("postal_code".into(), "Un code postal a 5 chiffres.".into()));
        }
        if let Some(e) = clean(&self.email)
            && (!e.contains('@') || e.contains(char::is_whitespace))
        {
            errors.push((
                "email".into(),
                "Adresse électronique invalide (exemple : archives@ville.fr).".into(),
            ));
        }
        for (field, v) in [
            ("website", &self.website),
            ("request_url", &self.request_url),
            ("francearchives_url", &self.francearchives_url),
        ] {
            if let Some(u) = clean(v)
                && !(u.starts_with("https://") || u.starts_with("http://"))
            {
                errors.push((field.into(), "Une adresse web commence par https://".into()));
            }
        }
        s.address = clean(&self.address);
        s.postal_code = clean(&self.postal_code);
        s.city = clean(&self.city);
        s.phone = clean(&self.phone);
        s.email = clean(&self.email);
        s.website = clean(&self.website);
        if let Some(t) = clean(&self.search_url)
            && let Err(why) = locadocs_core::search_link::check_template(&t)
        {
            errors.push(("search_url".into(), why));
        }
        s.request_url = clean(&self.request_url);
        s.search_url = clean(&self.search_url);
        s.francearchives_url = clean(&self.francearchives_url);
        s.opening_hours = clean(&self.opening_hours);
        s.response_time = clean(&self.response_time);
        if errors.is_empty() {
            Ok(s)
        } else {
            Err(errors)
        }
    }
}

/// Which form: a new service, or the service `id` at `revision`.
enum FormOf<'a> {
    New,
    Edit { id: &'a str, revision: i64 },
}

fn service_form_page(
    me: &SignedIn,
    of: FormOf<'_>,
    f: &ServiceForm,
    errors: Errors,
    notice: Option<Notice>,
) -> Page {
    let (title, action, hidden, id) = match of {
        FormOf::New => (
            "Nouveau service",
            "/admin/services/nouveau".to_owned(),
            vec![],
            None,
        ),
        FormOf::Edit { id, revision } => (
            "Modifier le service",
            format!("/admin/services/{id}/modifier"),
            vec![("revision".to_owned(), revision.to_string())],
            Some(id),
        ),
    };
    let mut p = view::page(&me.access, title);
    p.notice = notice;
    let e = |n: &str| err_of(&errors, n);
    let identity = me.may(Act::SetServiceIdentity);
    let kinds = std::iter::once((String::new(), "Choisissez un type".to_owned()))
        .filter(|_| id.is_none())
        .chain(
            ServiceKind::ALL
                .iter()
                .map(|k| (k.as_str().to_owned(), k.label().to_owned())),
        )
        .collect();
    let locked = "Seuls les éditeurs changent le type et la commune d'un service : ils désignent la mairie de chaque commune.";
    let kind = Field::select(
        "kind",
        "Type de service",
        kinds,
        f.kind.as_deref().unwrap_or(""),
    )
    .error(e("kind"));
    let commune = Field::text("commune", "Commune", f.commune.as_deref().unwrap_or(""))
        .suggest(view::Suggest::Communes)
        .error(e("commune"));
    let (kind, commune) = if identity {
        (
            kind,
            commune.hint("Son nom (Rennes) ou son code INSEE (35238). Pour une mairie : la commune dont elle est la mairie."),
        )
    } else {
        (
            kind.hint(locked).disabled(true),
            commune.hint(locked).disabled(true),
        )
    };
    let competence = Field::textarea(
        "competence",
        "Compétent pour (un territoire par ligne)",
        f.competence.as_deref().unwrap_or(""),
    )
    .error(e("competence"));
    let competence = if identity {
        competence.hint("Communes, intercommunalités ou départements, par leur nom : « Ille-et-Vilaine », « Rennes Métropole », « Rennes (35238) ». Les règles qui désignent un détenteur par son type (@archives-departementales, @notaire…) désignent ce service pour ces territoires ; deux services du même type ne peuvent pas être compétents pour le même territoire. Vide pour une mairie : sa commune.")
    } else {
        competence.hint(locked).disabled(true)
    };
    let name = Field::text("name", "Nom", &f.name).error(e("name"));
    let name = if id.is_none() {
        name.hint("Son identifiant (dans les fichiers et l'API) est tiré du nom, par exemple « archives-de-rennes ».")
    } else {
        name
    };
    p.blocks.push(Block::Form(FormView {
        action,
        csrf: me.access.csrf.clone(),
        hidden,
        fields: vec![
            name,
            kind,
            commune,
            competence,
            Field::text("address", "Adresse", &f.address).error(e("address")),
            Field::text("postal_code", "Code postal", &f.postal_code).error(e("postal_code")),
            Field::text("city", "Ville", &f.city).error(e("city")),
            Field::text("phone", "Téléphone", &f.phone).error(e("phone")),
            Field::email("email", "Courriel", &f.email).error(e("email")),
            Field::text("website", "Site internet", &f.website).error(e("website")),
            Field::text(
                "request_url",
                "Formulaire de demande en ligne",
                &f.request_url,
            )
            .error(e("request_url")),
            Field::text(
                "search_url",
                "Recherche dans vos inventaires en ligne",
                &f.search_url,
            )
            .hint("Adresse d'une recherche, avec {commune}, {annee} et {document} là où la commune, l'année et le document doivent figurer, par exemple https://archives.exemple.fr/recherche?q={document}+{commune}&annee={annee}")
            .error(e("search_url")),
            Field::text(
                "francearchives_url",
                "Page du service sur FranceArchives",
                &f.francearchives_url,
            )
            .error(e("francearchives_url")),
            Field::textarea("opening_hours", "Horaires", &f.opening_hours)
                .error(e("opening_hours")),
            Field::text(
                "response_time",
                "Délai de réponse habituel",
                &f.response_time,
            )
            .error(e("response_time")),
        ]
        .into_iter()
        .chain(id.filter(|id| me.may(Act::SetAcceptsRequests(id))).map(|_| {
            Field::checkboxes(
                "accepts_requests",
                "Demandes",
                vec![(
                    "1".into(),
                    "Reçoit les demandes par Locadocs".into(),
                    f.accepts_requests.is_some(),
                )],
            )
            .hint("Les personnes peuvent alors écrire au service depuis Locadocs ; ses agents les traitent dans la boîte des demandes.")
        }))
        .collect(),
        buttons: vec![Button::primary(if id.is_none() {
            "Créer le service"
        } else {
            "Enregistrer"
        })],
    }));
    p.errors = errors;
    p
}

pub async fn service_new(me: SignedIn) -> Result {
    me.ensure(Act::SetServiceIdentity)?;
    Ok(view::render(&service_form_page(
        &me,
        FormOf::New,
        &ServiceForm::default(),
        vec![],
        None,
    )))
}

pub async fn service_create(
    State(state): State<AppState>,
    SignedForm { me, form }: SignedForm<ServiceForm>,
) -> Result {
    me.ensure(Act::SetServiceIdentity)?;
    let snap = state.live.snapshot();
    let page = |errors: Errors, notice: Option<Notice>| {
        AdminError::invalid(service_form_page(&me, FormOf::New, &form, errors, notice))
    };
    let mut errors = vec![];
    if form.kind.as_deref().is_none_or(|k| k.trim().is_empty()) {
        errors.push((
            "kind".to_owned(),
            "Choisissez le type de service.".to_owned(),
        ));
    }
    let id = free_slug(&form.name, "service", |s| {
        snap.service(s.as_str()).is_some()
    });
    let base = Service::new(
        id.clone()
            .unwrap_or_else(|| Slug::parse("service").expect("a valid slug")),
        "",
        ServiceKind::Autre,
    );
    let s = match form.apply(&base, &snap) {
        Ok(s) if errors.is_empty() => s,
        Ok(_) => return Err(page(errors, None)),
        Err(mut more) => {
            errors.append(&mut more);
            return Err(page(errors, None));
        }
    };
    let Some(id) = id else {
        return Err(page(
            vec![(
                "name".to_owned(),
                "Trop de services portent déjà ce nom : précisez-le.".to_owned(),
            )],
            None,
        ));
    };
    match state
        .live
        .store()
        .save(
            &me.author(),
            Entity::Service,
            None,
            None,
            Some(Record::Service(s)),
        )
        .await
    {
        Ok(_) => {
            let _ = state.live.refresh().await;
            Ok(saved(&format!("/admin/services/{id}")))
        }
        Err(e) => match write_notice(&e) {
            Some((_, notice)) => Err(page(vec![], Some(notice))),
            None => Err(e.into()),
        },
    }
}

pub async fn service_edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    me: SignedIn,
) -> Result {
    let snap = state.live.snapshot();
    let s = snap.service(&id).ok_or(AdminError::NotFound)?;
    let rev = state
        .live
        .store()
        .revision(Entity::Service, &id)
        .await?
        .ok_or(AdminError::NotFound)?;
    let mut f = ServiceForm::of(s, &snap);
    f.accepts_requests = snap.accepts_requests(&id).then(|| "1".to_owned());
    let mut p = service_form_page(
        &me,
        FormOf::Edit {
            id: &id,
            revision: rev,
        },
        &f,
        vec![],
        None,
    );
    p.blocks.push(Block::Form(FormView {
        action: format!("/admin/services/{id}/verifie"),
        csrf: me.access.csrf.clone(),
        hidden: vec![("revision".into(), rev.to_string())],
        fields: vec![],
        buttons: vec![Button::named(
            "verify",
            "1",
            "Ces informations sont à jour",
            true,
        )],
    }));
    Ok(view::render(&p))
}

/// A service as stored now, with its revision. Writes start from it, not
/// from the snapshot, which may be behind: a change made meanwhile (say, an
/// editor removing a town-hall designation) is then never written back.
async fn stored(state: &AppState, id: &str) -> Result<(Service, i64)> {
    match state.live.store().record(Entity::Service, id).await? {
        Some((Record::Service(s), rev)) => Ok((s, rev)),
        _ => Err(AdminError::NotFound),
    }
}

pub async fn service_save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { me, form }: SignedForm<ServiceForm>,
) -> Result {
    let store = state.live.store();
    let (base, current) = stored(&state, &id).await?;
    let snap = state.live.snapshot();
    let rev = form.revision.unwrap_or(current);
    let s = form.apply(&base, &snap).map_err(|errors| {
        AdminError::invalid(service_form_page(
            &me,
            FormOf::Edit {
                id: &id,
                revision: rev,
            },
            &form,
            errors,
            None,
        ))
    })?;
    // Which service is a commune's town hall, or competent for a
    // territory, is an editor's decision.
    if s.kind != base.kind || s.commune != base.commune || s.competence != base.competence {
        me.ensure(Act::SetServiceIdentity)?;
    }
    match store
        .save(
            &me.author(),
            Entity::Service,
            Some(&id),
            Some(rev),
            Some(Record::Service(s)),
        )
        .await
    {
        Ok(_) => {
            let accepts = form.accepts_requests.is_some();
            if me.may(Act::SetAcceptsRequests(&id)) && accepts != snap.accepts_requests(&id) {
                store.set_accepting(&id, accepts).await?;
            }
            let _ = state.live.refresh().await;
            Ok(saved(&format!("/admin/services/{id}")))
        }
        Err(e) => match write_notice(&e) {
            Some((status, notice)) => Err(AdminError::Form(
                status,
                Box::new(service_form_page(
                    &me,
                    FormOf::Edit {
                        id: &id,
                        revision: rev,
                    },
                    &form,
                    vec![],
                    Some(notice),
                )),
            )),
            None => Err(e.into()),
        },
    }
}

pub async fn service_verified(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm { me, form }: SignedForm<RevisionForm>,
) -> Result {
    let (mut s, current) = stored(&state, &id).await?;
    s.verified_at = Some(state.clock.today());
    state
        .live
        .store()
        .save(
            &me.author(),
            Entity::Service,
            Some(&id),
            Some(form.revision.unwrap_or(current)),
            Some(Record::Service(s)),
        )
        .await?;
    let _ = state.live.refresh().await;
    Ok(saved(&format!("/admin/services/{id}")))
}
