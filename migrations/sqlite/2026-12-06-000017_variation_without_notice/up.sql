-- A DAPO varied without notice to the subject to add a requirement or extend a period (Domestic Abuse Act 2021
-- s45(8)): its breach counts only once the subject was aware of the variation (s45(9)). The version records that it
-- was made without notice, and when police record the subject became aware of it.
ALTER TABLE order_versions ADD COLUMN without_notice BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE order_versions ADD COLUMN aware_at TIMESTAMP;
