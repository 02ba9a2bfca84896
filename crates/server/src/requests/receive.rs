//! `locadocs mail receive`: one incoming mail (RFC 5322, on standard input)
//! added to its request's thread. The request is found from the reply
//! address's token, or else from the threading headers — then only a mail
//! from the person or one of the service's agents is accepted. Whatever is
//! refused is refused whole, with a one-line reason, and stores nothing.

use locadocs_core::RefData;

use super::mails::{self, MailContext, Names};
use crate::inbound::{self, Inbound};
use crate::settings::AdminConfig;
use crate::store::{EventDraft, EventKind, NewFile, Store, StoredRequest};

/// What became of an accepted mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Added to a request's thread.
    Added {
        reference: String,
        /// `demandeur` or `agent`.
        from: &'static str,
        attachments: usize,
    },
    /// An automatic message (a vacation reply…): dropped without a bounce,
    /// which would only answer a program, and nothing stored.
    Automatic,
}

/// Why a mail was refused: one line, for the mail server's bounce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn refused(s: impl Into<String>) -> Refused {
    Refused(s.into())
}

/// Names of a request's document type and service, from the stored data.
pub fn names(data: &RefData, req: &StoredRequest) -> Names {
    Names {
        service: data
            .services
            .iter()
            .find(|s| s.id.as_str() == req.service)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| req.service.clone()),
        document_type: data
            .document_types
            .iter()
            .find(|d| d.slug.as_str() == req.document_type)
            .map(|d| d.label.clone())
            .unwrap_or_else(|| req.document_type.clone()),
        commune: req.commune.clone(),
    }
}

/// Adds one raw mail to its request's thread. With `record_on` (the
/// service's day, when audience measurement is on), an agent's first
/// answer is counted as `request_answered`, as an answer from the inbox is.
pub async fn receive(
    store: &dyn Store,
    config: &AdminConfig,
    raw: &[u8],
    record_on: Option<chrono::NaiveDate>,
) -> Result<Received, Refused> {
    let rc = &config.requests;
    let mail: Inbound = inbound::parse(raw, &rc.reply, &rc.limits, rc.max_message_bytes)
        .map_err(|e| refused(e.to_string()))?;
    if mail.automatic {
        return Ok(Received::Automatic);
    }
    let internal = |e: crate::store::StoreError| refused(format!("erreur interne : {e}"));
    // The token of the reply address decides; a token that names no request
    // is a forgery (or a deleted request), never a reason to look further.
    let mut by_token = false;
    let mut request = None;
    if let Some(token) = mail.tokens.first() {
        match store.request_by_reply(token).await.map_err(internal)? {
            Some(r) => {
                request = Some(r);
                by_token = true;
            }
            None => {
                return Err(refused(
                    "adresse de réponse inconnue : aucune demande ne correspond à ce jeton",
                ));
            }
        }
    }
    if request.is_none() {
        let mut ids = mail.in_reply_to.clone();
        ids.extend(mail.references.iter().rev().cloned());
        if let Some(id) = store.request_by_message_id(&ids).await.map_err(internal)? {
            request = store.request(id).await.map_err(internal)?;
        }
    }
    let Some(req) = request else {
        return Err(refused(
            "ce message ne répond à aucune demande (ni adresse de réponse, ni en-têtes de fil connus)",
        ));
    };
    let from = mail.from.clone().unwrap_or_default();
    let agents = store.agents_of(&req.service).await.map_err(internal)?;
    let agent = agents.iter().find(|a| a.email == from);
    let from_person = agent.is_none();
    if from_person && !by_token && from != req.email {
        return Err(refused(
            "expéditeur inconnu pour cette demande : répondez depuis l'adresse qui l'a envoyée",
        ));
    }
    // Files first, then the thread; if the thread cannot be written the
    // files are removed again.
    let mut files: Vec<NewFile> = Vec::new();
    for f in &mail.attachments {
        match rc.attachments.save(&f.name, f.kind, &f.bytes).await {
            Ok(nf) => files.push(nf),
            Err(e) => {
                let keys: Vec<String> = files.iter().map(|f| f.storage_key.clone()).collect();
                rc.attachments.delete(&keys).await;
                return Err(refused(e.to_string()));
            }
        }
    }
    let data = store.load_ref_data().await.map_err(internal)?;
    let names = names(&data, &req);
    let ctx = MailContext {
        public_url: &config.public_url,
        reply: &rc.reply,
        domain: config.mailer.sender_domain(),
        parent: store.last_message_id(req.id).await.map_err(internal)?,
    };
    let text = if mail.text.trim().is_empty() {
        None
    } else {
        Some(mail.text.clone())
    };
    let (event, outgoing) = match agent {
        Some(a) => {
            let mut e = EventDraft::new(EventKind::MessageOut, a.email.clone());
            e.user_id = Some(a.id);
            e.body = text.clone();
            e.answers = true;
            e.data = serde_json::json!({ "via": "courriel" });
            let out = mails::to_person(&ctx, &req, &names, text.as_deref(), None);
            (e, vec![out])
        }
        None => {
            let mut e = EventDraft::new(EventKind::MessageIn, "demandeur");
            e.body = text.clone();
            e.data = serde_json::json!({ "via": "courriel" });
            let out = mails::person_replied_to_agents(&ctx, &req, &agents);
            (e, out)
        }
    };
    if let Err(e) = store
        .add_event(req.id, None, &event, &files, &outgoing)
        .await
    {
        let keys: Vec<String> = files.iter().map(|f| f.storage_key.clone()).collect();
        rc.attachments.delete(&keys).await;
        return Err(internal(e));
    }
    if let (Some(day), Some(_)) = (record_on, agent)
        && let Some(e) = crate::web::stats::answered_event(&req, day)
        && let Err(e) = store.add_events(&[e]).await
    {
        // The answer is stored; only its count is missing.
        tracing::warn!(error = %e, "request_answered not recorded");
    }
    if let Some(id) = &mail.message_id {
        // Later replies may quote this mail's id only.
        let _ = store.remember_message_id(req.id, id).await;
    }
    Ok(Received::Added {
        reference: req.reference,
        from: if from_person { "demandeur" } else { "agent" },
        attachments: files.len(),
    })
}
