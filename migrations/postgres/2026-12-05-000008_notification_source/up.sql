-- Who told the police of a change: the subject (a notification under SPA 2019 s9 / DA Act 2021 s41), or the police
-- learnt of it elsewhere (the subject's 3 days to notify run all the same).
ALTER TABLE notifications ADD COLUMN source TEXT NOT NULL DEFAULT 'SUBJECT';
