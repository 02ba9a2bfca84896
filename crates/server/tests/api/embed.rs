//! The widget: its loader, registered sites and framing, usage counts, and
//! the integrator page.

use locadocs::import;
use locadocs_core::{Origin, Site, Slug};

use crate::dual_test;
use crate::helpers::{Geo, TestApp, today};

async fn with_demo(app: &TestApp) {
    import::demo(app.store.as_ref(), today())
        .await
        .expect("demo data loads");
    app.refresh().await;
}

/// Decodes the HTML escapes a template writes (named and numeric).
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find(';').expect("entity ends with ;");
        let name = &tail[1..end];
        out.push(match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            n => n
                .strip_prefix('#')
                .and_then(|d| d.parse::<u32>().ok())
                .and_then(char::from_u32)
                .unwrap_or_else(|| panic!("unknown entity &{n};")),
        });
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

fn site(key: &str, origins: &[&str], restrict: bool) -> Site {
    Site {
        key: Slug::parse(key).unwrap(),
        name: format!("Site {key}"),
        origins: origins.iter().map(|o| Origin::parse(o).unwrap()).collect(),
        restrict_framing: restrict,
    }
}

dual_test!(
    loader_is_served_cached_and_revalidated,
    Geo::Sample,
    |app| {
        let resp = app.get("/embed.js").await;
        assert_eq!(resp.status(), 200);
        let h = resp.headers().clone();
        assert_eq!(h["content-type"], "text/javascript; charset=utf-8");
        assert_eq!(h["cache-control"], "public, max-age=3600");
        assert!(h.get("set-cookie").is_none());
        let etag = h["etag"].to_str().unwrap().to_owned();
        let body = resp.text().await.unwrap();
        assert!(body.contains("locadocs:result") && body.contains("postMessage"));
        let again = app
            .client
            .get(format!("{}/embed.js", app.base))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
    }
);

dual_test!(sites_are_stored_updated_and_removed, Geo::Sample, |app| {
    let v0 = app.store.data_version().await.unwrap();
    assert!(
        app.store
            .save_site(&site("rennes", &["https://rennes.fr"], false))
            .await
            .unwrap()
    );
    let updated = site(
        "rennes",
        &["https://rennes.fr", "https://metropole.rennes.fr"],
        true,
    );
    assert!(
        !app.store.save_site(&updated).await.unwrap(),
        "second save is an update"
    );
    assert_eq!(app.store.sites().await.unwrap(), vec![updated.clone()]);
    assert!(
        app.store.data_version().await.unwrap() > v0,
        "sites are live data"
    );
    app.refresh().await;
    assert_eq!(app.live.snapshot().site("rennes"), Some(&updated));
    assert!(app.store.delete_site("rennes").await.unwrap());
    assert!(!app.store.delete_site("rennes").await.unwrap());
    assert!(app.store.sites().await.unwrap().is_empty());
});

dual_test!(
    a_restricting_site_gets_frame_ancestors,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        app.store
            .save_site(&site(
                "rennes",
                &["https://rennes.fr", "http://127.0.0.1:9999"],
                true,
            ))
            .await
            .unwrap();
        app.store
            .save_site(&site("ouvert", &["https://ouvert.fr"], false))
            .await
            .unwrap();
        app.refresh().await;
        let csp = |path: &'static str| async move {
            let resp = app.get(path).await;
            assert_eq!(resp.status(), 200, "{path}");
            // The frame-ancestors directive of the page's policy, if any.
            resp.headers().get("content-security-policy").and_then(|v| {
                v.to_str()
                    .unwrap()
                    .split("; ")
                    .find(|d| d.starts_with("frame-ancestors"))
                    .map(str::to_owned)
            })
        };
        assert_eq!(
            csp("/g/immobilier?embed=1&site=rennes").await.as_deref(),
            Some("frame-ancestors 'self' https://rennes.fr http://127.0.0.1:9999")
        );
        // Every later step keeps the key, hence the restriction.
        assert!(
            csp("/g/immobilier?embed=1&site=rennes&document_type=permis-de-construire")
                .await
                .is_some()
        );
        // Unregistered, unknown or open: any origin may frame the guide.
        assert_eq!(csp("/g/immobilier?embed=1").await, None);
        assert_eq!(csp("/g/immobilier?embed=1&site=inconnu").await, None);
        assert_eq!(csp("/g/immobilier?embed=1&site=ouvert").await, None);
    }
);

dual_test!(embedded_pages_carry_the_widget_state, Geo::Sample, |app| {
    with_demo(app).await;
    let html = app
        .get("/g/immobilier?embed=1&document_type=permis-de-construire&commune=35238&year=2015")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<html lang=\"fr\" class=\"embed\">"),
        "{html}"
    );
    assert!(html.contains("data-step=\"resultat\""), "{html}");
    assert!(
        html.contains("&quot;documentTypes&quot;:[&quot;permis-de-construire&quot;]")
            || html.contains("&#34;documentTypes&#34;:[&#34;permis-de-construire&#34;]"),
        "{html}"
    );
    assert!(
        html.contains("archives-rennes") || html.contains("am-rennes"),
        "holder ids: {html}"
    );
    // The step's links keep the widget mode.
    let first = app
        .get("/g/immobilier?embed=1&lang=en")
        .await
        .text()
        .await
        .unwrap();
    assert!(first.contains("name=\"embed\" value=\"1\""), "{first}");
    assert!(first.contains("A Locadocs service."), "{first}");
    // Outside the widget, no widget frame.
    let plain = app.get("/g/immobilier").await.text().await.unwrap();
    assert!(plain.contains("<html lang=\"fr\">") && !plain.contains("Un service Locadocs."));
});

