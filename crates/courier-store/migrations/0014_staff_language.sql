-- The language a staff member chose for the staff pages (`en`, `fr`); NULL: their browser's
-- Accept-Language decides.
ALTER TABLE users ADD COLUMN language TEXT;
