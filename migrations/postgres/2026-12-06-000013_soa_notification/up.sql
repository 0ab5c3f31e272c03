-- Whether, when an SPO or interim SPO was made, its subject was subject to notification requirements under Part 2 of
-- the Sexual Offences Act 2003, and the day those end (the "final day"; NULL while they last indefinitely): the
-- order's own notification requirements do not apply until then (Stalking Protection Act 2019 s9(5)-(7)).
ALTER TABLE orders ADD COLUMN soa_notification BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE orders ADD COLUMN soa_notification_final_day DATE;
