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
    subject_names (id) {
        id -> Text,
        order_id -> Text,
        position -> BigInt,
        name -> Text,
        name_key -> Text,
    }
}

diesel::joinable!(conditions -> orders (order_id));
diesel::joinable!(order_versions -> orders (order_id));
diesel::joinable!(protected_persons -> orders (order_id));
diesel::joinable!(subject_names -> orders (order_id));

diesel::allow_tables_to_appear_in_same_query!(
    agencies,
    conditions,
    order_versions,
    orders,
    protected_persons,
    subject_names,
);
