-- Suggestions sent from dead ends are triaged in the back office: new
-- (''), done ('traitee') or not relevant ('non_pertinente'), with when and
-- by whom (an account's id; the account's address is not copied here).

ALTER TABLE suggestions ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE suggestions ADD COLUMN triaged_at TEXT;
ALTER TABLE suggestions ADD COLUMN triaged_by INTEGER;
CREATE INDEX suggestions_guide ON suggestions (guide, created_at);
CREATE INDEX feedback_guide ON feedback (guide, created_at);
