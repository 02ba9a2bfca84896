//! The mails a request sends, in the person's language for the person and
//! in French for agents. Each carries the request's reply address and
//! threads on the previous mail about it; it is written to the outbox in
//! the transaction that decided it ([`crate::store::Requests`]).

use locadocs_core::{InseeCode, Snapshot, Territory};

use crate::inbound::ReplyAddress;
use crate::store::{Agent, MailDraft, StoredRequest};

/// What every mail about a request needs.
pub struct MailContext<'a> {
    /// Without trailing slash.
    pub public_url: &'a str,
    pub reply: &'a ReplyAddress,
    /// For Message-IDs.
    pub domain: String,
    /// The newest Message-ID sent about this request.
    pub parent: Option<String>,
}

/// Names shown in mails.
pub struct Names {
    pub service: String,
    pub document_type: String,
    pub commune: Option<String>,
}

impl Names {
    /// A request's names, from the published data.
    pub fn of(snap: &Snapshot, req: &StoredRequest) -> Names {
        Names {
            service: snap
                .service(&req.service)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| req.service.clone()),
            document_type: snap
                .document_type(&req.document_type)
                .map(|d| d.label.clone())
                .unwrap_or_else(|| req.document_type.clone()),
            commune: req.commune.as_deref().map(|c| commune_name(snap, c)),
        }
    }
}

/// « Rennes (35238) » for a commune code, the code itself if it is not one.
pub fn commune_name(snap: &Snapshot, code: &str) -> String {
    match InseeCode::parse(code) {
        Ok(c) => snap.territories().display_name(&Territory::Commune(c)),
        Err(_) => code.to_owned(),
    }
}

impl MailContext<'_> {
    fn draft(&self, req: &StoredRequest, to: &str, subject: String, body: String) -> MailDraft {
        MailDraft {
            to: to.to_owned(),
            subject,
            body,
            message_id: super::message_id(&self.domain),
            in_reply_to: self.parent.clone(),
            reply_to: Some(self.reply.address(&req.reply_token)),
        }
    }

    /// The private link of a request.
    pub fn private_link(&self, access_token: &str) -> String {
        format!("{}/demande/suivi/{access_token}", self.public_url)
    }

    fn inbox_link(&self, req: &StoredRequest) -> String {
        format!("{}/admin/demandes/{}", self.public_url, req.id)
    }
}

fn summary(req: &StoredRequest, names: &Names, english: bool) -> String {
    let mut lines = Vec::new();
    let (doc, commune, years) = if english {
        ("Document", "Commune", "Year")
    } else {
        ("Document", "Commune", "Année")
    };
    lines.push(format!("{doc} : {}", names.document_type));
    if let Some(c) = &names.commune {
        lines.push(format!("{commune} : {c}"));
    }
    match (req.year_from, req.year_to) {
        (Some(a), Some(b)) if a != b => lines.push(format!("{years} : {a}–{b}")),
        (Some(a), _) => lines.push(format!("{years} : {a}")),
        _ => {}
    }
    lines.join("\n")
}

fn sign(english: bool) -> &'static str {
    if english {
        "Locadocs — finding who holds a public document"
    } else {
        "Locadocs — trouver qui conserve un document public"
    }
}

/// To the person, once the request is stored.
pub fn confirmation(
    ctx: &MailContext<'_>,
    req: &StoredRequest,
    names: &Names,
    access_token: &str,
) -> MailDraft {
    let english = req.english();
    let link = ctx.private_link(access_token);
    let (subject, body) = if english {
        (
            format!(
                "Your request {} was sent to {}",
                req.reference, names.service
            ),
            format!(
                "Hello {name},\n\nYour request was sent to {service}. Its reference is {r}.\n\n{summary}\n\n\
                 Follow it, read the service's messages and answer them at this private address \
                 (keep it to yourself):\n{link}\n\n\
                 You may also simply reply to this e-mail: your answer is added to your request.\n\n-- \n{sign}\n",
                name = req.name,
                service = names.service,
                r = req.reference,
                summary = summary(req, names, true),
                sign = sign(true),
            ),
        )
    } else {
        (
            format!(
                "Votre demande {} a été transmise à {}",
                req.reference, names.service
            ),
            format!(
                "Bonjour {name},\n\nVotre demande a été transmise à {service}. Sa référence est {r}.\n\n{summary}\n\n\
                 Suivez-la, lisez les messages du service et répondez-y à cette adresse personnelle \
                 (ne la communiquez pas) :\n{link}\n\n\
                 Vous pouvez aussi répondre simplement à ce courriel : votre réponse s'ajoute à votre demande.\n\n-- \n{sign}\n",
                name = req.name,
                service = names.service,
                r = req.reference,
                summary = summary(req, names, false),
                sign = sign(false),
            ),
        )
    };
    ctx.draft(req, &req.email, subject, body)
}

