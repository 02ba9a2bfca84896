//! Unit tests of the guide format, runner, validation and search.

use super::*;

const DOCS: [&str; 11] = [
    "permis-de-construire",
    "declaration-prealable",
    "acte-notarie",
    "registre-hypotheques",
    "cadastre",
    "acte-de-naissance",
    "acte-de-mariage",
    "acte-de-deces",
    "jugement-de-divorce",
    "dossier-scolaire",
    "plan-local-urbanisme",
];

struct Env;

impl GuideEnv for Env {
    fn document_type_known(&self, slug: &str) -> bool {
        DOCS.contains(&slug)
    }
    fn commune_known(&self, code: &str) -> bool {
        ["35238", "76351", "2A004"].contains(&code)
    }
    fn commune_label(&self, code: &str) -> Option<String> {
        (code == "35238").then(|| "Rennes".to_owned())
    }
    fn current_year(&self) -> Option<i32> {
        Some(2025)
    }
}

fn known(slug: &str) -> bool {
    DOCS.contains(&slug)
}

const IMMOBILIER: &str = include_str!("../../../../demo/guides/immobilier.toml");
const ETAT_CIVIL: &str = include_str!("../../../../demo/guides/etat-civil.toml");
const DIVORCE: &str = include_str!("../../../../demo/guides/divorce.toml");

fn guide(text: &str) -> Guide {
    match parse(text) {
        Ok(g) => g,
        Err(e) => panic!("{e}"),
    }
}

fn walk<'g>(g: &'g Guide, query: &str) -> Walk<'g> {
    run(g, &Answers::parse_query(query), &Env)
}

fn current_id(w: &Walk<'_>) -> String {
    w.current.step().id.clone()
}

/// A small guide: finding step, condition, commune, date, result.
const SMALL: &str = r#"
slug = "petit"
title = "Petit guide"

[[steps]]
id = "doc"
kind = "choice"
question = "Quel document ?"
next = "note"
unknown = { goto = "perdu" }
choices = [
  { value = "pc", label = "Permis", set = { document_type = "permis-de-construire" } },
  { value = "cad", label = "Cadastre", set = { document_type = "cadastre" } },
  { value = "autre", label = "Autre", goto = "perdu" },
]

[[steps]]
id = "note"
kind = "info"
question = "À savoir"
content = "Les permis sont publics."
when = { var = "document_type", in = ["permis-de-construire"] }
next = "commune"

[[steps]]
id = "commune"
kind = "commune"
next = "date"

[[steps]]
id = "date"
kind = "date"
next = "fin"

[[steps]]
id = "fin"
kind = "result"

[[steps]]
id = "perdu"
kind = "dead_end"
content = "Nous ne savons pas encore."
"#;

// ---- format ----

#[test]
fn parses_the_small_guide() {
    let g = guide(SMALL);
    assert_eq!(g.slug.as_str(), "petit");
    assert_eq!(g.version, 1);
    assert_eq!(g.steps.len(), 6);
    assert!(g.steps[0].finds_document_type());
    assert_eq!(g.steps[0].unknown_label(), Some(UNKNOWN_LABEL));
    assert!(
        validate(&g, &known).is_empty(),
        "{:?}",
        validate(&g, &known)
    );
}

#[test]
fn syntax_errors_have_line_and_column() {
    let text = "slug = \"x\"\ntitle = \"X\"\n\n[[steps]]\nid = \"a\"\nkind = = \"result\"\n";
    let e = parse(text).unwrap_err();
    assert_eq!(e.line, Some(6), "{e}");
    assert!(e.column.is_some());
    assert!(e.to_string().starts_with("ligne 6, colonne"), "{e}");
}

