-- The territories a contributor's rules may cover. A contributor may write a
-- holding rule only when its holder is one of their services and its
-- territory lies inside one of these (a département covers its EPCIs and
-- communes, an EPCI its communes).
CREATE TABLE user_territories (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    territory TEXT NOT NULL,
    PRIMARY KEY (user_id, territory)
);

-- Existing contributors keep what they can do today on the rules their
-- services hold: the territories of those rules (national rules were never
-- theirs to edit).
INSERT INTO user_territories (user_id, territory)
SELECT DISTINCT us.user_id, h.territory
FROM user_services us
JOIN users u ON u.id = us.user_id
JOIN holdings h ON h.service = us.service
WHERE u.role = 'contributor' AND h.territory <> 'france';
