-- An order made without notice to the subject, and when the subject became aware of it other than by service: a
-- breach of a non-molestation order or DAPO made without notice is an offence only once the subject was aware of it
-- (Family Law Act 1996 s42A(2), Domestic Abuse Act 2021 s39(2)).
ALTER TABLE orders ADD COLUMN without_notice BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE orders ADD COLUMN aware_at TIMESTAMP;
