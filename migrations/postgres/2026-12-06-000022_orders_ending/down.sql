DROP INDEX orders_agency_ending;
DROP INDEX orders_ending;
