-- A portal's record carries how many live documents it holds. Counted through the portal's
-- page index, every live row had to be read for its deleted_at (about 1.5 ms for a portal of
-- 1,000 documents, several times per staff page); this partial index holds the live rows only,
-- so the count reads the index alone.
CREATE INDEX documents_live_portal ON documents (portal_id) WHERE deleted_at IS NULL;
