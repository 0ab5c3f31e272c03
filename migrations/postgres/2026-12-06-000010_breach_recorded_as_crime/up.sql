-- Whether the force also recorded the breach as a crime (the inspectorates' recommendation that breaches be recorded
-- as crimes where appropriate); counted per force in statistics.
ALTER TABLE breaches ADD COLUMN recorded_as_crime BOOLEAN NOT NULL DEFAULT FALSE;
