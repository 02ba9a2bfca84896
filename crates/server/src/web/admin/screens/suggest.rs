//! `/admin/territoires.json?q=…&niveaux=communes|territoires`: the names a
//! commune or territory field suggests while typing (`assets/admin.js`).
//! Each suggestion's `value` is what the field reads back on the server
//! ([`super::territory_from_words`]): « Rennes (35238) », « Rennes Métropole
//! (243500139) », « Ille-et-Vilaine (35) », « France ». Communes come from
//! the guide's own commune search (typos tolerated, postal codes, codes).

use axum::Json;
use axum::extract::{Query, State};
use locadocs_core::territory::CommuneKind;
use locadocs_core::text::fold;
use locadocs_core::{Snapshot, Territory};
use serde::{Deserialize, Serialize};

use crate::web::AppState;
use crate::web::admin::SignedIn;
use crate::web::admin::view::Suggest;

/// Suggestions at most, of each level besides communes.
const PER_LEVEL: usize = 4;
/// Communes at most.
const COMMUNES: usize = 8;

#[derive(Debug, Default, Deserialize)]
pub struct SuggestQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    niveaux: String,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Suggestion {
    /// What the field is given when the suggestion is chosen.
    pub value: String,
    /// What it is: the commune's département, « Intercommunalité »…
    pub label: String,
}

#[derive(Debug, Serialize)]
pub struct Suggestions {
    pub results: Vec<Suggestion>,
}

/// The suggestions for `typed`, communes first.
pub fn suggestions(snap: &Snapshot, typed: &str, what: Suggest) -> Vec<Suggestion> {
    let typed = typed.trim();
    let key = fold(typed);
    if key.chars().count() < 2 {
        return Vec::new();
    }
    let t = snap.territories();
    let mut out: Vec<Suggestion> = snap
        .search_communes(typed, COMMUNES)
        .into_iter()
        .map(|c| {
            let dep = t
                .departement(&c.departement)
                .map(|d| d.name.clone())
                .unwrap_or_else(|| c.departement.clone());
            Suggestion {
                value: t.display_name(&Territory::Commune(c.code)),
                label: match c.kind {
                    CommuneKind::Current => dep,
                    _ => format!("{dep}, ancienne commune"),
                },
            }
        })
        .collect();
    if what == Suggest::Territories {
        let matches = |name: &str| fold(name).contains(&key);
        out.extend(
            t.epcis()
                .filter(|e| matches(&e.name))
                .take(PER_LEVEL)
                .map(|e| Suggestion {
                    value: format!("{} ({})", e.name, e.siren),
                    label: "Intercommunalité".into(),
                }),
        );
        out.extend(
            t.departements()
                .filter(|d| matches(&d.name) || d.code.eq_ignore_ascii_case(typed))
                .take(PER_LEVEL)
                .map(|d| Suggestion {
                    value: format!("{} ({})", d.name, d.code),
                    label: "Département".into(),
                }),
        );
        if "france".starts_with(&key) {
            out.push(Suggestion {
                value: "France".into(),
                label: "Tout le pays".into(),
            });
        }
    }
    out
}

pub async fn territory_suggestions(
    State(state): State<AppState>,
    Query(q): Query<SuggestQuery>,
    _me: SignedIn,
) -> Json<Suggestions> {
    let what = if q.niveaux == Suggest::Territories.as_str() {
        Suggest::Territories
    } else {
        Suggest::Communes
    };
    Json(Suggestions {
        results: suggestions(&state.live.snapshot(), &q.q, what),
    })
}
