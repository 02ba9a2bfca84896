//! The impact estimate of the public statistics page: how many minutes a
//! service spends on one misdirected request, and the source of that figure
//! (editors).

use axum::extract::{Query, State};
use serde::Deserialize;

use super::{Errors, SavedQuery, err_of};
use crate::web::AppState;
use crate::web::admin::SignedForm;
use crate::web::admin::SignedIn;
use crate::web::admin::error::{AdminError, Result};
use crate::web::admin::view::{self, Block, Button, Field, FormView, Page};

/// Most minutes accepted: a whole working day and more.
const MAX_MINUTES: f64 = 600.0;
const MAX_SOURCE: usize = 1000;

#[derive(Debug, Default, Deserialize)]
pub struct ImpactForm {
    #[serde(default)]
    minutes: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

impl ImpactForm {
    /// The minutes and the source, or the errors by field.
    fn check(&self) -> std::result::Result<(f64, String), Errors> {
        let mut errors: Errors = vec![];
        let raw = self
            .minutes
            .as_deref()
            .unwrap_or("")
            .trim()
            .replace(',', ".");
        let minutes = match raw.parse::<f64>() {
            _ if raw.is_empty() => {
                errors.push((
                    "minutes".into(),
                    "Indiquez un nombre de minutes, entre 0 et 600.".into(),
                ));
                None
            }
            Ok(m) if m.is_finite() && (0.0..=MAX_MINUTES).contains(&m) => Some(m),
            Ok(m) if m.is_finite() && m < 0.0 => {
                errors.push((
                    "minutes".into(),
                    "Le nombre de minutes ne peut pas être négatif.".into(),
                ));
                None
            }
            Ok(m) if m.is_finite() => {
                errors.push((
                    "minutes".into(),
                    "Au plus 600 minutes (10 heures) par demande.".into(),
                ));
                None
            }
            _ => {
                errors.push((
                    "minutes".into(),
                    format!(
                        "« {} » n'est pas un nombre : écrivez par exemple 20 ou 12,5.",
                        raw.chars().take(40).collect::<String>()
                    ),
                ));
                None
            }
        };
        let source = self.source.as_deref().unwrap_or("").trim().to_owned();
        if source.is_empty() {
            errors.push((
                "source".into(),
                "Indiquez d'où vient ce chiffre (étude, enquête, adresse d'une publication)."
                    .into(),
            ));
        } else if source.chars().count() > MAX_SOURCE {
            errors.push(("source".into(), format!("Au plus {MAX_SOURCE} caractères.")));
        }
        match minutes {
            Some(m) if errors.is_empty() => Ok((m, source)),
            _ => Err(errors),
        }
    }
}

fn impact_page(me: &SignedIn, minutes: &str, source: &str, errors: Errors) -> Page {
    let mut p = view::page(&me.access, "Estimation d'impact");
    p.blocks.push(Block::P(
        "La page publique de statistiques (/stats) estime les heures de travail épargnées aux services : \
         demandes mal adressées évitées × minutes qu'un service passe sur une demande mal adressée. \
         Ce temps et sa source sont publiés avec l'estimation."
            .into(),
    ));
    let e = |n: &str| err_of(&errors, n);
    p.blocks.push(Block::Form(FormView {
        action: "/admin/impact".into(),
        csrf: me.access.csrf.clone(),
        hidden: vec![],
        fields: vec![
            Field::text(
                "minutes",
                "Minutes passées par un service sur une demande mal adressée",
                minutes,
            )
            .hint("Un nombre entre 0 et 600, par exemple 20 ou 12,5.")
            .error(e("minutes")),
            Field::textarea("source", "Source de ce chiffre", source)
                .hint("Une étude, une enquête auprès des services, ou l'adresse d'une publication.")
                .error(e("source")),
        ],
        buttons: vec![Button::primary("Enregistrer")],
    }));
    p.errors = errors;
    p
}

fn minutes_text(m: f64) -> String {
    format!("{m}").replace('.', ",")
}

pub async fn impact(
    State(state): State<AppState>,
    Query(q): Query<SavedQuery>,
    me: SignedIn,
) -> Result {
    let current = state.live.store().impact_setting().await?;
    let (minutes, source) = current
        .as_ref()
        .map(|s| (minutes_text(s.minutes), s.source.clone()))
        .unwrap_or_default();
    let mut p = impact_page(&me, &minutes, &source, vec![]);
    p.notice = q.notice();
    if let Some(s) = current {
        p.blocks.push(Block::P(format!(
            "Dernière modification le {} par {}.",
            s.updated_at, s.updated_by
        )));
    }
    Ok(view::render(&p))
}

pub async fn impact_save(
    State(state): State<AppState>,
    SignedForm { me, form }: SignedForm<ImpactForm>,
) -> Result {
    let (minutes, source) = form.check().map_err(|errors| {
        AdminError::invalid(impact_page(
            &me,
            form.minutes.as_deref().unwrap_or(""),
            form.source.as_deref().unwrap_or(""),
            errors,
        ))
    })?;
    state
        .live
        .store()
        .set_impact_setting(minutes, &source, &me.user.email)
        .await?;
    Ok(super::saved("/admin/impact"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(minutes: &str, source: &str) -> std::result::Result<(f64, String), Vec<String>> {
        ImpactForm {
            minutes: Some(minutes.into()),
            source: Some(source.into()),
        }
        .check()
        .map_err(|e| e.into_iter().map(|(f, _)| f).collect())
    }

    #[test]
    fn minutes_and_source_are_checked() {
        assert_eq!(
            check("12,5", " Enquête ").unwrap(),
            (12.5, "Enquête".into())
        );
        assert_eq!(check("0", "x").unwrap().0, 0.0);
        assert_eq!(check("600", "x").unwrap().0, 600.0);
        assert_eq!(check("601", "x").unwrap_err(), ["minutes"]);
        assert_eq!(check("-1", "x").unwrap_err(), ["minutes"]);
        assert_eq!(check("vingt", "x").unwrap_err(), ["minutes"]);
        assert_eq!(check("NaN", "x").unwrap_err(), ["minutes"]);
        assert_eq!(check("20", "  ").unwrap_err(), ["source"]);
        assert_eq!(check("", "").unwrap_err(), ["minutes", "source"]);
    }
}
