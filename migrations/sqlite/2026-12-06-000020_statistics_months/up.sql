-- The statistics of whole past months, kept ready (src/db/statistics/months.rs, docs/statistics.md): a month's facts
-- are computed once and stored with the generation they were computed at. Every change to a row statistics count
-- from moves on, in the same transaction, the generation of each kept month whose facts it can change, so kept facts
-- that no longer match the record are never used; they are computed again when next asked for.
--
-- Most facts belong to the month of one day (an order made, a decision, a breach, an outcome, a deadline due, an
-- application's stage): a change moves on the months of its days, before and after. The orders in force at a
-- month's end belong to every month from the day an order was made, its term ended or it was ended: a change to
-- those moves on every kept month from the earliest such day. A stored time's London date is its UTC date or the
-- next day, so both months are moved on.
CREATE TABLE statistics_months (
  first_day DATE PRIMARY KEY NOT NULL,
  last_day DATE NOT NULL,
  generation BIGINT NOT NULL DEFAULT 0,
  facts TEXT,
  facts_generation BIGINT,
  -- Every change in progress when the row was made has ended (months.rs, `new_month`).
  fenced BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX statistics_months_last_day ON statistics_months (last_day);

-- Orders: made, and in force (their term and early end), by force, court and type; service, in the month made.
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
         THEN min(OLD.made_on, NEW.made_on) ELSE '9999-12-31' END,
    CASE WHEN OLD.expires_on IS NOT NEW.expires_on
         THEN min(coalesce(OLD.expires_on, NEW.expires_on), coalesce(NEW.expires_on, OLD.expires_on))
         ELSE '9999-12-31' END,
    CASE WHEN OLD.ended_on IS NOT NEW.ended_on
         THEN min(coalesce(OLD.ended_on, NEW.ended_on), coalesce(NEW.ended_on, OLD.ended_on))
         ELSE '9999-12-31' END);
  UPDATE statistics_months SET generation = generation + 1
    WHERE OLD.served_at IS NOT NEW.served_at AND first_day <= NEW.made_on AND last_day >= NEW.made_on;
END;

-- Decisions on orders: in the month of the court's decision date, or of the day recorded.
CREATE TRIGGER statistics_versions_insert AFTER INSERT ON order_versions BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE last_day >= coalesce(NEW.decided_on, date(NEW.recorded_at))
      AND first_day <= date(coalesce(NEW.decided_on, NEW.recorded_at), '+1 day');
END;
CREATE TRIGGER statistics_versions_delete AFTER DELETE ON order_versions BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE last_day >= coalesce(OLD.decided_on, date(OLD.recorded_at))
      AND first_day <= date(coalesce(OLD.decided_on, OLD.recorded_at), '+1 day');
END;
CREATE TRIGGER statistics_versions_update AFTER UPDATE ON order_versions
WHEN OLD.event IS NOT NEW.event OR OLD.decided_on IS NOT NEW.decided_on OR OLD.recorded_at IS NOT NEW.recorded_at
  OR OLD.order_id IS NOT NEW.order_id
BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE (last_day >= coalesce(OLD.decided_on, date(OLD.recorded_at))
           AND first_day <= date(coalesce(OLD.decided_on, OLD.recorded_at), '+1 day'))
       OR (last_day >= coalesce(NEW.decided_on, date(NEW.recorded_at))
           AND first_day <= date(coalesce(NEW.decided_on, NEW.recorded_at), '+1 day'));
END;

-- Breaches: in the month they occurred; their current outcome, in the month it was recorded.
CREATE TRIGGER statistics_breaches_insert AFTER INSERT ON breaches BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE (last_day >= date(NEW.occurred_at) AND first_day <= date(NEW.occurred_at, '+1 day'))
       OR (last_day >= date(NEW.outcome_at) AND first_day <= date(NEW.outcome_at, '+1 day'));
END;
CREATE TRIGGER statistics_breaches_delete AFTER DELETE ON breaches BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE (last_day >= date(OLD.occurred_at) AND first_day <= date(OLD.occurred_at, '+1 day'))
       OR (last_day >= date(OLD.outcome_at) AND first_day <= date(OLD.outcome_at, '+1 day'));
END;
CREATE TRIGGER statistics_breaches_update AFTER UPDATE ON breaches
WHEN OLD.occurred_at IS NOT NEW.occurred_at OR OLD.outcome IS NOT NEW.outcome OR OLD.outcome_at IS NOT NEW.outcome_at
  OR OLD.recorded_as_crime IS NOT NEW.recorded_as_crime OR OLD.force_agency IS NOT NEW.force_agency
  OR OLD.court_agency IS NOT NEW.court_agency OR OLD.order_type IS NOT NEW.order_type
BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE (last_day >= date(OLD.outcome_at) AND first_day <= date(OLD.outcome_at, '+1 day'))
       OR (last_day >= date(NEW.outcome_at) AND first_day <= date(NEW.outcome_at, '+1 day'))
       OR ((OLD.occurred_at IS NOT NEW.occurred_at OR OLD.recorded_as_crime IS NOT NEW.recorded_as_crime
            OR OLD.force_agency IS NOT NEW.force_agency OR OLD.court_agency IS NOT NEW.court_agency
            OR OLD.order_type IS NOT NEW.order_type)
           AND ((last_day >= date(OLD.occurred_at) AND first_day <= date(OLD.occurred_at, '+1 day'))
             OR (last_day >= date(NEW.occurred_at) AND first_day <= date(NEW.occurred_at, '+1 day'))));
END;

-- Notification deadlines: missed ones, in the month due.
CREATE TRIGGER statistics_deadlines_insert AFTER INSERT ON deadlines BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE last_day >= date(NEW.due_at) AND first_day <= date(NEW.due_at, '+1 day');
END;
CREATE TRIGGER statistics_deadlines_delete AFTER DELETE ON deadlines BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE last_day >= date(OLD.due_at) AND first_day <= date(OLD.due_at, '+1 day');
END;
CREATE TRIGGER statistics_deadlines_update AFTER UPDATE ON deadlines
WHEN OLD.status IS NOT NEW.status OR OLD.due_at IS NOT NEW.due_at OR OLD.kind IS NOT NEW.kind
  OR OLD.order_id IS NOT NEW.order_id
BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE (last_day >= date(OLD.due_at) AND first_day <= date(OLD.due_at, '+1 day'))
       OR (last_day >= date(NEW.due_at) AND first_day <= date(NEW.due_at, '+1 day'));
END;

-- Applications: each stage in the month of its day; a report date counts with the application to court, the day
-- the order was made with the court's decision. (A null day is in no month.)
CREATE TRIGGER statistics_applications_insert AFTER INSERT ON applications BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE (first_day <= NEW.internal_decision_on AND last_day >= NEW.internal_decision_on)
       OR (first_day <= NEW.made_to_court_on AND last_day >= NEW.made_to_court_on)
       OR (first_day <= NEW.court_outcome_on AND last_day >= NEW.court_outcome_on);
END;
CREATE TRIGGER statistics_applications_delete AFTER DELETE ON applications BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE (first_day <= OLD.internal_decision_on AND last_day >= OLD.internal_decision_on)
       OR (first_day <= OLD.made_to_court_on AND last_day >= OLD.made_to_court_on)
       OR (first_day <= OLD.court_outcome_on AND last_day >= OLD.court_outcome_on);
END;
CREATE TRIGGER statistics_applications_update AFTER UPDATE ON applications BEGIN
  UPDATE statistics_months SET generation = generation + 1
    WHERE ((OLD.force_agency IS NOT NEW.force_agency OR OLD.court_agency IS NOT NEW.court_agency
            OR OLD.order_type IS NOT NEW.order_type OR OLD.internal_decision_on IS NOT NEW.internal_decision_on
            OR OLD.internal_decision IS NOT NEW.internal_decision
            OR OLD.internal_refusal_reason IS NOT NEW.internal_refusal_reason)
           AND ((first_day <= OLD.internal_decision_on AND last_day >= OLD.internal_decision_on)
             OR (first_day <= NEW.internal_decision_on AND last_day >= NEW.internal_decision_on)))
       OR ((OLD.force_agency IS NOT NEW.force_agency OR OLD.court_agency IS NOT NEW.court_agency
            OR OLD.order_type IS NOT NEW.order_type OR OLD.made_to_court_on IS NOT NEW.made_to_court_on
            OR OLD.reported_on IS NOT NEW.reported_on)
           AND ((first_day <= OLD.made_to_court_on AND last_day >= OLD.made_to_court_on)
             OR (first_day <= NEW.made_to_court_on AND last_day >= NEW.made_to_court_on)))
       OR ((OLD.force_agency IS NOT NEW.force_agency OR OLD.court_agency IS NOT NEW.court_agency
            OR OLD.order_type IS NOT NEW.order_type OR OLD.court_outcome_on IS NOT NEW.court_outcome_on
            OR OLD.court_outcome IS NOT NEW.court_outcome OR OLD.court_refusal_reason IS NOT NEW.court_refusal_reason
            OR OLD.order_made_on IS NOT NEW.order_made_on OR OLD.made_to_court_on IS NOT NEW.made_to_court_on)
           AND ((first_day <= OLD.court_outcome_on AND last_day >= OLD.court_outcome_on)
             OR (first_day <= NEW.court_outcome_on AND last_day >= NEW.court_outcome_on)));
END;
