//! *Mes données*: what a person keeps up to date, their scope, and what
//! needs their attention.

use axum::extract::State;
use locadocs_core::{Service, ServiceRef};

use super::{
    author_shown, gap_href, gap_text, gaps_of, holder_name, overlaps_of, rule_title, rules_table,
    services_table, stale,
};
use crate::store::{Entity, HistoryEntry, StoredHolding};
use crate::web::AppState;
use crate::web::admin::SignedIn;
use crate::web::admin::error::Result;
use crate::web::admin::policy::{self, Act};
use crate::web::admin::view::{self, Block, Cell, Table};

pub async fn home(State(state): State<AppState>, me: SignedIn) -> Result {
    let user = &me.user;
    let snap = state.live.snapshot();
    let today = state.clock.today();
    let holdings = state.live.store().stored_holdings().await?;
    let everything = policy::edits_everything(user);
    let mine =
        |h: &StoredHolding| policy::allows(user, Act::WriteRule(&h.rule, snap.territories()));
    let mut p = view::page(&me.access, "Mes données");
    let my_services: Vec<&Service> = snap
        .services()
        .iter()
        .filter(|s| user.services.iter().any(|x| x == s.id.as_str()))
        .collect();
    p.blocks.push(Block::H2("Mon périmètre".into()));
    if everything {
        p.blocks.push(Block::P(
            "Votre rôle vous permet de modifier tous les services et toutes les règles.".into(),
        ));
    } else if my_services.is_empty() {
        p.blocks.push(Block::P(
            "Aucun service ne vous est confié : demandez à un administrateur.".into(),
        ));
    } else {
        let territories = if user.territories.is_empty() {
            "aucun : vous pouvez tenir à jour les informations de vos services, mais pas leurs règles ; demandez à un administrateur".to_owned()
        } else {
            user.territories
                .iter()
                .map(|t| snap.territories().display_name(t))
                .collect::<Vec<_>>()
                .join(", ")
        };
        p.blocks.push(Block::Dl(vec![
            (
                "Services".into(),
                my_services
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("Territoires".into(), territories),
        ]));
        p.blocks.push(Block::P(
            "Vous pouvez modifier les informations de ces services, et les règles qu'ils détiennent sur ces territoires (un département comprend ses EPCI et ses communes). Les règles nationales et le type ou la commune d'un service sont tenus par les éditeurs.".into(),
        ));
    }
    p.blocks.push(Block::H2("Où votre aide est utile".into()));
    p.blocks.push(Block::P(
        "La page publique de couverture montre, pour chaque département et type de document, les communes dont la réponse ne vient que des règles nationales, ou n'est pas couverte : c'est là qu'une règle locale rend la réponse plus précise.".into(),
    ));
    p.blocks.push(Block::Links(vec![
        ("Couverture par département".into(), "/couverture".into()),
        (
            "Données ouvertes : les règles en CSV et JSON".into(),
            "/donnees".into(),
        ),
    ]));
    p.blocks.push(Block::H2("Mes services".into()));
    if my_services.is_empty() {
        p.blocks.push(Block::P(if everything {
            "Aucun service ne vous est confié en propre.".into()
        } else {
            "Aucun service ne vous est confié.".into()
        }));
    } else {
        p.blocks.push(Block::Table(services_table(
            "Services que je tiens à jour",
            &my_services,
            today,
        )));
    }
    let my_rules: Vec<&StoredHolding> = holdings
        .iter()
        .filter(|h| matches!(&h.rule.service, ServiceRef::Id(s) if user.services.iter().any(|x| x == s.as_str())))
        .collect();
    if !my_rules.is_empty() {
        p.blocks.push(Block::H2("Mes règles".into()));
        p.blocks.push(Block::Table(rules_table(
            "Règles dont mes services sont détenteurs",
            &my_rules,
            &snap,
        )));
    }
    // What needs attention: data not verified for 12 months.
    let stale_services: Vec<&Service> = snap
        .services()
        .iter()
        .filter(|s| policy::allows(user, Act::EditService(s.id.as_str())))
        .filter(|s| stale(s.verified_at, today))
        .collect();
    let stale_rules: Vec<&StoredHolding> = holdings
        .iter()
        .filter(|h| mine(h) && stale(h.rule.verified_at, today))
        .collect();
    // Gaps in the timelines that hold one of my rules (every timeline for editors).
    let in_my_timelines: Vec<&StoredHolding> = holdings
        .iter()
        .filter(|h| {
            everything
                || my_rules.iter().any(|m| {
                    m.rule.document_type == h.rule.document_type
                        && m.rule.territory == h.rule.territory
                })
        })
        .collect();
    let my_gaps = gaps_of(&in_my_timelines, today);
    let my_overlaps = overlaps_of(&in_my_timelines, today);
    p.blocks.push(Block::H2("À vérifier".into()));
    if !my_overlaps.is_empty() {
        // Rolling bounds move every day: two rules saved apart can come to
        // hold the same days.
        p.blocks.push(Block::P(
            "Deux règles désignent un détenteur pour les mêmes dates : une seule doit s'appliquer. Corrigez les dates de l'une d'elles (une borne glissante, « il y a N ans », avance chaque jour).".into(),
        ));
        p.blocks.push(Block::Table(Table {
            caption: format!("Chevauchements ({})", my_overlaps.len()),
            head: vec![
                "Règle".into(),
                "Détenteur".into(),
                "Chevauche".into(),
                "Détenteur".into(),
            ],
            rows: my_overlaps
                .iter()
                .map(|(a, b)| {
                    vec![
                        Cell::link(rule_title(&snap, a), format!("/admin/regles/{}", a.id)),
                        Cell::text(holder_name(&snap, &a.rule.service)),
                        Cell::link(rule_title(&snap, b), format!("/admin/regles/{}", b.id)),
                        Cell::text(holder_name(&snap, &b.rule.service)),
                    ]
                })
                .collect(),
        }));
    }
    if !my_gaps.is_empty() {
        p.blocks.push(Block::P(
            "Des périodes ne sont couvertes par aucune règle entre deux règles : vérifiez qu'il ne manque pas de détenteur.".into(),
        ));
        p.blocks.push(Block::Links(
            my_gaps.iter().map(|g| (gap_text(g), gap_href(g))).collect(),
        ));
    }
    if stale_services.is_empty() && stale_rules.is_empty() {
        p.blocks.push(Block::P(
            "Tout a été vérifié depuis moins de 12 mois.".into(),
        ));
    } else {
        p.blocks.push(Block::P(
            "Ces données n'ont pas été vérifiées depuis plus de 12 mois : ouvrez-les, corrigez-les si besoin, puis cliquez sur « Ces informations sont à jour ».".into(),
        ));
        if !stale_services.is_empty() {
            p.blocks.push(Block::Table(services_table(
                "Services à vérifier",
                &stale_services,
                today,
            )));
        }
        if !stale_rules.is_empty() {
            p.blocks.push(Block::Table(rules_table(
                "Règles à vérifier",
                &stale_rules,
                &snap,
            )));
        }
    }
    // Recent changes by others on my data.
    let keys: Vec<String> = my_rules.iter().map(|h| h.id.to_string()).collect();
    let recent = state.live.store().recent_history(200).await?;
    let users = state.live.store().users().await?;
    let others: Vec<&HistoryEntry> = recent
        .iter()
        .filter(|e| e.user_email != user.email)
        .filter(|e| match e.entity {
            Entity::Service => user.services.contains(&e.key),
            Entity::Holding => keys.contains(&e.key),
            Entity::DocumentType | Entity::User => false,
        })
        .take(20)
        .collect();
    p.blocks
        .push(Block::H2("Changements récents par d'autres".into()));
    if others.is_empty() {
        p.blocks.push(Block::P(
            "Personne d'autre n'a modifié vos données récemment.".into(),
        ));
    } else {
        p.blocks.push(Block::Table(Table {
            caption: "Changements récents sur mes données".into(),
            head: vec!["Date".into(), "Par".into(), "Fiche".into()],
            rows: others
                .iter()
                .map(|e| {
                    vec![
                        Cell::text(crate::web::i18n::local_time(
                            &e.at,
                            crate::web::theme::Lang::Fr,
                        )),
                        Cell::text(author_shown(user, &e.user_email, &users)),
                        Cell::link(
                            format!("{} {}", e.entity.as_str(), e.key),
                            format!("/admin/historique/{}/{}", e.entity.as_str(), e.key),
                        ),
                    ]
                })
                .collect(),
        }));
    }
    Ok(view::render(&p))
}
