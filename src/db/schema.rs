// Written to match migrations/sqlite and migrations/postgres; tests/api/schema.rs regenerates this text from each
// migrated database and fails when either differs. Types are the subset both backends share.

diesel::table! {
    agencies (code) {
        code -> Text,
        name -> Text,
        kind -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    alert_acks (alert_seq, agency) {
        alert_seq -> BigInt,
        agency -> Text,
        acknowledged_at -> Timestamp,
        acknowledged_by -> Text,
    }
}

diesel::table! {
    alert_endpoints (id) {
        id -> Text,
        agency -> Text,
        transport -> Text,
        target -> Text,
        kinds -> Text,
        secret -> Nullable<Text>,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        state -> Text,
        delivered_seq -> BigInt,
        attempts -> BigInt,
        failing_since -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        last_attempt_at -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    alerts (seq) {
        seq -> BigInt,
        id -> Text,
        dedup_key -> Text,
        kind -> Text,
        severity -> Text,
        order_id -> Text,
        breach_id -> Nullable<Text>,
        due_at -> Timestamp,
        created_at -> Timestamp,
        late -> Bool,
        late_by_seconds -> BigInt,
    }
}

diesel::table! {
    applications (id) {
        id -> Text,
        reference -> Text,
        force_agency -> Text,
        order_type -> Text,
        reported_on -> Nullable<Date>,
        internal_decision -> Nullable<Text>,
        internal_decision_on -> Nullable<Date>,
        internal_refusal_reason -> Nullable<Text>,
        made_to_court_on -> Nullable<Date>,
        court_agency -> Nullable<Text>,
        court_outcome -> Nullable<Text>,
        court_outcome_on -> Nullable<Date>,
        court_refusal_reason -> Nullable<Text>,
        order_id -> Nullable<Text>,
        note -> Nullable<Text>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
        updated_at -> Timestamp,
        order_made_on -> Nullable<Date>,
        main_application_id -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        id -> Text,
        at -> Timestamp,
        request_id -> Text,
        actor_sub -> Text,
        actor_agency -> Text,
        actor_role -> Text,
        operation -> Text,
        action -> Text,
        object_type -> Text,
        object_ids -> Text,
        fields -> Text,
        recipient -> Nullable<Text>,
        outcome -> Text,
        reason -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
        key_id -> Text,
        correlation_id -> Nullable<Text>,
    }
}

diesel::table! {
    breach_conditions (breach_id, condition_id) {
        breach_id -> Text,
        condition_id -> Text,
    }
}

diesel::table! {
    breach_outcomes (id) {
        id -> Text,
        breach_id -> Text,
        outcome -> Text,
        recorded_at -> Timestamp,
        recorded_by_agency -> Text,
        recorded_by -> Text,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    breaches (id) {
        id -> Text,
        order_id -> Text,
        reported_by_agency -> Text,
        reported_by -> Text,
        external_ref -> Text,
        occurred_at -> Timestamp,
        description -> Text,
        outcome -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        recorded_as_crime -> Bool,
        force_agency -> Text,
        order_type -> Text,
        outcome_at -> Timestamp,
        court_agency -> Nullable<Text>,
    }
}

diesel::table! {
    conditions (id) {
        id -> Text,
        order_id -> Text,
        position -> BigInt,
        kind -> Text,
        text -> Text,
        expires_on -> Nullable<Date>,
        added_in_version -> BigInt,
        removed_in_version -> Nullable<BigInt>,
    }
}

diesel::table! {
    deadlines (id) {
        id -> Text,
        order_id -> Text,
        kind -> Text,
        occasion -> Text,
        due_at -> Timestamp,
        status -> Text,
        met_at -> Nullable<Timestamp>,
        rule -> Text,
        statute -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    hearings (id) {
        id -> Text,
        order_id -> Text,
        court_agency -> Text,
        scheduled_for -> Timestamp,
        outcome -> Nullable<Text>,
        held_at -> Nullable<Timestamp>,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        order_id -> Text,
        kind -> Text,
        notified_at -> Timestamp,
        changed_on -> Nullable<Date>,
        details -> Nullable<Text>,
        recorded_by_agency -> Text,
        recorded_by -> Text,
        created_at -> Timestamp,
        source -> Text,
    }
}

diesel::table! {
    order_shares (id) {
        id -> Text,
        order_id -> Text,
        protected_person_id -> Text,
        advocacy_agency -> Text,
        recorded_by_agency -> Text,
        recorded_by -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_by_agency -> Nullable<Text>,
    }
}

diesel::table! {
    order_versions (order_id, version) {
        order_id -> Text,
        version -> BigInt,
        event -> Text,
        status -> Text,
        expires_on -> Nullable<Date>,
        recorded_at -> Timestamp,
        recorded_by -> Text,
        recorded_by_agency -> Text,
        note -> Nullable<Text>,
        decided_on -> Nullable<Date>,
        without_notice -> Bool,
        aware_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    orders (id) {
        id -> Text,
        reference -> Text,
        order_type -> Text,
        status -> Text,
        made_on -> Date,
        expires_on -> Nullable<Date>,
        applicant_agency -> Text,
        court_agency -> Nullable<Text>,
        subject_date_of_birth -> Nullable<Date>,
        replaces_order_id -> Nullable<Text>,
        version -> BigInt,
        service_status -> Text,
        served_at -> Nullable<Timestamp>,
        service_method -> Nullable<Text>,
        served_by_agency -> Nullable<Text>,
        served_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        ended_on -> Nullable<Date>,
        without_notice -> Bool,
        aware_at -> Nullable<Timestamp>,
        soa_notification -> Bool,
        soa_notification_final_day -> Nullable<Date>,
        until_event -> Nullable<Text>,
        court_motion -> Nullable<Text>,
        soa_notification_start_day -> Nullable<Date>,
    }
}

diesel::table! {
    protected_persons (id) {
        id -> Text,
        order_id -> Text,
        position -> BigInt,
        name -> Text,
        date_of_birth -> Nullable<Date>,
        contact -> Nullable<Text>,
    }
}

diesel::table! {
    scheduled_alerts (id) {
        id -> Text,
        order_id -> Text,
        kind -> Text,
        occasion -> Text,
        due_at -> Timestamp,
        fire_at -> Timestamp,
        state -> Text,
        done_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    statistics_months (first_day) {
        first_day -> Date,
        last_day -> Date,
        generation -> BigInt,
        facts -> Nullable<Text>,
        facts_generation -> Nullable<BigInt>,
        fenced -> Bool,
    }
}

diesel::table! {
    subject_names (id) {
        id -> Text,
        order_id -> Text,
        position -> BigInt,
        name -> Text,
        name_key -> Text,
    }
}

diesel::joinable!(alert_acks -> alerts (alert_seq));
diesel::joinable!(alerts -> orders (order_id));
diesel::joinable!(applications -> orders (order_id));
diesel::joinable!(breach_conditions -> breaches (breach_id));
diesel::joinable!(breach_outcomes -> breaches (breach_id));
diesel::joinable!(breaches -> orders (order_id));
diesel::joinable!(conditions -> orders (order_id));
diesel::joinable!(deadlines -> orders (order_id));
diesel::joinable!(hearings -> orders (order_id));
diesel::joinable!(notifications -> orders (order_id));
diesel::joinable!(order_shares -> orders (order_id));
diesel::joinable!(order_versions -> orders (order_id));
diesel::joinable!(protected_persons -> orders (order_id));
diesel::joinable!(scheduled_alerts -> orders (order_id));
diesel::joinable!(subject_names -> orders (order_id));

diesel::allow_tables_to_appear_in_same_query!(
    agencies,
    alert_acks,
    alert_endpoints,
    alerts,
    applications,
    audit_events,
    breach_conditions,
    breach_outcomes,
    breaches,
    conditions,
    deadlines,
    hearings,
    notifications,
    order_shares,
    order_versions,
    orders,
    protected_persons,
    scheduled_alerts,
    subject_names,
);
