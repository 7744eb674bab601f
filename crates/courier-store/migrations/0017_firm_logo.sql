-- The firm's logo as the setup page received it (a PNG or an SVG, checked before it is
-- stored). `firm_logo` in the configuration wins over it.
ALTER TABLE firm_profile ADD COLUMN logo {{BYTES}};
