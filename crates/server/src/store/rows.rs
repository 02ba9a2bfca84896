//! Conversions between domain values and the columns that store them.

use chrono::NaiveDate;
use locadocs_core::{
    Bound, Commune, CommuneKind, DocumentType, HoldingRule, InseeCode, Origin, Service,
    ServiceKind, ServiceRef, Siren, Site, Slug, Territory,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{StoreError, UsageKey};

fn corrupt(table: &'static str, key: &str, message: impl ToString) -> StoreError {
    StoreError::Corrupt {
        table,
        key: key.to_owned(),
        message: message.to_string(),
    }
}

fn day(table: &'static str, key: &str, v: Option<String>) -> Result<Option<NaiveDate>, StoreError> {
    v.filter(|s| !s.is_empty())
        .map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| corrupt(table, key, e)))
        .transpose()
}

pub fn format_day(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

fn bound(table: &'static str, key: &str, v: Option<String>) -> Result<Option<Bound>, StoreError> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            Bound::parse(&s)
                .map(|(b, _)| b)
                .map_err(|e| corrupt(table, key, e))
        })
        .transpose()
}

/// The stored form of a start bound: '' for "open towards the past".
pub fn from_bound_text(b: Option<Bound>) -> String {
    b.map(|b| b.to_string()).unwrap_or_default()
}

pub fn join_list(items: &[String]) -> String {
    items.join("|")
}

