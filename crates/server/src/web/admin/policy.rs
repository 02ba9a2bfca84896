//! Who may do what in the back office: the one place that answers "may this
//! account do this to that record". The route table asks it before a
//! handler runs, handlers ask it about what they read or are sent (a rule's
//! new territory, a service's kind), and screens ask it which links and
//! buttons to show. No role is compared anywhere else.
//!
//! - Administrators do everything, accounts included.
//! - Editors edit every service, rule and document type, import, set the
//!   impact estimate of the public statistics, and undo changes to data;
//!   never accounts, nor their history.
//! - Contributors edit the details of their own services, and the holding
//!   rules held by their services on territories inside their scope; never a
//!   service's kind or commune (which decides the town hall every `@mairie`
//!   rule resolves to), nor national rules, nor anything of other services.
//!
//! - Agents handle the requests of their services: contributors do, and an
//!   account may be an agent only (`requests_only`: requests, no data
//!   editing). Only the agents of the service that holds a request, and
//!   administrators, read it; editors do not, unless it is their service.
//!
//! - Statistics: editors and administrators see every figure of every
//!   guide, the comments left with feedback and the suggestions, which they
//!   triage. Contributors and agents see only the figures about their own
//!   services ([`STATISTICS_OF_SERVICES`], read for [`statistics_services`]):
//!   never the figures of a whole guide, the embedding sites, the comments
//!   nor the suggestions.
//!
//! A deactivated account may do nothing.

use locadocs_core::{HoldingRule, ServiceRef, Territories, Territory};

use crate::store::{Entity, Role, User};