/// To an agent: a request arrived for their service.
pub fn new_request(
    ctx: &MailContext<'_>,
    req: &StoredRequest,
    names: &Names,
    agent_email: &str,
    rerouted_from: Option<&str>,
) -> MailDraft {
    let how = match rerouted_from {
        Some(from) => format!("Cette demande vous a été redirigée par {from}.\n\n"),
        None => String::new(),
    };
    let subject = format!(
        "Nouvelle demande {} : {}{}",
        req.reference,
        names.document_type,
        names
            .commune
            .as_deref()
            .map(|c| format!(" – {c}"))
            .unwrap_or_default()
    );
    let body = format!(
        "Une demande est arrivée pour {service}.\n\n{how}{summary}\n\nÀ traiter dans la boîte des demandes :\n{link}\n\n\
         Répondre à ce courriel écrit au demandeur.\n\n-- \n{sign}\n",
        service = names.service,
        summary = summary(req, names, false),
        link = ctx.inbox_link(req),
        sign = sign(false),
    );
    ctx.draft(req, agent_email, subject, body)
}

/// The agents who asked to hear of each new request.
pub fn told_of_each(agents: &[Agent]) -> impl Iterator<Item = &Agent> {
    agents.iter().filter(|a| a.notify == "each")
}

/// To the agents: the person wrote. The agent on the request hears of it;
/// with nobody on it, those who hear of each request.
pub fn person_replied_to_agents(
    ctx: &MailContext<'_>,
    req: &StoredRequest,
    agents: &[Agent],
) -> Vec<MailDraft> {
    let to: Vec<&Agent> = match req.assignee {
        Some(id) => agents.iter().filter(|a| a.id == id).collect(),
        None => told_of_each(agents).collect(),
    };
    to.iter()
        .map(|a| person_replied(ctx, req, &a.email))
        .collect()
}

/// To an agent: the person wrote.
pub fn person_replied(ctx: &MailContext<'_>, req: &StoredRequest, agent_email: &str) -> MailDraft {
    let subject = format!("Nouveau message sur la demande {}", req.reference);
    let body = format!(
        "Le demandeur a écrit sur la demande {r}.\n\nLire et répondre :\n{link}\n\n-- \n{sign}\n",
        r = req.reference,
        link = ctx.inbox_link(req),
        sign = sign(false),
    );
    ctx.draft(req, agent_email, subject, body)
}

/// To the person: a message from the service, a status change, or both.
pub fn to_person(
    ctx: &MailContext<'_>,
    req: &StoredRequest,
    names: &Names,
    message: Option<&str>,
    status_line: Option<&str>,
) -> MailDraft {
    let english = req.english();
    let mut parts = Vec::new();
    if let Some(s) = status_line {
        parts.push(s.to_owned());
    }
    if let Some(m) = message {
        parts.push(m.to_owned());
    }
    let (subject, body) = if english {
        (
            format!(
                "Your request {} — message from {}",
                req.reference, names.service
            ),
            format!(
                "Hello {name},\n\n{service} wrote about your request {r}:\n\n{text}\n\n\
                 Reply to this e-mail, or on your request's page (the private link you received).\n\n-- \n{sign}\n",
                name = req.name,
                service = names.service,
                r = req.reference,
                text = parts.join("\n\n"),
                sign = sign(true),
            ),
        )
    } else {
        (
            format!(
                "Votre demande {} — message de {}",
                req.reference, names.service
            ),
            format!(
                "Bonjour {name},\n\n{service} vous écrit au sujet de votre demande {r} :\n\n{text}\n\n\
                 Répondez à ce courriel, ou sur la page de votre demande (le lien personnel reçu à l'envoi).\n\n-- \n{sign}\n",
                name = req.name,
                service = names.service,
                r = req.reference,
                text = parts.join("\n\n"),
                sign = sign(false),
            ),
        )
    };
    ctx.draft(req, &req.email, subject, body)
}

