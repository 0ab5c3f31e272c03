-- Nothing on SQLite: PostgreSQL's migration 000024 changes how its audit writer's function reads the newest hash.
SELECT 1;
