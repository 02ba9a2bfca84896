//! The holder timeline drawn as SVG on the answer page and on the back
//! office's rules screen, beside their text.

use locadocs::import;
use locadocs::store::Role;

use crate::backoffice::{get, signed_in};
use crate::dual_test;
use crate::helpers::{Geo, TestApp, today};

async fn with_demo(app: &TestApp) {
    import::demo(app.store.as_ref(), today())
        .await
        .expect("demo data loads");
    app.refresh().await;
}

/// The chart of the page (the one `<svg>` with its class), whole.
fn chart(html: &str) -> &str {
    let start = html.find("<svg class=\"ld-chart\"").expect("a chart");
    let end = start + html[start..].find("</svg>").expect("its end") + "</svg>".len();
    assert!(
        !html[end..].contains("<svg class=\"ld-chart\""),
        "one chart only"
    );
    &html[start..end]
}

/// The texts of a chart, in order.
fn texts(svg: &str) -> Vec<&str> {
    svg.split("<text")
        .skip(1)
        .map(|t| &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()])
        .collect()
}

dual_test!(
    the_answer_page_draws_the_holder_timeline_with_its_gap,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        let html = app
            .get("/g/immobilier?document_type=permis-de-construire&commune=35238&year=inconnu")
            .await
            .text()
            .await
            .unwrap();
        let svg = chart(&html);
        assert!(svg.contains(" role=\"img\""), "{svg}");
        assert!(
            svg.contains(">Détenteurs selon la date du document : Permis de construire</title>"),
            "{svg}"
        );
        assert!(svg.contains(
            ">Frise chronologique ; chaque période est détaillée dans le texte qui suit.</desc>"
        ));
        assert_eq!(
            texts(svg),
            vec![
                "aujourd&#39;hui",
                "Non couvert · jusqu&#39;en 1907",
                "Archives de Rennes · 1908 – 2015",
                "Rennes Métropole – service Droit des sols",
                "depuis 2015",
                "1900",
                "1925",
                "1950",
                "1975",
                "2000",
            ]
        );
        assert_eq!(svg.matches("class=\"ld-gap\"").count(), 1, "{svg}");
        assert_eq!(svg.matches("class=\"ld-bar\"").count(), 2, "{svg}");
        // Beside the text list, which stays: the chart comes first.
        let at = html.find("<svg class=\"ld-chart\"").unwrap();
        let card = html
            .find("<h3>Archives de Rennes</h3>")
            .expect("the holder's card");
        let gap = html
            .find("<h3>Période non renseignée</h3>")
            .expect("the uncovered period's card");
        // Then the cards, oldest first: the period before 1908 comes first.
        assert!(at < gap && gap < card);
        assert!(html.contains("Jusqu&#39;au 31 décembre 1907"), "{html}");

        // A year inside one stretch: one holder, nothing to draw.
        let html = app
            .get("/g/immobilier?document_type=permis-de-construire&commune=35238&year=1985")
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("<h3>Archives de Rennes</h3>"));
        assert!(!html.contains("ld-chart"), "{html}");

        // A rolling bound, in English: the band runs to today, with its note.
        let html = app
            .get("/g/immobilier?document_type=acte-notarie&commune=35238&year=inconnu&lang=en")
            .await
            .text()
            .await
            .unwrap();
        let svg = chart(&html);
        assert_eq!(
            texts(svg),
            vec![
                "today",
                "Archives départementales d&#39;Ille-et-Vilaine",
                "until 1951 · documents over 75 years old",
                "Chambre interdépartementale des notaires de la …",
                "since 1951 · documents under 75 years old",
                "1960",
                "1980",
                "2000",
            ]
        );
        assert!(
            svg.contains(">Holders by the document&#39;s date: "),
            "{svg}"
        );
        assert!(!svg.contains("ld-gap"));
    }
);

admin_test!(the_rules_screen_draws_the_public_timeline, |app| {
    with_demo(app).await;
    let editor = signed_in(app, Role::Editor, &[]).await;
    let html = get(
        app,
        "/admin/regles?type=permis-de-construire&commune=35238",
        &editor.cookie,
    )
    .await
    .text()
    .await
    .unwrap();
    let svg = chart(&html);
    assert!(
        svg.contains(">Détenteurs de « Permis de construire » à Rennes, toutes dates</title>"),
        "{svg}"
    );
    // The description says it all, for whoever does not see the drawing.
    assert!(
        svg.contains(
            ">Non couvert : jusqu&#39;en 1907. Archives de Rennes : 1908 – 2015. \
             Rennes Métropole – service Droit des sols : depuis 2015.</desc>"
        ),
        "{svg}"
    );
    assert_eq!(
        &texts(svg)[..5],
        &[
            "aujourd&#39;hui",
            "Non couvert · jusqu&#39;en 1907",
            "Archives de Rennes · 1908 – 2015",
            "Rennes Métropole – service Droit des sols",
            "depuis 2015",
        ]
    );
    assert_eq!(svg.matches("class=\"ld-gap\"").count(), 1);
    // Beside the text of the public answer, which stays.
    let at = html.find("<svg class=\"ld-chart\"").unwrap();
    let heading = html
        .find("<h2>Réponse publique, toutes dates</h2>")
        .unwrap();
    // Before 1908 the national rules name no holder, and say why.
    let text = html
        .find("aucun détenteur nommé (@inconnu), avec sa raison")
        .unwrap();
    assert!(heading < at && at < text, "{html}");

    // No commune chosen: no chart.
    let html = get(
        app,
        "/admin/regles?type=permis-de-construire",
        &editor.cookie,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(!html.contains("<svg class=\"ld-chart\""));
});