fn split_list(s: &str) -> Vec<String> {
    s.split('|')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn commune(row: &AnyRow) -> Result<Commune, StoreError> {
    let code: String = row.try_get("code")?;
    let kind: String = row.try_get("kind")?;
    let current: Option<String> = row.try_get("current_code")?;
    let epci: Option<String> = row.try_get("epci")?;
    let former: String = row.try_get("former_codes")?;
    let population: Option<i64> = row.try_get("population")?;
    let liaison: Option<i64> = row.try_get("liaison")?;
    let postal: String = row.try_get("postal_codes")?;
    Ok(Commune {
        code: InseeCode::parse(&code).map_err(|e| corrupt("communes", &code, e))?,
        kind: CommuneKind::parse(&kind)
            .ok_or_else(|| corrupt("communes", &code, format!("type {kind}")))?,
        name: row.try_get("name")?,
        current: current
            .map(|c| InseeCode::parse(&c))
            .transpose()
            .map_err(|e| corrupt("communes", &code, e))?,
        departement: row.try_get("departement")?,
        region: row.try_get("region")?,
        epci: epci
            .map(|s| Siren::parse(&s))
            .transpose()
            .map_err(|e| corrupt("communes", &code, e))?,
        postal_codes: split_list(&postal),
        population: population.and_then(|p| u32::try_from(p).ok()),
        liaison: liaison.and_then(|l| u8::try_from(l).ok()),
        former_codes: split_list(&former)
            .iter()
            .map(|c| InseeCode::parse(c))
            .collect::<Result<_, _>>()
            .map_err(|e| corrupt("communes", &code, e))?,
    })
}

pub fn document_type(row: &AnyRow) -> Result<DocumentType, StoreError> {
    let slug: String = row.try_get("slug")?;
    let aliases: String = row.try_get("aliases")?;
    let years: i64 = row.try_get("communicability_years")?;
    Ok(DocumentType {
        slug: Slug::parse(&slug).map_err(|e| corrupt("document_types", &slug, e))?,
        label: row.try_get("label")?,
        theme: row.try_get("theme")?,
        aliases: split_list(&aliases),
        description: row.try_get("description")?,
        communicability_years: u32::try_from(years)
            .map_err(|e| corrupt("document_types", &slug, e))?,
        communicability_note: row.try_get("communicability_note")?,
    })
}

pub fn service(row: &AnyRow) -> Result<Service, StoreError> {
    let id: String = row.try_get("id")?;
    let kind: String = row.try_get("kind")?;
    let commune: Option<String> = row.try_get("commune")?;
    Ok(Service {
        id: Slug::parse(&id).map_err(|e| corrupt("services", &id, e))?,
        name: row.try_get("name")?,
        kind: ServiceKind::parse(&kind)
            .ok_or_else(|| corrupt("services", &id, format!("type {kind}")))?,
        commune: commune
            .map(|c| InseeCode::parse(&c))
            .transpose()
            .map_err(|e| corrupt("services", &id, e))?,
        address: row.try_get("address")?,
        postal_code: row.try_get("postal_code")?,
        city: row.try_get("city")?,
        phone: row.try_get("phone")?,
        email: row.try_get("email")?,
        website: row.try_get("website")?,
        request_url: row.try_get("request_url")?,
        opening_hours: row.try_get("opening_hours")?,
        response_time: row.try_get("response_time")?,
        latitude: row.try_get("latitude")?,
        longitude: row.try_get("longitude")?,
        annuaire_id: row.try_get("annuaire_id")?,
        francearchives_id: row.try_get("francearchives_id")?,
        francearchives_url: row.try_get("francearchives_url")?,
        search_url: row.try_get("search_url")?,
        verified_at: day("services", &id, row.try_get("verified_at")?)?,
        competence: locadocs_core::reference::parse_competence(
            &row.try_get::<String, _>("competence")?,
        )
        .map_err(|e| corrupt("services", &id, e))?,
    })
}

pub fn holding(row: &AnyRow) -> Result<HoldingRule, StoreError> {
    let id: i64 = row.try_get("id")?;
    let key = id.to_string();
    let doc: String = row.try_get("document_type")?;
    let territory: String = row.try_get("territory")?;
    let service: String = row.try_get("service")?;
    Ok(HoldingRule {
        document_type: Slug::parse(&doc).map_err(|e| corrupt("holdings", &key, e))?,
        territory: Territory::parse(&territory).map_err(|e| corrupt("holdings", &key, e))?,
        from: bound("holdings", &key, row.try_get("from_bound")?)?,
        to: bound("holdings", &key, row.try_get("to_bound")?)?,
        service: ServiceRef::parse(&service).map_err(|e| corrupt("holdings", &key, e))?,
        instructions: row.try_get("instructions")?,
        source: row.try_get("source")?,
        verified_at: day("holdings", &key, row.try_get("verified_at")?)?,
    })
}

pub fn site(row: &AnyRow) -> Result<Site, StoreError> {
    let key: String = row.try_get("key")?;
    let origins: String = row.try_get("origins")?;
    Ok(Site {
        key: Slug::parse(&key).map_err(|e| corrupt("sites", &key, e))?,
        name: row.try_get("name")?,
        origins: origins
            .split_whitespace()
            .map(Origin::parse)
            .collect::<Result<_, _>>()
            .map_err(|e| corrupt("sites", &key, e))?,
        restrict_framing: row.try_get::<i64, _>("restrict_framing")? != 0,
    })
}

/// Channels and events are a closed set; anything else is corrupt data.
fn known(table: &'static str, v: &str, set: &[&'static str]) -> Result<&'static str, StoreError> {
    set.iter()
        .find(|s| **s == v)
        .copied()
        .ok_or_else(|| corrupt(table, v, "valeur inconnue"))
}

pub fn usage(row: &AnyRow) -> Result<(UsageKey, u64), StoreError> {
    let channel: String = row.try_get("channel")?;
    let event: String = row.try_get("event")?;
    Ok((
        UsageKey {
            day: row.try_get("day")?,
            guide: row.try_get("guide")?,
            site: row.try_get("site")?,
            channel: known("usage_daily", &channel, &["embed", "direct"])?,
            event: known("usage_daily", &event, &["start", "result"])?,
        },
        u64::try_from(row.try_get::<i64, _>("count")?).unwrap_or(0),
    ))
}
