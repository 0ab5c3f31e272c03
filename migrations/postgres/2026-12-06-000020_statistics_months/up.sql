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
  fenced BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX statistics_months_last_day ON statistics_months (last_day);

-- Each change that moves months on holds this advisory lock (shared) to the end of its transaction, so that a new
-- month's row can wait for the changes that ran before it existed (months.rs, `STATISTICS_LOCK_KEY`).
-- Kept months from `since` on (nothing when it is null).
CREATE FUNCTION statistics_stale_from(since DATE) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF since IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock_shared(126943688422260);
    UPDATE statistics_months SET generation = generation + 1 WHERE last_day >= since;
  END IF;
END $$;
-- The kept months holding any of `days` (null days are in none).
CREATE FUNCTION statistics_stale_on(days DATE[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(126943688422260);
  UPDATE statistics_months SET generation = generation + 1
    WHERE EXISTS (SELECT 1 FROM unnest(days) d WHERE first_day <= d AND last_day >= d);
END $$;

-- Orders: made, and in force (their term and early end), by force, court and type; service, in the month made.
CREATE FUNCTION statistics_orders_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM statistics_stale_from(NEW.made_on);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statistics_stale_from(OLD.made_on);
  ELSE
    PERFORM statistics_stale_from(LEAST(
      CASE WHEN (OLD.made_on, OLD.applicant_agency, OLD.court_agency, OLD.order_type)
             IS DISTINCT FROM (NEW.made_on, NEW.applicant_agency, NEW.court_agency, NEW.order_type)
           THEN LEAST(OLD.made_on, NEW.made_on) END,
      CASE WHEN OLD.expires_on IS DISTINCT FROM NEW.expires_on THEN LEAST(OLD.expires_on, NEW.expires_on) END,
      CASE WHEN OLD.ended_on IS DISTINCT FROM NEW.ended_on THEN LEAST(OLD.ended_on, NEW.ended_on) END));
    IF OLD.served_at IS DISTINCT FROM NEW.served_at THEN
      PERFORM statistics_stale_on(ARRAY[NEW.made_on]);
    END IF;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER statistics_orders AFTER INSERT OR UPDATE OR DELETE ON orders
  FOR EACH ROW EXECUTE FUNCTION statistics_orders_changed();

-- Decisions on orders: in the month of the court's decision date, or of the day recorded.
CREATE FUNCTION statistics_versions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM statistics_stale_on(ARRAY[COALESCE(NEW.decided_on, NEW.recorded_at::date),
                                      COALESCE(NEW.decided_on, NEW.recorded_at::date) + 1]);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statistics_stale_on(ARRAY[COALESCE(OLD.decided_on, OLD.recorded_at::date),
                                      COALESCE(OLD.decided_on, OLD.recorded_at::date) + 1]);
  ELSIF (OLD.event, OLD.decided_on, OLD.recorded_at, OLD.order_id)
        IS DISTINCT FROM (NEW.event, NEW.decided_on, NEW.recorded_at, NEW.order_id) THEN
    PERFORM statistics_stale_on(ARRAY[COALESCE(OLD.decided_on, OLD.recorded_at::date),
                                      COALESCE(OLD.decided_on, OLD.recorded_at::date) + 1,
                                      COALESCE(NEW.decided_on, NEW.recorded_at::date),
                                      COALESCE(NEW.decided_on, NEW.recorded_at::date) + 1]);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER statistics_versions AFTER INSERT OR UPDATE OR DELETE ON order_versions
  FOR EACH ROW EXECUTE FUNCTION statistics_versions_changed();

-- Breaches: in the month they occurred; their current outcome, in the month it was recorded.
CREATE FUNCTION statistics_breaches_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM statistics_stale_on(ARRAY[NEW.occurred_at::date, NEW.occurred_at::date + 1,
                                      NEW.outcome_at::date, NEW.outcome_at::date + 1]);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statistics_stale_on(ARRAY[OLD.occurred_at::date, OLD.occurred_at::date + 1,
                                      OLD.outcome_at::date, OLD.outcome_at::date + 1]);
  ELSIF (OLD.occurred_at, OLD.recorded_as_crime, OLD.force_agency, OLD.court_agency, OLD.order_type)
        IS DISTINCT FROM (NEW.occurred_at, NEW.recorded_as_crime, NEW.force_agency, NEW.court_agency, NEW.order_type)
  THEN
    PERFORM statistics_stale_on(ARRAY[OLD.occurred_at::date, OLD.occurred_at::date + 1,
                                      NEW.occurred_at::date, NEW.occurred_at::date + 1,
                                      OLD.outcome_at::date, OLD.outcome_at::date + 1,
                                      NEW.outcome_at::date, NEW.outcome_at::date + 1]);
  ELSIF (OLD.outcome, OLD.outcome_at) IS DISTINCT FROM (NEW.outcome, NEW.outcome_at) THEN
    PERFORM statistics_stale_on(ARRAY[OLD.outcome_at::date, OLD.outcome_at::date + 1,
                                      NEW.outcome_at::date, NEW.outcome_at::date + 1]);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER statistics_breaches AFTER INSERT OR UPDATE OR DELETE ON breaches
  FOR EACH ROW EXECUTE FUNCTION statistics_breaches_changed();

-- Notification deadlines: missed ones, in the month due.
CREATE FUNCTION statistics_deadlines_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM statistics_stale_on(ARRAY[NEW.due_at::date, NEW.due_at::date + 1]);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statistics_stale_on(ARRAY[OLD.due_at::date, OLD.due_at::date + 1]);
  ELSIF (OLD.status, OLD.due_at, OLD.kind, OLD.order_id) IS DISTINCT FROM (NEW.status, NEW.due_at, NEW.kind, NEW.order_id)
  THEN
    PERFORM statistics_stale_on(ARRAY[OLD.due_at::date, OLD.due_at::date + 1, NEW.due_at::date, NEW.due_at::date + 1]);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER statistics_deadlines AFTER INSERT OR UPDATE OR DELETE ON deadlines
  FOR EACH ROW EXECUTE FUNCTION statistics_deadlines_changed();

-- Applications: each stage in the month of its day; a report date counts with the application to court, the day
-- the order was made with the court's decision.
CREATE FUNCTION statistics_applications_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  moved BOOLEAN;
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM statistics_stale_on(ARRAY[NEW.internal_decision_on, NEW.made_to_court_on, NEW.court_outcome_on]);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statistics_stale_on(ARRAY[OLD.internal_decision_on, OLD.made_to_court_on, OLD.court_outcome_on]);
  ELSE
    moved := (OLD.force_agency, OLD.court_agency, OLD.order_type)
      IS DISTINCT FROM (NEW.force_agency, NEW.court_agency, NEW.order_type);
    PERFORM statistics_stale_on(ARRAY[
      CASE WHEN moved OR (OLD.internal_decision_on, OLD.internal_decision, OLD.internal_refusal_reason)
             IS DISTINCT FROM (NEW.internal_decision_on, NEW.internal_decision, NEW.internal_refusal_reason)
           THEN OLD.internal_decision_on END,
      CASE WHEN moved OR (OLD.internal_decision_on, OLD.internal_decision, OLD.internal_refusal_reason)
             IS DISTINCT FROM (NEW.internal_decision_on, NEW.internal_decision, NEW.internal_refusal_reason)
           THEN NEW.internal_decision_on END,
      CASE WHEN moved OR (OLD.made_to_court_on, OLD.reported_on) IS DISTINCT FROM (NEW.made_to_court_on, NEW.reported_on)
           THEN OLD.made_to_court_on END,
      CASE WHEN moved OR (OLD.made_to_court_on, OLD.reported_on) IS DISTINCT FROM (NEW.made_to_court_on, NEW.reported_on)
           THEN NEW.made_to_court_on END,
      CASE WHEN moved OR (OLD.court_outcome_on, OLD.court_outcome, OLD.court_refusal_reason, OLD.order_made_on,
                          OLD.made_to_court_on)
             IS DISTINCT FROM (NEW.court_outcome_on, NEW.court_outcome, NEW.court_refusal_reason, NEW.order_made_on,
                          NEW.made_to_court_on)
           THEN OLD.court_outcome_on END,
      CASE WHEN moved OR (OLD.court_outcome_on, OLD.court_outcome, OLD.court_refusal_reason, OLD.order_made_on,
                          OLD.made_to_court_on)
             IS DISTINCT FROM (NEW.court_outcome_on, NEW.court_outcome, NEW.court_refusal_reason, NEW.order_made_on,
                          NEW.made_to_court_on)
           THEN NEW.court_outcome_on END]);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER statistics_applications AFTER INSERT OR UPDATE OR DELETE ON applications
  FOR EACH ROW EXECUTE FUNCTION statistics_applications_changed();
