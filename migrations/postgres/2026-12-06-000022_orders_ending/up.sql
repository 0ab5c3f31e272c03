-- orders(orderBy: ENDING_SOONEST) reads the orders with a last day in an index's order, then those without one: this
-- one for every order a caller sees, and (applicant_agency, ...) for a force's own list (`filter: { applicantAgency }`),
-- which would otherwise pass over every other force's orders ending first.
CREATE INDEX orders_ending ON orders (expires_on, id);
CREATE INDEX orders_agency_ending ON orders (applicant_agency, expires_on, id);
