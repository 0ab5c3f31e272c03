-- An interim SPO is applied for pending the determination of a main application for an SPO (Stalking Protection
-- Act 2019 s5(1)-(2)): the interim application names it. NULL for every other application.
-- No REFERENCES clause: SQLite cannot drop a column that has one, so the down migration could not run; the service
-- only ever stores the id of an application it has just read.
ALTER TABLE applications ADD COLUMN main_application_id TEXT;
CREATE INDEX applications_main_application ON applications (main_application_id);