dual_test!(
    guide_use_is_counted_by_site_and_channel,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        app.store
            .save_site(&site("rennes", &["https://rennes.fr"], false))
            .await
            .unwrap();
        app.refresh().await;
        let result = "document_type=permis-de-construire&commune=35238&year=2015";
        for path in [
            "/g/immobilier?embed=1&site=rennes".to_owned(),
            "/g/immobilier?embed=1&site=rennes".to_owned(),
            format!("/g/immobilier?embed=1&site=rennes&{result}"),
            "/g/immobilier?embed=1&site=inconnu".to_owned(),
            "/g/immobilier".to_owned(),
            format!("/g/immobilier?{result}"),
            // A middle step is neither a start nor a result.
            "/g/immobilier?document_type=permis-de-construire".to_owned(),
        ] {
            assert_eq!(app.get(&path).await.status(), 200, "{path}");
        }
        app.usage.flush(app.store.as_ref()).await.unwrap();
        // Flushing twice adds nothing.
        app.usage.flush(app.store.as_ref()).await.unwrap();
        let counts: Vec<(String, &str, &str, u64)> = app
            .store
            .usage()
            .await
            .unwrap()
            .into_iter()
            .map(|(k, n)| {
                assert_eq!(k.day, "2026-11-23");
                assert_eq!(k.guide, "immobilier");
                (k.site, k.channel, k.event, n)
            })
            .collect();
        assert_eq!(
            counts,
            vec![
                (String::new(), "direct", "result", 1),
                (String::new(), "direct", "start", 1),
                (String::new(), "embed", "start", 1),
                ("rennes".to_owned(), "embed", "result", 1),
                ("rennes".to_owned(), "embed", "start", 2),
            ]
        );
    }
);

dual_test!(the_integrator_page_writes_the_snippet, Geo::Sample, |app| {
    with_demo(app).await;
    app.store
        .save_site(&site("rennes", &["https://rennes.fr"], false))
        .await
        .unwrap();
    app.refresh().await;
    let resp = app.get("/integrer").await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("<h1>Intégrer un guide à votre site</h1>"));
    assert!(
        html.contains("data-guide=&quot;divorce&quot;")
            || html.contains("data-guide=&#34;divorce&#34;"),
        "first guide by default: {html}"
    );

    let html = app
        .get("/integrer?guide=immobilier&commune_q=Rennes&theme=dsfr&color=0B5CAD&lang=en&site=rennes")
        .await
        .text()
        .await
        .unwrap();
    let code = html
        .split("<code id=\"code\">")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .expect("snippet block");
    let code = unescape(code);
    let base = app.base.clone();
    assert_eq!(
        code,
        format!(
            "<script src=\"{base}/embed.js\" data-guide=\"immobilier\" data-commune=\"35238\" data-theme=\"dsfr\" \
             data-color=\"#0b5cad\" data-lang=\"en\" data-site=\"rennes\" async></script>\n\
             <noscript><a href=\"{base}/g/immobilier?commune=35238&theme=dsfr&color=%230b5cad&lang=en&site=rennes\">\
             Trouver un document avec Locadocs</a></noscript>"
        )
    );
    assert!(html.contains("Commune retenue : Rennes"), "{html}");

    // Bad choices are named next to their field, and left out of the code.
    let html = app
        .get("/integrer?guide=nulle-part&commune_q=Zzzzqqq&color=rouge&site=inconnu")
        .await
        .text()
        .await
        .unwrap();
    for msg in [
        "Le guide « nulle-part » n&#39;existe pas.",
        "Aucune commune ne correspond à « Zzzzqqq ».",
        "Couleur invalide",
        "Aucun site n&#39;est enregistré sous la clé « inconnu ».",
    ] {
        assert!(html.contains(msg), "{msg}: {html}");
    }
    assert!(!html.contains("data-color=&"), "{html}");
});

dual_test!(
    the_dsfr_icon_drawn_after_new_tab_links_is_served,
    Geo::Sample,
    |app| {
        // In the widget, links that leave the guide open a new tab; the DSFR
        // core stylesheet marks them with this icon.
        let resp = app
            .get(&format!(
                "{}/icons/system/external-link-line.svg",
                locadocs::web::pages::dsfr_prefix()
            ))
            .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "image/svg+xml");
        assert!(resp.text().await.unwrap().contains("<svg"));
        // Only the files the themes use: no arbitrary file of the package.
        for path in [
            "/assets/dsfr/icons/buildings/bank-line.svg",
            "/assets/dsfr/../package.json",
            "/assets/dsfr/utility/utility.min.css",
        ] {
            assert_eq!(app.get(path).await.status(), 404, "{path}");
        }
    }
);
