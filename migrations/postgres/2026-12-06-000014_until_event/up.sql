-- A DAPO may have effect until the occurrence of an event the court specifies (Domestic Abuse Act 2021 s38(3)): the
-- event as the order words it; NULL for every other order. When the court records that it occurred, the order's last
-- day becomes the day it did.
ALTER TABLE orders ADD COLUMN until_event TEXT;
