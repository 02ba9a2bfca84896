use locadocs::store::{Feedback, Suggestion};

use crate::dual_test;
use crate::helpers::Geo;

dual_test!(
    feedback_suggestions_and_guide_versions_are_kept,
    Geo::Sample,
    |app| {
        let s = &app.store;
        let f = Feedback {
            guide: "immobilier".into(),
            document_type: Some("permis-de-construire".into()),
            commune: Some("35238".into()),
            rating: 4,
            comment: Some("Très clair".into()),
            site: None,
            lang: "fr".into(),
        };
        s.add_feedback(&f).await.unwrap();
        assert_eq!(s.feedback().await.unwrap(), vec![f]);
        let sug = Suggestion {
            guide: "immobilier".into(),
            step: "autre".into(),
            text: "Les plans de réseau".into(),
            site: Some("mairie-rennes".into()),
            lang: "fr".into(),
        };
        s.add_suggestion(&sug).await.unwrap();
        assert_eq!(s.suggestions().await.unwrap(), vec![sug]);

        // Versions: a draft does not replace the published guide until published.
        let v1 = s.save_guide("g", "slug = \"g\"\n", true).await.unwrap();
        assert_eq!((v1.version, v1.published), (1, true));
        let same = s.save_guide("g", "slug = \"g\"\n", true).await.unwrap();
        assert_eq!(
            same.version, 1,
            "saving identical content makes no new version"
        );
        let v2 = s
            .save_guide("g", "slug = \"g\"\n# v2\n", false)
            .await
            .unwrap();
        assert_eq!((v2.version, v2.published), (2, false));
        let published = s.published_guides().await.unwrap();
        assert_eq!(published.len(), 1);
        assert_eq!(published[0].version, 1);
        assert_eq!(s.latest_guides().await.unwrap()[0].version, 2);
        let v2p = s
            .save_guide("g", "slug = \"g\"\n# v2\n", true)
            .await
            .unwrap();
        assert_eq!((v2p.version, v2p.published), (2, true));
        assert_eq!(s.published_guides().await.unwrap()[0].version, 2);
    }
);