/// To the person: their request now is with another service.
pub fn rerouted(
    ctx: &MailContext<'_>,
    req: &StoredRequest,
    from: &str,
    to: &str,
    reason: &str,
) -> MailDraft {
    let english = req.english();
    let (subject, body) = if english {
        (
            format!("Your request {} was passed on to {to}", req.reference),
            format!(
                "Hello {name},\n\n{from} does not hold the document you asked for and has passed your request {r} \
                 on to {to}, which does:\n\n{reason}\n\nYou have nothing to do: {to} will answer you. \
                 Your private link still works.\n\n-- \n{sign}\n",
                name = req.name,
                r = req.reference,
                sign = sign(true),
            ),
        )
    } else {
        (
            format!("Votre demande {} a été transmise à {to}", req.reference),
            format!(
                "Bonjour {name},\n\n{from} ne détient pas le document demandé et a transmis votre demande {r} \
                 à {to}, qui le conserve :\n\n{reason}\n\nVous n'avez rien à faire : {to} vous répondra. \
                 Votre lien personnel reste valable.\n\n-- \n{sign}\n",
                name = req.name,
                r = req.reference,
                sign = sign(false),
            ),
        )
    };
    ctx.draft(req, &req.email, subject, body)
}

/// To the person: a new private link, asked for on the site.
pub fn link_again(ctx: &MailContext<'_>, req: &StoredRequest, access_token: &str) -> MailDraft {
    let link = ctx.private_link(access_token);
    let (subject, body) = if req.english() {
        (
            format!("Your private link for request {}", req.reference),
            format!(
                "Hello {name},\n\nHere is a new private link to your request {r} (the previous one no longer works):\n{link}\n\n\
                 If you did not ask for it, you can ignore this e-mail.\n\n-- \n{sign}\n",
                name = req.name,
                r = req.reference,
                sign = sign(true),
            ),
        )
    } else {
        (
            format!("Votre lien personnel pour la demande {}", req.reference),
            format!(
                "Bonjour {name},\n\nVoici un nouveau lien personnel vers votre demande {r} (le précédent ne fonctionne plus) :\n{link}\n\n\
                 Si vous ne l'avez pas demandé, ignorez ce courriel.\n\n-- \n{sign}\n",
                name = req.name,
                r = req.reference,
                sign = sign(false),
            ),
        )
    };
    ctx.draft(req, &req.email, subject, body)
}

/// To the person: their closed request will be deleted in two weeks.
pub fn deletion_notice(ctx: &MailContext<'_>, req: &StoredRequest, on: &str) -> MailDraft {
    let (subject, body) = if req.english() {
        (
            format!("Your request {} will be deleted on {on}", req.reference),
            format!(
                "Hello {name},\n\nYour request {r} is closed. As stated on our privacy page, it will be deleted \
                 with its messages and attachments on {on}. Save what you want to keep from your private link before then.\n\n-- \n{sign}\n",
                name = req.name,
                r = req.reference,
                sign = sign(true),
            ),
        )
    } else {
        (
            format!("Votre demande {} sera supprimée le {on}", req.reference),
            format!(
                "Bonjour {name},\n\nVotre demande {r} est close. Comme l'indique notre page de confidentialité, elle sera \
                 supprimée avec ses messages et pièces jointes le {on}. Enregistrez d'ici là ce que vous souhaitez garder, \
                 depuis votre lien personnel.\n\n-- \n{sign}\n",
                name = req.name,
                r = req.reference,
                sign = sign(false),
            ),
        )
    };
    ctx.draft(req, &req.email, subject, body)
}

/// To an agent who chose a daily digest: the requests that arrived for
/// their services since the last one.
pub fn digest(
    public_url: &str,
    domain: &str,
    agent_email: &str,
    new: &[(StoredRequest, Names)],
) -> MailDraft {
    let lines: Vec<String> = new
        .iter()
        .map(|(req, names)| {
            let place = names
                .commune
                .as_deref()
                .map(|c| format!(" – {c}"))
                .unwrap_or_default();
            format!(
                "- {} : {}{place} ({})\n  {public_url}/admin/demandes/{}",
                req.reference, names.document_type, names.service, req.id
            )
        })
        .collect();
    MailDraft {
        to: agent_email.to_owned(),
        subject: format!("{} nouvelle(s) demande(s) à traiter", new.len()),
        body: format!(
            "Bonjour,\n\nDepuis votre dernier résumé, {} demande(s) sont arrivées pour vos services et attendent \
             encore d'être prises en charge :\n\n{}\n\nLa boîte des demandes : {public_url}/admin/demandes\n\n\
             Vous recevez ce résumé une fois par jour ; changez ce choix dans la boîte des demandes.\n\n-- \n{}\n",
            new.len(),
            lines.join("\n"),
            sign(false),
        ),
        message_id: super::message_id(domain),
        in_reply_to: None,
        reply_to: None,
    }
}