#[test]
fn shape_errors_are_in_french_with_lines() {
    let e =
        parse("slug = \"x\"\ntitle = \"X\"\n[[steps]]\nid = \"a\"\nkind = \"fin\"\n").unwrap_err();
    assert_eq!(e.line, Some(5), "{e}");
    assert!(
        e.message.contains("« fin » n'est pas une valeur possible"),
        "{e}"
    );
    assert!(e.message.contains("dead_end"), "{e}");

    let e = parse(
        "slug = \"x\"\ntitle = \"X\"\n[[steps]]\nid = \"a\"\nkind = \"result\"\nquestoin = \"?\"\n",
    )
    .unwrap_err();
    assert_eq!(e.line, Some(6), "{e}");
    assert!(
        e.message.contains("le champ « questoin » n'existe pas"),
        "{e}"
    );

    let e = parse("slug = \"x\"\ntitle = \"X\"\n").unwrap_err();
    assert!(
        e.message.contains("le champ obligatoire « steps » manque"),
        "{e}"
    );

    let e = parse("slug = \"Mauvais Slug\"\ntitle = \"X\"\nsteps = []\n").unwrap_err();
    assert_eq!(e.line, Some(1), "{e}");
    assert!(e.message.contains("n'est pas un identifiant valide"), "{e}");

    let e = parse("slug = \"x\"\ntitle = 3\nsteps = []\n").unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.message.contains("type de valeur incorrect"), "{e}");

    let e = parse("slug = \"x\"\ntitle = \"X\"\ntitle = \"Y\"\nsteps = []\n").unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
}

#[test]
fn round_trips() {
    for text in [SMALL, IMMOBILIER, ETAT_CIVIL, DIVORCE] {
        let g = guide(text);
        let written = to_toml(&g);
        assert_eq!(parse(&written), Ok(g), "{written}");
    }
}

#[test]
fn localizes_texts() {
    let g = guide(IMMOBILIER);
    let en = g.localized("en");
    assert!(en.title.starts_with("Find a document"));
    let s = en.step("savoir").unwrap();
    assert_eq!(s.choice("oui").unwrap().label, "Yes, I know the document");
    assert_eq!(s.unknown_label(), Some("I am not sure"));
    assert_eq!(
        en.step("besoin").unwrap().question.as_deref(),
        Some("What are you looking for?")
    );
    // Untranslated texts stay in French; unknown languages change nothing.
    let mut partial = g.clone();
    partial
        .translations
        .get_mut("en")
        .unwrap()
        .steps
        .remove("besoin");
    assert_eq!(
        partial.localized("en").step("besoin").unwrap().question,
        g.step("besoin").unwrap().question
    );
    assert_eq!(g.localized("de"), g);
}

// ---- runner ----

#[test]
fn the_host_commune_stays_through_start_again_and_can_be_changed() {
    let g = guide(SMALL);
    // A town hall's widget: the commune is the host's.
    let w = walk(&g, "embed=1&host_commune=35238&doc=pc&note=ok");
    assert_eq!(
        current_id(&w),
        "date",
        "the commune step is answered by the host"
    );
    assert_eq!(w.restart_query(), "embed=1&host_commune=35238");
    // Starting again, or going back, keeps it.
    let again = walk(&g, &format!("{}&doc=pc&note=ok", w.restart_query()));
    assert_eq!(current_id(&again), "date");
    assert!(
        w.query_for(1).contains("host_commune=35238"),
        "{}",
        w.query_for(1)
    );
    // A visitor from elsewhere asks for another commune: the other answers stay.
    let other = w.change_commune_query().unwrap();
    assert_eq!(other, "embed=1&doc=pc&note=ok");
    assert_eq!(current_id(&walk(&g, &other)), "commune");
    // A commune chosen by the visitor wins over the host's.
    let w = walk(&g, "host_commune=35238&doc=pc&note=ok&commune=76351");
    assert!(w.kept.to_query().contains("commune=76351"));
    // Without a host commune there is nothing to change.
    assert_eq!(walk(&g, "doc=pc").change_commune_query(), None);
    // An unknown host commune is ignored.
    assert_eq!(
        current_id(&walk(&g, "host_commune=99999&doc=pc&note=ok")),
        "commune"
    );
}

