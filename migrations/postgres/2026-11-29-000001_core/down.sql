DROP TABLE order_versions;
DROP TABLE conditions;
DROP TABLE protected_persons;
DROP TABLE subject_names;
DROP TABLE orders;
DROP TABLE agencies;
