//! Interface text of public pages, in French and English. Guide content
//! comes from the guides themselves.

use super::theme::Lang;

/// Every fixed piece of text a public page shows.
#[derive(Debug)]
pub struct Texts {
    pub skip: &'static str,
    pub site_name: &'static str,
    /// Footer line inside the embedded widget.
    pub embed_credit: &'static str,
    pub continue_: &'static str,
    pub change: &'static str,
    pub start_again: &'static str,
    pub change_commune: &'static str,
    pub your_answers: &'static str,
    pub unknown: &'static str,
    pub commune_label: &'static str,
    pub commune_hint: &'static str,
    pub commune_search: &'static str,
    pub commune_search_again: &'static str,
    pub commune_pick: &'static str,
    pub commune_none: &'static str,
    /// A commune typed and sent without one picked in the list.
    pub commune_choose: &'static str,
    pub now_in: &'static str,
    pub results: &'static str,
    pub year_label: &'static str,
    pub year_hint: &'static str,
    pub search_label: &'static str,
    pub search_hint: &'static str,
    pub search_button: &'static str,
    pub search_results: &'static str,
    pub search_none: &'static str,
    pub answer_title: &'static str,
    pub for_commune: &'static str,
    pub former_commune: &'static str,
    pub year_any: &'static str,
    pub held_by: &'static str,
    pub since_ever: &'static str,
    pub until_now: &'static str,
    pub address: &'static str,
    pub hours: &'static str,
    pub phone: &'static str,
    pub email: &'static str,
    pub website: &'static str,
    pub request: &'static str,
    /// The request form of a service that takes requests through Locadocs.
    pub ask_service: &'static str,
    /// The link to a search in the holder's online inventories.
    pub search_inventories: &'static str,
    /// The link to the holder's page on FranceArchives.
    pub on_francearchives: &'static str,
    pub response_time: &'static str,
    pub how_to_ask: &'static str,
    pub access: &'static str,
    /// Before a colon: a space in French, none in English.
    pub colon: &'static str,
    /// The lead of an answer to a person asking for their own record.
    pub own_now: &'static str,
    /// How, when the document type says nothing of it.
    pub own_now_how: &'static str,
    /// The access line's label under [`Texts::own_now`].
    pub access_others: &'static str,
    pub free_now: &'static str,
    pub free_from: &'static str,
    pub not_free_unknown: &'static str,
    pub earlier_access: &'static str,
    pub timeline: &'static str,
    pub uncovered: &'static str,
    pub uncovered_lead: &'static str,
    pub no_contact: &'static str,
    pub print: &'static str,
    pub feedback_question: &'static str,
    pub feedback_levels: [&'static str; 4],
    pub feedback_comment: &'static str,
    pub send: &'static str,
    pub thanks: &'static str,
    pub suggestion_label: &'static str,
    pub suggestion_hint: &'static str,
    pub suggestion_thanks: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub error_title: &'static str,
    pub accessibility: &'static str,
    pub legal: &'static str,
    pub privacy: &'static str,
    pub contact: &'static str,
    /// The header's link to the home page, after the site's name.
    pub home: &'static str,
    pub documents: &'static str,
    pub document_page_link: &'static str,
    pub open_guide_with: &'static str,
    pub step_of: &'static str,
    pub too_many: &'static str,
}

pub const FR: Texts = Texts {
    skip: "Aller au contenu",
    site_name: "Locadocs",
    embed_credit: "Un service Locadocs.",
    continue_: "Continuer",
    change: "Modifier",
    start_again: "Recommencer",
    change_commune: "Chercher pour une autre commune",
    your_answers: "Vos réponses",
    unknown: "Je ne sais pas",
    commune_label: "Nom, code postal ou code INSEE de la commune",
    commune_hint: "Par exemple : Rennes, 35000 ou 35238. Une ancienne commune peut être cherchée sous son nom.",
    commune_search: "Chercher",
    commune_search_again: "Chercher à nouveau",
    commune_pick: "Choisissez votre commune :",
    commune_none: "Aucune commune ne correspond. Vérifiez l'orthographe ou essayez le code postal.",
    commune_choose: "Choisissez votre commune dans la liste.",
    now_in: "aujourd'hui",
    results: "résultats",
    year_label: "Année (quatre chiffres) ou période",
    year_hint: "Par exemple : 1985. Une année approximative suffit. Si vous hésitez entre plusieurs années, écrivez une période, par exemple 1985-1990 : nous vous indiquons tous les détenteurs de la période.",
    search_label: "Je cherche…",
    search_hint: "Un document, par exemple « permis de construire », « PC » ou « acte de vente ».",
    search_button: "Chercher",
    search_results: "Documents correspondants :",
    search_none: "Aucun document ne correspond : répondez plutôt à la question ci-dessus.",
    answer_title: "Où trouver ce document",
    for_commune: "Commune",
    former_commune: "ancienne commune, aujourd'hui",
    year_any: "date inconnue : voici tous les détenteurs successifs",
    held_by: "Détenteur",
    since_ever: "depuis l'origine",
    until_now: "à aujourd'hui",
    address: "Adresse",
    hours: "Horaires",
    phone: "Téléphone",
    email: "Courriel",
    website: "Site internet",
    request: "Faire une demande en ligne",
    ask_service: "Faire une demande à ce service",
    search_inventories: "Chercher dans les inventaires en ligne de ce service",
    on_francearchives: "Voir ce service sur FranceArchives",
    response_time: "Délai de réponse habituel",
    how_to_ask: "Comment demander",
    access: "Accès",
    colon: " :",
    own_now: "Vous pouvez l'obtenir dès maintenant.",
    own_now_how: "Demandez-le au service indiqué ci-dessous.",
    access_others: "Pour toute autre personne",
    free_now: "Librement consultable par tous.",
    free_from: "Librement consultable par tous à partir du",
    not_free_unknown: "Le délai dépend de la date du document : ",
    earlier_access: "Accès plus tôt : ",
    timeline: "Détenteurs successifs",
    uncovered: "Période non renseignée",
    uncovered_lead: "Nous ne savons pas encore qui détient les documents de cette période. Adressez-vous d'abord à la mairie de la commune : elle saura vous orienter.",
    no_contact: "Coordonnées non renseignées.",
    print: "Imprimer",
    feedback_question: "Est-ce que cela vous a été utile ?",
    feedback_levels: ["Pas du tout", "Un peu", "Oui", "Tout à fait"],
    feedback_comment: "Un commentaire ? (facultatif, ne donnez pas d'informations personnelles)",
    send: "Envoyer",
    thanks: "Merci pour votre avis.",
    suggestion_label: "Quel document cherchiez-vous ? (facultatif, ne donnez pas d'informations personnelles)",
    suggestion_hint: "Votre suggestion nous aide à compléter ce guide.",
    suggestion_thanks: "Merci, votre suggestion est enregistrée.",
    not_found_title: "Page introuvable",
    not_found_text: "Cette adresse ne mène à aucune page.",
    error_title: "Nous n'avons pas pu afficher cette étape",
    accessibility: "Accessibilité : non conforme",
    legal: "Mentions légales",
    privacy: "Données personnelles",
    contact: "Contact",
    home: "accueil",
    documents: "Documents",
    document_page_link: "En savoir plus sur ce document",
    open_guide_with: "Trouver ce document pour ma commune",
    step_of: "Étape",
    too_many: "Trop de demandes en peu de temps. Réessayez dans quelques minutes.",
};

pub const EN: Texts = Texts {
    skip: "Skip to content",
    site_name: "Locadocs",
    embed_credit: "A Locadocs service.",
    continue_: "Continue",
    change: "Change",
    start_again: "Start again",
    change_commune: "Look for another municipality",
    your_answers: "Your answers",
    unknown: "I don't know",
    commune_label: "Name, postcode or INSEE code of the commune",
    commune_hint: "For example: Rennes, 35000 or 35238. A former commune can be searched by its name.",
    commune_search: "Search",
    commune_search_again: "Search again",
    commune_pick: "Choose your commune:",
    commune_none: "No commune matches. Check the spelling or try the postcode.",
    commune_choose: "Choose your commune in the list.",
    now_in: "now",
    results: "results",
    year_label: "Year (four digits) or period",
    year_hint: "For example: 1985. An approximate year is enough. If you hesitate between several years, write a period, for example 1985-1990: we show every holder of the period.",
    search_label: "I am looking for…",
    search_hint: "A document, for example « permis de construire » or « acte de vente ».",
    search_button: "Search",
    search_results: "Matching documents:",
    search_none: "No document matches: answer the question above instead.",
    answer_title: "Where to find this document",
    for_commune: "Commune",
    former_commune: "former commune, now",
    year_any: "unknown date: here are all the successive holders",
    held_by: "Holder",
    since_ever: "from the beginning",
    until_now: "to this day",
    address: "Address",
    hours: "Opening hours",
    phone: "Phone",
    email: "Email",
    website: "Website",
    request: "Make a request online",
    ask_service: "Send a request to this service",
    search_inventories: "Search this service's online inventories",
    on_francearchives: "See this service on FranceArchives",
    response_time: "Usual response time",
    how_to_ask: "How to ask",
    access: "Access",
    colon: ":",
    own_now: "You may obtain it now.",
    own_now_how: "Ask the service shown below.",
    access_others: "For anyone else",
    free_now: "Freely accessible to everyone.",
    free_from: "Freely accessible to everyone from",
    not_free_unknown: "The delay depends on the document's date: ",
    earlier_access: "Earlier access: ",
    timeline: "Successive holders",
    uncovered: "Period not documented",
    uncovered_lead: "We do not know yet who holds the documents of this period. Ask the town hall of the commune first: it will direct you.",
    no_contact: "Contact details not provided.",
    print: "Print",
    feedback_question: "Was this useful?",
    feedback_levels: ["Not at all", "A little", "Yes", "Very much"],
    feedback_comment: "A comment? (optional, do not give personal information)",
    send: "Send",
    thanks: "Thank you for your feedback.",
    suggestion_label: "Which document were you looking for? (optional, do not give personal information)",
    suggestion_hint: "Your suggestion helps us complete this guide.",
    suggestion_thanks: "Thank you, your suggestion has been saved.",
    not_found_title: "Page not found",
    not_found_text: "This address leads to no page.",
    error_title: "We could not show this step",
    accessibility: "Accessibility: non-compliant",
    legal: "Legal notice",
    privacy: "Personal data",
    contact: "Contact",
    home: "home",
    documents: "Documents",
    document_page_link: "More about this document",
    open_guide_with: "Find this document for my commune",
    step_of: "Step",
    too_many: "Too many requests in a short time. Try again in a few minutes.",
};

pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Fr => &FR,
        Lang::En => &EN,
    }
}

