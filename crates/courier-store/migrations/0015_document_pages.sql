-- Keyset pages of documents (newest first, ties by id): one portal's, one matter's, all of
-- them, live or not. Each index holds the whole sort key, so a page deep in a long list is
-- read from the cursor on instead of sorting or skipping what comes before it.
DROP INDEX documents_portal;
CREATE INDEX documents_portal ON documents (portal_id, uploaded_at, id);
CREATE INDEX documents_matter ON documents (matter_id, uploaded_at, id);
CREATE INDEX documents_uploaded ON documents (uploaded_at, id);
DROP INDEX documents_live_uploaded;
CREATE INDEX documents_live_uploaded ON documents (deleted_at, uploaded_at, id);
