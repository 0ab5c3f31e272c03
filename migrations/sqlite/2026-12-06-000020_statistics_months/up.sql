-- The statistics of whole past months, kept ready (src/db/statistics/months.rs, docs/statistics.md): a month's facts
-- are computed once and stored with the generation they were computed at. Every change to a row statistics count
-- from moves on the generation of each kept month on or after the earliest day the change touches, so kept facts
-- that no longer match the record are never used; they are computed again when next asked for. The day a change
-- touches is a date, or the UTC date of a stored time, which is never after its London date.
CREATE TABLE statistics_months (
  first_day DATE PRIMARY KEY NOT NULL,
  last_day DATE NOT NULL,
  generation BIGINT NOT NULL DEFAULT 0,
  facts TEXT,
  facts_generation BIGINT
);
CREATE INDEX statistics_months_last_day ON statistics_months (last_day);

-- Orders: made, served, in force (their term and early end), by force, court and type.
CREATE TRIGGER statistics_orders_insert AFTER INSERT ON orders BEGIN
  UPDATE statistics_months SET generation = generation + 1 WHERE last_day >= NEW.made_on;
END;
CREATE TRIGGER statistics_orders_delete AFTER DELETE ON orders BEGIN
  UPDATE statistics_months SET generation = generation + 1 WHERE last_day >= OLD.made_on;
END;
CREATE TRIGGER statistics_orders_update AFTER UPDATE ON orders
WHEN OLD.made_on IS NOT NEW.made_on OR OLD.applicant_agency IS NOT NEW.applicant_agency
  OR OLD.court_agency IS NOT NEW.court_agency OR OLD.order_type IS NOT NEW.order_type
  OR OLD.served_at IS NOT NEW.served_at OR OLD.expires_on IS NOT NEW.expires_on OR OLD.ended_on IS NOT NEW.ended_on
BEGIN
  UPDATE statistics_months SET generation = generation + 1 WHERE last_day >= min(
    CASE WHEN OLD.made_on IS NOT NEW.made_on OR OLD.applicant_agency IS NOT NEW.applicant_agency
           OR OLD.court_agency IS NOT NEW.court_agency OR OLD.order_type IS NOT NEW.order_type
           OR OLD.served_at IS NOT NEW.served_at
         THEN min(OLD.made_on, NEW.made_on) ELSE '9999-12-31' END,
    CASE WHEN OLD.expires_on IS NOT NEW.expires_on
         THEN min(coalesce(OLD.expires_on, NEW.expires_on), coalesce(NEW.expires_on, OLD.expires_on))
         ELSE '9999-12-31' END,
    CASE WHEN OLD.ended_on IS NOT NEW.ended_on
         THEN min(coalesce(OLD.ended_on, NEW.ended_on), coalesce(NEW.ended_on, OLD.ended_on))
         ELSE '9999-12-31' END);
END;

-- Decisions on orders: on the court's decision date, or the day recorded.
CREATE TRIGGER statistics_versions_insert AFTER INSERT ON order_versions BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE last_day >= coalesce(NEW.decided_on, date(NEW.recorded_at));
END;
CREATE TRIGGER statistics_versions_delete AFTER DELETE ON order_versions BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE last_day >= coalesce(OLD.decided_on, date(OLD.recorded_at));
END;
CREATE TRIGGER statistics_versions_update AFTER UPDATE ON order_versions
WHEN OLD.event IS NOT NEW.event OR OLD.decided_on IS NOT NEW.decided_on OR OLD.recorded_at IS NOT NEW.recorded_at
  OR OLD.order_id IS NOT NEW.order_id
BEGIN
  UPDATE statistics_months SET generation = generation + 1 WHERE last_day >= min(
    coalesce(OLD.decided_on, date(OLD.recorded_at)), coalesce(NEW.decided_on, date(NEW.recorded_at)));
END;

-- Breaches: when they occurred, and their current outcome and when it was recorded.
CREATE TRIGGER statistics_breaches_insert AFTER INSERT ON breaches BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE last_day >= min(date(NEW.occurred_at), date(NEW.outcome_at));
END;
CREATE TRIGGER statistics_breaches_delete AFTER DELETE ON breaches BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE last_day >= min(date(OLD.occurred_at), date(OLD.outcome_at));
END;
CREATE TRIGGER statistics_breaches_update AFTER UPDATE ON breaches
WHEN OLD.occurred_at IS NOT NEW.occurred_at OR OLD.outcome IS NOT NEW.outcome OR OLD.outcome_at IS NOT NEW.outcome_at
  OR OLD.recorded_as_crime IS NOT NEW.recorded_as_crime OR OLD.force_agency IS NOT NEW.force_agency
  OR OLD.court_agency IS NOT NEW.court_agency OR OLD.order_type IS NOT NEW.order_type
