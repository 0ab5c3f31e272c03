-- An SPO a court made of its own motion, on convicting or acquitting the subject, rather than on a police
-- application (the Crime and Policing Bill's provision, behind ORDERWATCH_COURT_MADE_SPO): ON_CONVICTION or
-- ON_ACQUITTAL; NULL for every other order.
ALTER TABLE orders ADD COLUMN court_motion TEXT;