/// Something an account may want to do.
#[derive(Debug, Clone, Copy)]
pub enum Act<'a> {
    /// Read the back office's screens and exports.
    Read,
    /// Edit the details of a service (name, address, hours…).
    EditService(&'a str),
    /// Create a service, or change what kind it is and which commune it
    /// belongs to: for a town hall, which service answers for a commune.
    SetServiceIdentity,
    /// Write a holding rule with these fields: create it, or leave it so
    /// after an edit. Checked on the rule as it is and as it will be; the
    /// territories place the rule's territory inside a contributor's scope.
    WriteRule(&'a HoldingRule, &'a Territories),
    EditDocumentTypes,
    /// Register, change or remove the sites that embed the guides.
    ManageSites,
    /// Import a file whose every row the account may write itself (its
    /// services' details, its rules inside its scope).
    ImportOwn,
    /// Write many records at once from a file, anything in it.
    Import,
    ManageAccounts,
    ViewHistory(Entity),
    /// Undo a recorded change to a record of this kind.
    Revert(Entity),
    /// Open the requests inbox (an account with services, or an
    /// administrator).
    OpenInbox,
    /// Read and work the requests held by this service.
    HandleRequests(&'a str),
    /// Turn requests through Locadocs on or off for this service.
    SetAcceptsRequests(&'a str),
    /// Open the statistics screens; which figures they show is
    /// [`statistics_services`].
    ReadStatistics,
    /// Read one table of a guide's statistics, by its name in the CSV
    /// address (`entonnoir`, `detenteurs`…).
    ReadStatisticsTable(&'a str),
    /// Mark a suggestion sent from a dead end « traitée » or « non
    /// pertinente ».
    TriageSuggestions,
    /// Set the impact estimate of the public statistics (minutes a service
    /// spends on a misdirected request, and their source).
    SetImpact,
}

/// The statistics tables whose rows each concern one service (its `dim` is
/// the service): the only ones contributors see, restricted to their own
/// services.
pub const STATISTICS_OF_SERVICES: [&str; 3] = ["detenteurs", "liens", "demandes"];

/// Whose services' figures an account sees in the statistics: `None` for
/// every figure (editors and administrators), else only the rows of these
/// services, in the tables of [`STATISTICS_OF_SERVICES`].
pub fn statistics_services(user: &User) -> Option<Vec<String>> {
    if edits_everything(user) {
        None
    } else {
        Some(user.services.clone())
    }
}

/// Whether `user` may do `act`.
pub fn allows(user: &User, act: Act<'_>) -> bool {
    refusal(user, act).is_none()
}

/// Why `user` may not do `act`, in French; `None` when allowed.
pub fn refusal(user: &User, act: Act<'_>) -> Option<&'static str> {
    if !user.active {
        return Some("Ce compte est désactivé.");
    }
    let admin = user.role == Role::Admin;
    let editor = user.role >= Role::Editor;
    let ok = |allowed: bool, why: &'static str| (!allowed).then_some(why);
    match act {
        Act::Read | Act::ReadStatistics => None,
        Act::ReadStatisticsTable(table) => ok(
            editor || STATISTICS_OF_SERVICES.contains(&table),
            "Ces chiffres portent sur tout le guide : ils sont réservés aux éditeurs et aux administrateurs. Vous voyez ceux de vos services.",
        ),
        Act::TriageSuggestions => ok(
            editor,
            "Le tri des suggestions est réservé aux éditeurs et aux administrateurs.",
        ),
        Act::EditService(id) | Act::SetAcceptsRequests(id) => ok(
            editor || (!user.requests_only && user.services.iter().any(|s| s == id)),
            "Vous ne pouvez modifier que les services qui vous sont confiés.",
        ),
        Act::OpenInbox => ok(
            admin || !user.services.is_empty(),
            "Aucun service ne vous est confié : la boîte des demandes est celle des agents d'un service.",
        ),
        Act::HandleRequests(id) => ok(
            admin || user.services.iter().any(|s| s == id),
            "Cette demande est adressée à un service qui ne vous est pas confié.",
        ),
        Act::SetServiceIdentity => ok(
            editor,
            "Seuls les éditeurs créent un service ou changent son type et sa commune (ce qui désigne la mairie d'une commune).",
        ),
        Act::WriteRule(rule, geo) => {
            if editor {
                return None;
            }
            if user.requests_only {
                return Some("Votre compte traite les demandes sans modifier les données.");
            }
            if rule.territory == Territory::France {
                return Some("Les règles nationales sont réservées aux éditeurs.");
            }
            let ServiceRef::Id(holder) = &rule.service else {
                return Some(
                    "Seuls les éditeurs attribuent une règle à « la mairie de la commune ».",
                );
            };
            if !user.services.iter().any(|s| s == holder.as_str()) {
                return Some("Vous ne pouvez attribuer une règle qu'à l'un de vos services.");
            }
            ok(
                in_scope(user, &rule.territory, geo),
                "Ce territoire est hors de votre périmètre : demandez à un éditeur.",
            )
        }
        Act::ImportOwn => ok(
            editor || (!user.requests_only && !user.services.is_empty()),
            "L'import est réservé aux éditeurs, et aux contributeurs pour les données de leurs services.",
        ),
        Act::EditDocumentTypes | Act::Import | Act::ManageSites | Act::SetImpact => ok(
            editor,
            "Cette action est réservée aux éditeurs et aux administrateurs.",
        ),
        Act::ManageAccounts => ok(
            admin,
            "La gestion des comptes est réservée aux administrateurs.",
        ),
        Act::ViewHistory(entity) | Act::Revert(entity) => {
            let reverting = matches!(act, Act::Revert(_));
            match entity {
                // An account's history shows roles and scopes; undoing one
                // of its changes gives rights back: administrators only.
                Entity::User => ok(
                    admin,
                    "L'historique des comptes est réservé aux administrateurs.",
                ),
                Entity::Service | Entity::Holding | Entity::DocumentType => ok(
                    !reverting || editor,
                    "Annuler une modification est réservé aux éditeurs et aux administrateurs.",
                ),
            }
        }
    }
}

/// Whether a territory lies inside a contributor's scope.
pub fn in_scope(user: &User, territory: &Territory, geo: &Territories) -> bool {
    user.territories
        .iter()
        .any(|outer| geo.contains(outer, territory))
}

/// Whether an account may edit every record (editors and administrators):
/// screens use it to say so, and to offer every service as a holder.
pub fn edits_everything(user: &User) -> bool {
    user.active && user.role >= Role::Editor
}

#[cfg(test)]
mod tests {
    use super::*;
    use locadocs_core::{Bound, Slug};

    fn user(role: Role, services: &[&str], territories: &[&str]) -> User {
        User {
            id: 1,
            email: "x@exemple.fr".into(),
            role,
            active: true,
            has_password: true,
            services: services.iter().map(|s| s.to_string()).collect(),
            territories: territories
                .iter()
                .map(|t| Territory::parse(t).unwrap())
                .collect(),
            revision: 1,
            created_at: String::new(),
            requests_only: false,
            request_notify: "each".into(),
        }
    }

    fn rule(territory: &str, service: &str) -> HoldingRule {
        HoldingRule {
            document_type: Slug::parse("permis-de-construire").unwrap(),
            territory: Territory::parse(territory).unwrap(),
            from: Some(Bound::Year(1908)),
            to: None,
            service: ServiceRef::parse(service).unwrap(),
            instructions: None,
            source: None,
            verified_at: None,
        }
    }

    #[test]
    fn contributors_write_rules_of_their_services_inside_their_territories_only() {
        let geo = Territories::default();
        let c = user(Role::Contributor, &["svc-a"], &["commune:35238"]);
        assert!(allows(
            &c,
            Act::WriteRule(&rule("commune:35238", "svc-a"), &geo)
        ));
        assert!(!allows(
            &c,
            Act::WriteRule(&rule("commune:35051", "svc-a"), &geo)
        ));
        assert!(!allows(
            &c,
            Act::WriteRule(&rule("departement:75", "svc-a"), &geo)
        ));
        assert!(!allows(
            &c,
            Act::WriteRule(&rule("commune:35238", "svc-b"), &geo)
        ));
        assert!(!allows(
            &c,
            Act::WriteRule(&rule("commune:35238", "@mairie"), &geo)
        ));
        assert!(!allows(&c, Act::WriteRule(&rule("france", "svc-a"), &geo)));
        let e = user(Role::Editor, &[], &[]);
        assert!(allows(&e, Act::WriteRule(&rule("france", "svc-b"), &geo)));
    }

    #[test]
    fn only_administrators_see_or_undo_account_history() {
        let e = user(Role::Editor, &[], &[]);
        let a = user(Role::Admin, &[], &[]);
        let c = user(Role::Contributor, &["svc-a"], &["commune:35238"]);
        assert!(!allows(&e, Act::Revert(Entity::User)));
        assert!(!allows(&e, Act::ViewHistory(Entity::User)));
        assert!(allows(&e, Act::Revert(Entity::Holding)));
        assert!(allows(&a, Act::Revert(Entity::User)));
        assert!(allows(&c, Act::ViewHistory(Entity::Service)));
        assert!(!allows(&c, Act::Revert(Entity::Service)));
    }

    #[test]
    fn contributors_see_the_statistics_of_their_services_only() {
        let c = user(Role::Contributor, &["svc-a"], &["commune:35238"]);
        let e = user(Role::Editor, &[], &[]);
        assert_eq!(statistics_services(&c), Some(vec!["svc-a".to_owned()]));
        assert_eq!(statistics_services(&e), None);
        assert!(allows(&c, Act::ReadStatisticsTable("detenteurs")));
        assert!(!allows(&c, Act::ReadStatisticsTable("commentaires")));
        assert!(!allows(&c, Act::ReadStatisticsTable("entonnoir")));
        assert!(!allows(&c, Act::TriageSuggestions));
        assert!(allows(&e, Act::ReadStatisticsTable("commentaires")));
        assert!(allows(&e, Act::TriageSuggestions));
    }

    #[test]
    fn a_deactivated_account_may_do_nothing() {
        let mut a = user(Role::Admin, &[], &[]);
        a.active = false;
        assert!(!allows(&a, Act::Read));
        assert!(!allows(&a, Act::ManageAccounts));
    }
}