BEGIN
  UPDATE statistics_months SET generation = generation + 1 WHERE last_day >= min(
    date(OLD.occurred_at), date(OLD.outcome_at), date(NEW.occurred_at), date(NEW.outcome_at));
END;

-- Notification deadlines: missed ones, by the day due.
CREATE TRIGGER statistics_deadlines_insert AFTER INSERT ON deadlines BEGIN
  UPDATE statistics_months SET generation = generation + 1 WHERE last_day >= date(NEW.due_at);
END;
CREATE TRIGGER statistics_deadlines_delete AFTER DELETE ON deadlines BEGIN
  UPDATE statistics_months SET generation = generation + 1 WHERE last_day >= date(OLD.due_at);
END;
CREATE TRIGGER statistics_deadlines_update AFTER UPDATE ON deadlines
WHEN OLD.status IS NOT NEW.status OR OLD.due_at IS NOT NEW.due_at OR OLD.kind IS NOT NEW.kind
  OR OLD.order_id IS NOT NEW.order_id
BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE last_day >= min(date(OLD.due_at), date(NEW.due_at));
END;

-- Applications: each stage by its day; a report date counts with the application to court, the day the order was
-- made with the court's decision.
CREATE TRIGGER statistics_applications_insert AFTER INSERT ON applications BEGIN
  UPDATE statistics_months SET generation = generation + 1 WHERE last_day >= min(
    coalesce(NEW.internal_decision_on, '9999-12-31'), coalesce(NEW.made_to_court_on, '9999-12-31'),
    coalesce(NEW.court_outcome_on, '9999-12-31'));
END;
CREATE TRIGGER statistics_applications_delete AFTER DELETE ON applications BEGIN
  UPDATE statistics_months SET generation = generation + 1 WHERE last_day >= min(
    coalesce(OLD.internal_decision_on, '9999-12-31'), coalesce(OLD.made_to_court_on, '9999-12-31'),
    coalesce(OLD.court_outcome_on, '9999-12-31'));
END;
CREATE TRIGGER statistics_applications_update AFTER UPDATE ON applications BEGIN
  UPDATE statistics_months SET generation = generation + 1 WHERE last_day >= min(
    CASE WHEN OLD.force_agency IS NOT NEW.force_agency OR OLD.court_agency IS NOT NEW.court_agency
           OR OLD.order_type IS NOT NEW.order_type
         THEN min(coalesce(OLD.internal_decision_on, '9999-12-31'), coalesce(OLD.made_to_court_on, '9999-12-31'),
                  coalesce(OLD.court_outcome_on, '9999-12-31'), coalesce(NEW.internal_decision_on, '9999-12-31'),
                  coalesce(NEW.made_to_court_on, '9999-12-31'), coalesce(NEW.court_outcome_on, '9999-12-31'))
         ELSE '9999-12-31' END,
    CASE WHEN OLD.internal_decision_on IS NOT NEW.internal_decision_on OR OLD.internal_decision IS NOT NEW.internal_decision
           OR OLD.internal_refusal_reason IS NOT NEW.internal_refusal_reason
         THEN min(coalesce(OLD.internal_decision_on, '9999-12-31'), coalesce(NEW.internal_decision_on, '9999-12-31'))
         ELSE '9999-12-31' END,
    CASE WHEN OLD.made_to_court_on IS NOT NEW.made_to_court_on OR OLD.reported_on IS NOT NEW.reported_on
         THEN min(coalesce(OLD.made_to_court_on, '9999-12-31'), coalesce(NEW.made_to_court_on, '9999-12-31'))
         ELSE '9999-12-31' END,
    CASE WHEN OLD.court_outcome_on IS NOT NEW.court_outcome_on OR OLD.court_outcome IS NOT NEW.court_outcome
           OR OLD.court_refusal_reason IS NOT NEW.court_refusal_reason OR OLD.order_made_on IS NOT NEW.order_made_on
           OR OLD.made_to_court_on IS NOT NEW.made_to_court_on
         THEN min(coalesce(OLD.court_outcome_on, '9999-12-31'), coalesce(NEW.court_outcome_on, '9999-12-31'))
         ELSE '9999-12-31' END);
END;
