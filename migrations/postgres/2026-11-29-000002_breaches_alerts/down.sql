DROP TABLE alert_acks;
DROP TABLE alerts;
DROP TABLE order_shares;
DROP TABLE breach_outcomes;
DROP TABLE breach_conditions;
DROP TABLE breaches;
