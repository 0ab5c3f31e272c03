-- orders(orderBy: ENDING_SOONEST) reads the orders with a last day in this index's order, then those without one.
CREATE INDEX orders_ending ON orders (expires_on, id);
