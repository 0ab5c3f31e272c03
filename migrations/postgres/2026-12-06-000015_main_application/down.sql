DROP INDEX applications_main_application;
ALTER TABLE applications DROP COLUMN main_application_id;
