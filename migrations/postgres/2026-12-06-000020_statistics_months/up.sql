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

-- Kept months from `since` on no longer match the record (nothing when `since` is null).
CREATE FUNCTION statistics_stale(since DATE) RETURNS void LANGUAGE sql AS $$
  UPDATE statistics_months SET generation = generation + 1 WHERE last_day >= since;
$$;

-- Orders: made, served, in force (their term and early end), by force, court and type.
CREATE FUNCTION statistics_orders_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM statistics_stale(NEW.made_on);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statistics_stale(OLD.made_on);
  ELSE
    PERFORM statistics_stale(LEAST(
      CASE WHEN (OLD.made_on, OLD.applicant_agency, OLD.court_agency, OLD.order_type, OLD.served_at)
             IS DISTINCT FROM (NEW.made_on, NEW.applicant_agency, NEW.court_agency, NEW.order_type, NEW.served_at)
           THEN LEAST(OLD.made_on, NEW.made_on) END,
      CASE WHEN OLD.expires_on IS DISTINCT FROM NEW.expires_on THEN LEAST(OLD.expires_on, NEW.expires_on) END,
      CASE WHEN OLD.ended_on IS DISTINCT FROM NEW.ended_on THEN LEAST(OLD.ended_on, NEW.ended_on) END));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER statistics_orders AFTER INSERT OR UPDATE OR DELETE ON orders
  FOR EACH ROW EXECUTE FUNCTION statistics_orders_changed();

-- Decisions on orders: on the court's decision date, or the day recorded.
CREATE FUNCTION statistics_versions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM statistics_stale(COALESCE(NEW.decided_on, NEW.recorded_at::date));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statistics_stale(COALESCE(OLD.decided_on, OLD.recorded_at::date));
  ELSIF (OLD.event, OLD.decided_on, OLD.recorded_at, OLD.order_id)
        IS DISTINCT FROM (NEW.event, NEW.decided_on, NEW.recorded_at, NEW.order_id) THEN
    PERFORM statistics_stale(LEAST(COALESCE(OLD.decided_on, OLD.recorded_at::date),
                                   COALESCE(NEW.decided_on, NEW.recorded_at::date)));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER statistics_versions AFTER INSERT OR UPDATE OR DELETE ON order_versions
  FOR EACH ROW EXECUTE FUNCTION statistics_versions_changed();

-- Breaches: when they occurred, and their current outcome and when it was recorded.
CREATE FUNCTION statistics_breaches_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM statistics_stale(LEAST(NEW.occurred_at::date, NEW.outcome_at::date));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statistics_stale(LEAST(OLD.occurred_at::date, OLD.outcome_at::date));
  ELSIF (OLD.occurred_at, OLD.outcome, OLD.outcome_at, OLD.recorded_as_crime, OLD.force_agency, OLD.court_agency,
         OLD.order_type)
        IS DISTINCT FROM (NEW.occurred_at, NEW.outcome, NEW.outcome_at, NEW.recorded_as_crime, NEW.force_agency,
         NEW.court_agency, NEW.order_type) THEN
    PERFORM statistics_stale(LEAST(OLD.occurred_at::date, OLD.outcome_at::date, NEW.occurred_at::date,
                                   NEW.outcome_at::date));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER statistics_breaches AFTER INSERT OR UPDATE OR DELETE ON breaches
  FOR EACH ROW EXECUTE FUNCTION statistics_breaches_changed();

-- Notification deadlines: missed ones, by the day due.
CREATE FUNCTION statistics_deadlines_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM statistics_stale(NEW.due_at::date);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statistics_stale(OLD.due_at::date);
  ELSIF (OLD.status, OLD.due_at, OLD.kind, OLD.order_id) IS DISTINCT FROM (NEW.status, NEW.due_at, NEW.kind, NEW.order_id)
  THEN
    PERFORM statistics_stale(LEAST(OLD.due_at::date, NEW.due_at::date));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER statistics_deadlines AFTER INSERT OR UPDATE OR DELETE ON deadlines
  FOR EACH ROW EXECUTE FUNCTION statistics_deadlines_changed();

-- Applications: each stage by its day; a report date counts with the application to court, the day the order was
-- made with the court's decision.
CREATE FUNCTION statistics_applications_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM statistics_stale(LEAST(NEW.internal_decision_on, NEW.made_to_court_on, NEW.court_outcome_on));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statistics_stale(LEAST(OLD.internal_decision_on, OLD.made_to_court_on, OLD.court_outcome_on));
  ELSE
    PERFORM statistics_stale(LEAST(
      CASE WHEN (OLD.force_agency, OLD.court_agency, OLD.order_type)
             IS DISTINCT FROM (NEW.force_agency, NEW.court_agency, NEW.order_type)
           THEN LEAST(OLD.internal_decision_on, OLD.made_to_court_on, OLD.court_outcome_on,
                      NEW.internal_decision_on, NEW.made_to_court_on, NEW.court_outcome_on) END,
      CASE WHEN (OLD.internal_decision_on, OLD.internal_decision, OLD.internal_refusal_reason)
             IS DISTINCT FROM (NEW.internal_decision_on, NEW.internal_decision, NEW.internal_refusal_reason)
           THEN LEAST(OLD.internal_decision_on, NEW.internal_decision_on) END,
      CASE WHEN (OLD.made_to_court_on, OLD.reported_on) IS DISTINCT FROM (NEW.made_to_court_on, NEW.reported_on)
           THEN LEAST(OLD.made_to_court_on, NEW.made_to_court_on) END,
      CASE WHEN (OLD.court_outcome_on, OLD.court_outcome, OLD.court_refusal_reason, OLD.order_made_on,
                 OLD.made_to_court_on)
             IS DISTINCT FROM (NEW.court_outcome_on, NEW.court_outcome, NEW.court_refusal_reason, NEW.order_made_on,
                 NEW.made_to_court_on)
           THEN LEAST(OLD.court_outcome_on, NEW.court_outcome_on) END));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER statistics_applications AFTER INSERT OR UPDATE OR DELETE ON applications
  FOR EACH ROW EXECUTE FUNCTION statistics_applications_changed();
