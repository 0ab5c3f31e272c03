-- The subject's Sexual Offences Act 2003 Part 2 notification may begin after an SPO or DAPO was made: the day it
-- began. While it lasts the order's own requirements do not apply (Stalking Protection Act 2019 s9(5), Domestic Abuse
-- Act 2021 s41(8)(b)). NULL when the subject was already subject to it when the order was made.
ALTER TABLE orders ADD COLUMN soa_notification_start_day DATE;