#[test]
fn walks_step_by_step() {
    let g = guide(SMALL);
    let w = walk(&g, "");
    assert_eq!(current_id(&w), "doc");
    assert!(w.path.is_empty() && w.error.is_none());

    let w = walk(&g, "doc=pc");
    assert_eq!(current_id(&w), "note");
    let w = walk(&g, "doc=pc&note=ok");
    assert_eq!(current_id(&w), "commune");
    let w = walk(&g, "doc=pc&note=ok&commune=35238");
    assert_eq!(current_id(&w), "date");
    assert_eq!(w.path[2].labels, ["Rennes"]);
    let w = walk(&g, "doc=pc&note=ok&commune=35238&year=1985&lang=en");
    match &w.current {
        Current::Result {
            document_types,
            commune,
            year,
            ..
        } => {
            assert_eq!(document_types, &["permis-de-construire"]);
            assert_eq!(commune.as_deref(), Some("35238"));
            assert_eq!(*year, Some(1985));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        w.kept.to_query(),
        "lang=en&doc=pc&note=ok&commune=35238&year=1985"
    );
    // Going back to the date keeps the earlier answers and the display.
    assert_eq!(w.query_for(3), "lang=en&doc=pc&note=ok&commune=35238");
    assert_eq!(w.query_for(0), "lang=en");
    assert_eq!(w.restart_query(), "lang=en");
}

#[test]
fn conditions_skip_steps() {
    let g = guide(SMALL);
    let w = walk(&g, "doc=cad&note=ok");
    assert_eq!(current_id(&w), "commune");
    // The info answer was not consumed: it is dropped.
    assert_eq!(w.kept.to_query(), "doc=cad");
}

#[test]
fn presets_pass_steps() {
    let g = guide(SMALL);
    let w = walk(&g, "doc=cad&commune=35238&year=1900");
    assert!(matches!(w.current, Current::Result { .. }));
    assert_eq!(w.path.len(), 3);
}

#[test]
fn preset_document_type_passes_finding_steps() {
    let g = guide(SMALL);
    let w = walk(&g, "document_type=cadastre&theme=dsfr");
    assert_eq!(current_id(&w), "commune");
    assert_eq!(w.path.len(), 1);
    assert!(w.path[0].preset);
    assert_eq!(w.path[0].values, ["cadastre"]);
    // Changing the document drops the preset.
    assert_eq!(w.path[0].query, "theme=dsfr");
    assert_eq!(w.kept.to_query(), "theme=dsfr&document_type=cadastre");

    // The date form sends its empty field before the button pressed.
    for q in [
        "document_type=cadastre&commune=35238&year=inconnu",
        "document_type=cadastre&commune=35238&year=&year=inconnu",
    ] {
        assert!(walk(&g, q).error.is_none(), "{q}");
    }
    let w = walk(
        &g,
        "document_type=cadastre&commune=35238&year=&year=inconnu",
    );
    match &w.current {
        Current::Result {
            document_types,
            year,
            ..
        } => {
            assert_eq!(document_types, &["cadastre"]);
            assert_eq!(*year, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.query_for(1), "document_type=cadastre");

    // An unknown preset: error at the finding step.
    let w = walk(&g, "document_type=licorne&commune=35238");
    assert_eq!(current_id(&w), "doc");
    let e = w.error.unwrap();
    assert_eq!(e.step, "doc");
    assert!(e.message.contains("licorne"));
    // The commune is still good for the steps to come.
    assert_eq!(w.kept.to_query(), "commune=35238");
}

#[test]
fn changing_an_earlier_answer_drops_later_ones() {
    let g = guide(SMALL);
    // "autre" leads to the dead end; the commune and year are dropped.
    let w = walk(&g, "doc=autre&commune=35238&year=1985");
    assert!(matches!(w.current, Current::DeadEnd(s) if s.id == "perdu"));
    assert_eq!(w.kept.to_query(), "doc=autre");
    // Unknown pairs are dropped too.
    let w = walk(&g, "doc=cad&foo=bar");
    assert_eq!(w.kept.to_query(), "doc=cad");
}

#[test]
fn unknown_answer() {
    let g = guide(SMALL);
    let w = walk(&g, "doc=inconnu");
    assert!(matches!(w.current, Current::DeadEnd(s) if s.id == "perdu"));
    assert_eq!(w.path[0].labels, [UNKNOWN_LABEL]);
}

#[test]
fn needs_are_found_in_the_words_people_use() {
    let immobilier = guide(IMMOBILIER);
    let etat_civil = guide(ETAT_CIVIL);
    let guides = [&etat_civil, &immobilier];
    let first = |q: &str| {
        let found = crate::guide::find_needs(q, guides, 5);
        let n = found.first().unwrap_or_else(|| panic!("{q}: nothing"));
        (
            n.guide.slug.to_string(),
            n.label.to_owned(),
            n.document_types.clone(),
        )
    };
    let (g, label, docs) = first("plans de ma maison");
    assert_eq!(g, "immobilier");
    assert!(label.starts_with("Les plans de la maison"), "{label}");
    assert_eq!(docs, ["permis-de-construire"]);
    let (_, label, docs) = first("mitoyenneté");
    assert!(label.contains("mitoyen"), "{label}");
    assert_eq!(docs, ["acte-notarie"]);
    let (_, _, docs) = first("Année de construction");
    assert_eq!(docs, ["permis-de-construire", "cadastre"]);
    let (g, _, docs) = first("acte de naissance");
    assert_eq!(
        (g.as_str(), docs),
        ("etat-civil", vec!["acte-de-naissance"])
    );
    let a = crate::guide::find_needs("plans", guides, 5)[0].answers();
    assert_eq!(a.to_query(), "document_type=permis-de-construire");
    assert!(crate::guide::find_needs("de la", guides, 5).is_empty());
    assert!(crate::guide::find_needs("licorne", guides, 5).is_empty());
}

#[test]
fn untranslated_texts_are_listed() {
    let mut g = guide(SMALL);
    let all = g.untranslated("en");
    for line in [
        "titre",
        "étape « doc » : question",
        "étape « doc » : choix « pc »",
        "étape « note » : texte",
        "étape « perdu » : texte",
    ] {
        assert!(all.contains(&line.to_owned()), "{line}: {all:?}");
    }
    // A step translated is no longer listed; the others still are.
    let mut t = crate::guide::StepTranslation {
        question: Some("Which document?".into()),
        ..Default::default()
    };
    for (v, l) in [("pc", "Permit"), ("cad", "Cadastre"), ("autre", "Other")] {
        t.choices.insert(v.into(), l.into());
    }
    g.translations
        .entry("en".into())
        .or_default()
        .steps
        .insert("doc".into(), t);
    let now = g.untranslated("en");
    assert!(!now.iter().any(|l| l.contains("« doc »")), "{now:?}");
    assert!(
        now.contains(&"étape « note » : texte".to_owned()),
        "{now:?}"
    );
    // Every demo guide is translated into English, text by text.
    for text in [
        IMMOBILIER,
        ETAT_CIVIL,
        DIVORCE,
        include_str!("../../../../demo/guides/travaux-site-protege.toml"),
    ] {
        let g = guide(text);
        assert_eq!(g.untranslated("en"), Vec::<String>::new(), "{}", g.slug);
    }
}

#[test]
fn a_period_of_years_is_kept_whole() {
    let g = guide(SMALL);
    for typed in ["1985-1990", "1985 – 1990", "1985 à 1990", "1985/1990"] {
        let q = format!(
            "doc=cad&commune=35238&year={}",
            crate::guide::percent_encode(typed)
        );
        let w = walk(&g, &q);
        match &w.current {
            Current::Result { year, year_to, .. } => {
                assert_eq!((*year, *year_to), (Some(1985), Some(1990)), "{typed}");
            }
            other => panic!("{typed}: {other:?}"),
        }
        assert_eq!(w.kept.get("year"), Some("1985-1990"), "{typed}");
        assert_eq!(w.path.last().unwrap().labels, ["de 1985 à 1990"], "{typed}");
    }
    // A period of one year is that year.
    let w = walk(&g, "doc=cad&commune=35238&year=1985-1985");
    assert!(matches!(
        w.current,
        Current::Result {
            year: Some(1985),
            year_to: None,
            ..
        }
    ));
    // Backwards, or reaching the future: said, never cut.
    for (q, message) in [
        (
            "doc=cad&commune=35238&year=1990-1985",
            "l'année la plus ancienne",
        ),
        ("doc=cad&commune=35238&year=2020-2030", "pas encore arrivée"),
        (
            "doc=cad&commune=35238&year=1985-90",
            "ou une période, par exemple 1985-1990",
        ),
    ] {
        let w = walk(&g, q);
        assert_eq!(current_id(&w), "date", "{q}");
        let e = w.error.unwrap_or_else(|| panic!("{q}"));
        assert!(e.message.contains(message), "{q}: {}", e.message);
    }
}

#[test]
fn invalid_answers_stop_at_their_step() {
    let g = guide(SMALL);
    let long = "x".repeat(10_000);
    let cases = [
        ("doc=licorne", "doc", "ne fait pas partie"),
        ("doc=", "doc", "Choisissez"),
        (
            "doc=pc&note=ok&commune=123",
            "commune",
            "n'est pas un code de commune",
        ),
        (
            "doc=pc&note=ok&commune=99999",
            "commune",
            "Nous ne connaissons pas",
        ),
        (
            "doc=cad&commune=35238&year=19850",
            "date",
            "n'est pas une année",
        ),
        (
            "doc=cad&commune=35238&year=-3",
            "date",
            "n'est pas une année",
        ),
        (
            "doc=cad&commune=35238&year=0985",
            "date",
            "n'est pas une année",
        ),
        (
            "doc=cad&commune=35238&year=2090",
            "date",
            "pas encore arrivée",
        ),
        ("doc=cad&commune=35238&year=", "date", "Indiquez une année"),
        // « Continuer » with nothing chosen: the form's empty field.
        ("doc=", "doc", "Choisissez une réponse"),
    ];
    for (q, step, message) in cases {
        let w = walk(&g, q);
        let e = w.error.clone().unwrap_or_else(|| panic!("{q}"));
        assert_eq!(current_id(&w), step, "{q}");
        assert_eq!(e.step, step, "{q}");
        assert!(e.message.contains(message), "{q}: {}", e.message);
        assert!(matches!(w.current, Current::Step(_)), "{q}");
    }
    let w = walk(&g, &format!("doc=pc&note={long}"));
    assert_eq!(current_id(&w), "note");
    assert!(w.error.unwrap().message.contains("trop longue"));
    assert_eq!(w.kept.to_query(), "doc=pc");
    // Lower-case Corsican codes are accepted and normalised.
    let w = walk(&g, "doc=cad&commune=2a004");
    assert_eq!(w.kept.get("commune"), Some("2A004"));
}

#[test]
fn multiple_choice_accumulates_document_types() {
    let g = guide(IMMOBILIER);
    let w = walk(
        &g,
        "savoir=non&besoin=plans&besoin=limites&besoin=proprietaires&besoin=plans&urbanisme=ok&commune=76351&year=inconnu",
    );
    match &w.current {
        Current::Result {
            document_types,
            year,
            ..
        } => {
            assert_eq!(
                document_types,
                &[
                    "permis-de-construire",
                    "cadastre",
                    "acte-notarie",
                    "registre-hypotheques"
                ]
            );
            assert_eq!(*year, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.path[1].values, ["plans", "limites", "proprietaires"]);
    // Only "autre" → dead end; "autre" with a need → the need wins.
    let w = walk(&g, "savoir=non&besoin=autre");
    assert!(matches!(w.current, Current::DeadEnd(s) if s.id == "autre-besoin"));
    let w = walk(&g, "savoir=non&besoin=autre&besoin=servitudes");
    assert_eq!(current_id(&w), "commune");
    let w = walk(&g, "savoir=non&besoin=licorne&besoin=plans");
    assert_eq!(current_id(&w), "besoin");
    assert!(w.error.is_some());
}

#[test]
fn query_helpers_encode() {
    let g = guide(SMALL);
    let w = walk(&g, "site=https%3A%2F%2Fmairie.fr%2Fa%20b&doc=pc");
    assert_eq!(
        w.query_with(&["ok"]),
        "site=https%3A%2F%2Fmairie.fr%2Fa%20b&doc=pc&note=ok"
    );
}

#[test]
fn broken_guides_do_not_loop_or_panic() {
    let text = r#"
slug = "boucle"
title = "Boucle"
[[steps]]
id = "a"
kind = "info"
content = "x"
when = { var = "z", is_set = true }
next = "b"
[[steps]]
id = "b"
kind = "info"
content = "x"
when = { var = "z", is_set = true }
next = "a"
"#;
    let g = guide(text);
    let w = walk(&g, "");
    assert!(matches!(w.current, Current::DeadEnd(_)));
    assert!(w.error.unwrap().message.contains("tourne en rond"));

    let g = Guide {
        steps: Vec::new(),
        ..guide(SMALL)
    };
    let w = walk(&g, "doc=pc");
    assert!(matches!(w.current, Current::DeadEnd(_)));
    assert!(w.error.is_some());

    let mut g = guide(SMALL);
    g.steps[0].next = Some("nulle-part".into());
    let w = walk(&g, "doc=cad");
    assert!(matches!(w.current, Current::DeadEnd(_)));
    assert_eq!(w.error.unwrap().step, "doc");
}

// ---- validation ----

fn problems(text: &str) -> Vec<String> {
    validate(&guide(text), &known)
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn assert_problem(text: &str, expected: &str) {
    let p = problems(text);
    assert!(
        p.iter().any(|m| m.contains(expected)),
        "expected « {expected} » in {p:#?}"
    );
}

const HEAD: &str = "slug = \"g\"\ntitle = \"G\"\n";

#[test]
fn demo_guides_validate() {
    for text in [IMMOBILIER, ETAT_CIVIL, DIVORCE] {
        let g = guide(text);
        assert_eq!(validate(&g, &known), Vec::new(), "{}", g.slug);
    }
}

#[test]
fn own_record_takes_one_value() {
    let t = |v: &str| {
        format!(
            "{HEAD}[[steps]]\nid = \"a\"\nkind = \"choice\"\nquestion = \"?\"\nnext = \"b\"\nchoices = [{{ value = \"v\", label = \"V\", set = {{ own_record = \"{v}\" }} }}]\n[[steps]]\nid = \"b\"\nkind = \"result\"\n"
        )
    };
    assert_problem(
        &t("peut-etre"),
        "« own_record » ne prend qu'une valeur : « oui »",
    );
    assert_eq!(problems(&t("oui")), Vec::<String>::new());
    // The engine's own variable: no step may take its name.
    let t = format!(
        "{HEAD}[[steps]]\nid = \"own_record\"\nkind = \"choice\"\nquestion = \"?\"\nnext = \"b\"\nchoices = [{{ value = \"v\", label = \"V\" }}]\n[[steps]]\nid = \"b\"\nkind = \"result\"\n"
    );
    assert_problem(&t, "la variable « own_record » est réservée");
}

#[test]
fn missing_target() {
    let t =
        format!("{HEAD}[[steps]]\nid = \"a\"\nkind = \"info\"\ncontent = \"x\"\nnext = \"b\"\n");
    assert_problem(
        &t,
        "étape « a » : le next renvoie vers l'étape « b », qui n'existe pas",
    );
    let t = format!(
        "{HEAD}[[steps]]\nid = \"a\"\nkind = \"choice\"\nquestion = \"?\"\nchoices = [{{ value = \"v\", label = \"V\", goto = \"zz\" }}]\n"
    );
    assert_problem(&t, "goto du choix « v » renvoie vers l'étape « zz »");
}

#[test]
fn unreachable_step() {
    let t = format!(
        "{HEAD}[[steps]]\nid = \"a\"\nkind = \"result\"\n[[steps]]\nid = \"b\"\nkind = \"result\"\n"
    );
    assert_eq!(
        problems(&t),
        ["étape « b » : aucun chemin ne mène à cette étape depuis la première étape."]
    );
}

#[test]
fn path_without_end() {
    let t = format!(
        "{HEAD}[[steps]]\nid = \"a\"\nkind = \"choice\"\nquestion = \"?\"\nchoices = [{{ value = \"v\", label = \"V\", goto = \"b\" }}, {{ value = \"w\", label = \"W\" }}]\n[[steps]]\nid = \"b\"\nkind = \"result\"\n"
    );
    assert_eq!(
        problems(&t),
        [
            "étape « a » : ce chemin ne mène à aucune fin : indiquez l'étape suivante (next), ou un goto sur chaque choix."
        ]
    );
    // A skippable step needs a next even when every choice has a goto.
    let t = format!(
        "{HEAD}[[steps]]\nid = \"a\"\nkind = \"choice\"\nquestion = \"?\"\nfinds_document = true\nchoices = [{{ value = \"v\", label = \"V\", goto = \"b\" }}]\n[[steps]]\nid = \"b\"\nkind = \"result\"\n"
    );
    assert_problem(&t, "peut être sautée");
    // A terminal step must not go on.
    let t = format!("{HEAD}[[steps]]\nid = \"a\"\nkind = \"result\"\nnext = \"a\"\n");
    assert_problem(&t, "retirez next");
}

#[test]
fn loops() {
    let t = format!(
        "{HEAD}[[steps]]\nid = \"a\"\nkind = \"info\"\ncontent = \"x\"\nnext = \"b\"\n[[steps]]\nid = \"b\"\nkind = \"date\"\nnext = \"a\"\n"
    );
    assert_eq!(
        problems(&t),
        ["étape « b » : ces étapes forment une boucle : a → b → a."]
    );
}

#[test]
fn variable_never_set() {
    let t = format!(
        "{HEAD}[[steps]]\nid = \"a\"\nkind = \"info\"\ncontent = \"x\"\nwhen = {{ var = \"age\", in = [\"mineur\"] }}\nnext = \"b\"\n[[steps]]\nid = \"b\"\nkind = \"result\"\n"
    );
    assert_eq!(
        problems(&t),
        [
            "étape « a » : la condition (when) porte sur la variable « age », qu'aucune étape ne fixe."
        ]
    );
    // Reserved variables and step variables count as set.
    let t = format!(
        "{HEAD}[[steps]]\nid = \"a\"\nkind = \"info\"\ncontent = \"x\"\nwhen = {{ var = \"year\", is_set = false }}\nnext = \"b\"\n[[steps]]\nid = \"b\"\nkind = \"result\"\nwhen = {{ var = \"a\", is_set = true }}\n"
    );
    assert_eq!(problems(&t), Vec::<String>::new());
}

#[test]
fn unknown_document_type() {
    let t = format!(
        "{HEAD}[[steps]]\nid = \"a\"\nkind = \"choice\"\nquestion = \"?\"\nnext = \"b\"\nchoices = [{{ value = \"v\", label = \"V\", set = {{ document_type = [\"cadastre\", \"licorne\"] }} }}]\n[[steps]]\nid = \"b\"\nkind = \"result\"\nwhen = {{ var = \"document_type\", not_in = [\"dragon\"] }}\n"
    );
    let p = problems(&t);
    assert_eq!(
        p,
        [
            "étape « a » : le type de document « licorne » n'existe pas.",
            "étape « b » : la condition (when) cite le type de document « dragon », qui n'existe pas."
        ]
    );
}

#[test]
fn duplicate_ids_and_values_and_empty_choices() {
    let t = format!(
        "{HEAD}[[steps]]\nid = \"a\"\nkind = \"choice\"\nquestion = \"?\"\nnext = \"b\"\nchoices = [{{ value = \"v\", label = \"V\" }}, {{ value = \"v\", label = \"W\" }}]\n[[steps]]\nid = \"b\"\nkind = \"multiple\"\nquestion = \"?\"\nnext = \"a\"\n[[steps]]\nid = \"a\"\nkind = \"result\"\n"
    );
    let p = problems(&t);
    for expected in [
        "étape « a » : cet identifiant est déjà utilisé",
        "étape « a » : la valeur « v » est utilisée par deux choix",
        "étape « b » : cette étape ne propose aucun choix",
    ] {
        assert!(
            p.iter().any(|m| m.contains(expected)),
            "{expected} in {p:#?}"
        );
    }
}

#[test]
fn other_checks() {
    let t = format!(
        "{HEAD}[[steps]]\nid = \"a\"\nkind = \"choice\"\nquestion = \"?\"\nvar = \"lang\"\nnext = \"b\"\nchoices = [{{ value = \"inconnu\", label = \"?\" }}]\n[[steps]]\nid = \"b\"\nkind = \"result\"\nchoices = [{{ value = \"x\", label = \"X\" }}]\n[translations.en.steps.zz]\nquestion = \"?\"\n"
    );
    let p = problems(&t);
    for expected in [
        "la variable « lang » est réservée",
        "la valeur « inconnu » est réservée",
        "une étape result ne propose pas de choix",
        "porte sur l'étape « zz »",
    ] {
        assert!(
            p.iter().any(|m| m.contains(expected)),
            "{expected} in {p:#?}"
        );
    }
    let t = format!("{HEAD}steps = []\n");
    assert_problem(&t, "aucune étape");
}

// ---- document search ----

fn doc(slug: &str, label: &str, aliases: &[&str]) -> crate::reference::DocumentType {
    crate::reference::DocumentType {
        slug: crate::codes::Slug::parse(slug).unwrap(),
        label: label.to_owned(),
        theme: None,
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        description: None,
        communicability_years: 0,
        communicability_note: None,
    }
}

#[test]
fn finds_documents_by_label_and_alias() {
    let docs = [
        doc(
            "permis-de-construire",
            "Permis de construire",
            &["PC", "permis"],
        ),
        doc(
            "declaration-prealable",
            "Déclaration préalable de travaux",
            &["DP"],
        ),
        doc(
            "acte-notarie",
            "Acte notarié",
            &["acte de vente", "titre de propriété"],
        ),
        doc(
            "acte-de-naissance",
            "Acte de naissance",
            &["extrait de naissance"],
        ),
    ];
    let slugs = |q: &str| -> Vec<String> {
        find_documents(q, &docs, 5)
            .iter()
            .map(|d| d.slug.to_string())
            .collect()
    };
    assert_eq!(slugs("PC"), ["permis-de-construire"]);
    assert_eq!(slugs("pc"), ["permis-de-construire"]);
    assert_eq!(slugs("acte de vente"), ["acte-notarie"]);
    assert_eq!(slugs("ACTE NOTARIE"), ["acte-notarie"]);
    assert_eq!(slugs("titre propriete"), ["acte-notarie"]);
    assert_eq!(slugs("déclaration"), ["declaration-prealable"]);
    assert_eq!(slugs("acte"), ["acte-notarie", "acte-de-naissance"]);
    assert_eq!(slugs("naiss"), ["acte-de-naissance"]);
    assert!(slugs("").is_empty());
    assert!(slugs("de la").is_empty());
    assert!(slugs("licorne").is_empty());
    assert_eq!(find_documents("acte", &docs, 1).len(), 1);
}

#[test]
fn branches_into_a_guide() {
    let g = guide(IMMOBILIER);
    let a = branch_for_document(&g, "cadastre").unwrap();
    assert_eq!(a.to_query(), "document_type=cadastre");
    let w = run(&g, &a, &Env);
    assert_eq!(current_id(&w), "commune");
    assert!(branch_for_document(&g, "acte-de-naissance").is_none());
    // The permit branch shows the urban-planning note first.
    let w = run(
        &g,
        &branch_for_document(&g, "permis-de-construire").unwrap(),
        &Env,
    );
    assert_eq!(current_id(&w), "urbanisme");
}

#[test]
fn divorce_guide_paths() {
    let g = guide(DIVORCE);
    let w = walk(
        &g,
        "a-savoir=ok&procedure=juge&ex-epoux=non&commune=35238&year=1990",
    );
    match &w.current {
        Current::Result { document_types, .. } => {
            assert_eq!(document_types, &["jugement-de-divorce"])
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.path[3].step.id, "commune-tribunal");
    let w = walk(&g, "a-savoir=ok&procedure=notaire&commune=35238");
    assert_eq!(current_id(&w), "date");
    assert_eq!(w.path[2].step.id, "commune-notaire");
    let w = walk(&g, "a-savoir=ok&procedure=inconnu&ex-epoux=oui");
    assert_eq!(current_id(&w), "copie-ex-epoux");
}

#[test]
fn a_preset_commune_is_carried_until_its_step() {
    let g = guide(SMALL);
    // Given before the first step: kept in every step's hidden answers.
    let w = walk(&g, "commune=35238");
    assert_eq!(current_id(&w), "doc");
    assert_eq!(w.kept.get(COMMUNE), Some("35238"));
    let w = walk(&g, "commune=35238&doc=pc&note=ok");
    assert_ne!(current_id(&w), "commune", "the commune step is passed");
    assert_eq!(w.kept.get_all(COMMUNE).count(), 1, "carried once");
    // An unknown commune is not carried.
    let w = walk(&g, "commune=99999");
    assert_eq!(w.kept.get(COMMUNE), None);
}
