-- The language a portal's client page is shown in (`en`, `fr`); NULL: the client's browser
-- decides (Accept-Language), as before.
ALTER TABLE portals ADD COLUMN language TEXT;