/// "1 janvier 1908" / "1 January 1908".
/// A stored UTC time (`2026-12-01T08:14:00Z`) in Paris time, in words:
/// « 1er décembre 2026 à 09:14 ». A text that is not a time is shown as is.
pub fn local_time(at: &str, lang: Lang) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(at) else {
        return at.to_owned();
    };
    let paris = t.with_timezone(&chrono_tz::Europe::Paris);
    let day = long_date(paris.date_naive(), lang);
    match lang {
        Lang::Fr => format!("{day} à {}", paris.format("%H:%M")),
        Lang::En => format!("{day} at {}", paris.format("%H:%M")),
    }
}

/// French month names, January first.
pub const FR_MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

pub fn long_date(d: chrono::NaiveDate, lang: Lang) -> String {
    use chrono::Datelike;
    const EN_MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let m = d.month0() as usize;
    match lang {
        Lang::Fr => {
            let day = if d.day() == 1 {
                "1er".to_owned()
            } else {
                d.day().to_string()
            };
            format!("{day} {} {}", FR_MONTHS[m], d.year())
        }
        Lang::En => format!("{} {} {}", d.day(), EN_MONTHS[m], d.year()),
    }
}

/// « Comment demander », fitted to the document (its own text for a few
/// that are not files filed by date, else its theme): what
/// to give the service so that it finds the document. No reading room for a
/// notary's office, no property address for a divorce.
pub fn how_to_ask(document_type: &str, theme: Option<&str>, lang: Lang) -> &'static str {
    // Documents of a theme that are not files kept by date.
    match (document_type, lang) {
        ("plan-local-urbanisme", Lang::Fr) => {
            return "Demandez à consulter le plan à la mairie, ou consultez-le en ligne. Pour connaître les règles qui s'appliquent à un terrain précis, indiquez son adresse ou ses références cadastrales.";
        }
        ("plan-local-urbanisme", Lang::En) => {
            return "Ask to consult the plan at the town hall, or consult it online. To learn the rules that apply to a given plot, give its address or its cadastral references.";
        }
        ("conseil-abf", Lang::Fr) => {
            return "Écrivez au service en indiquant l'adresse et les références cadastrales du terrain, et décrivez votre projet de travaux.";
        }
        ("conseil-abf", Lang::En) => {
            return "Write to the service giving the address and the cadastral references of the plot, and describe your planned works.";
        }
        _ => {}
    }
    match (theme.unwrap_or(""), lang) {
        ("urbanisme", Lang::Fr) => {
            "Écrivez au service en indiquant la commune, l'adresse du bien ou ses références cadastrales, le nom du demandeur si vous le connaissez et l'année de la demande. Vous pouvez aussi consulter le dossier sur place."
        }
        ("urbanisme", Lang::En) => {
            "Write to the service giving the commune, the address of the property or its cadastral references, the applicant's name if you know it, and the year of the application. You may also consult the file on site."
        }
        ("notariat", Lang::Fr) => {
            "Écrivez à l'étude ou au service en indiquant le nom des parties à l'acte, le nom du notaire ou de l'étude si vous le connaissez, la commune et la date de l'acte."
        }
        ("notariat", Lang::En) => {
            "Write to the notary's office or the service giving the names of the parties to the deed, the notary's or the office's name if you know it, the commune and the date of the deed."
        }
        ("foncier", Lang::Fr) => {
            "Écrivez au service en indiquant la commune, l'adresse ou les références cadastrales du bien, le nom des propriétaires que vous connaissez et la période recherchée."
        }
        ("foncier", Lang::En) => {
            "Write to the service giving the commune, the address or cadastral references of the property, the names of the owners you know, and the period you are looking for."
        }
        ("etat-civil", Lang::Fr) => {
            "Indiquez le nom et les prénoms des personnes concernées, la date et la commune de l'événement, et pour une copie intégrale les noms de leurs parents."
        }
        ("etat-civil", Lang::En) => {
            "Give the surnames and first names of the persons concerned, the date and the commune of the event, and for a full copy the names of their parents."
        }
        ("justice", Lang::Fr) => {
            "Écrivez au service en indiquant les noms des deux ex-époux, le tribunal et la date du jugement. Si vous demandez votre propre jugement, joignez une copie de votre pièce d'identité."
        }
        ("justice", Lang::En) => {
            "Write to the service giving the names of both former spouses, the court and the date of the judgment. If you ask for your own judgment, enclose a copy of your identity document."
        }
        ("scolarite", Lang::Fr) => {
            "Écrivez à l'établissement ou au service en indiquant le nom de l'élève à l'époque, sa date de naissance, l'établissement et les années de scolarité."
        }
        ("scolarite", Lang::En) => {
            "Write to the school or the service giving the pupil's name at the time, their date of birth, the school and the years of schooling."
        }
        (_, Lang::Fr) => {
            "Écrivez au service en indiquant la commune, les personnes concernées et la date du document, ou consultez-le sur place s'il est librement consultable."
        }
        (_, Lang::En) => {
            "Write to the service giving the commune, the persons concerned and the date of the document, or consult it on site if it is open to all."
        }
    }
}
