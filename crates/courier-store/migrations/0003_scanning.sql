-- Upload safety: the scan result of each document and the scanning choices of each portal.
-- `scan_findings` is a JSON list of {kind, count, locations}: never a matched value.
-- `held` = 1 keeps a quarantined or infected document from every download until released.
ALTER TABLE documents ADD COLUMN scan_status TEXT NOT NULL DEFAULT 'unscanned';
ALTER TABLE documents ADD COLUMN scan_malware TEXT;
ALTER TABLE documents ADD COLUMN scan_findings TEXT;
ALTER TABLE documents ADD COLUMN scan_checks TEXT;
ALTER TABLE documents ADD COLUMN held BIGINT NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN released_at BIGINT;

-- NULL: the firm's defaults. `allowed_types` is a comma-separated list of type names.
ALTER TABLE portals ADD COLUMN allowed_types TEXT;
ALTER TABLE portals ADD COLUMN dlp_action TEXT;
