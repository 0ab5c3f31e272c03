ALTER TABLE breaches DROP COLUMN recorded_as_crime;
