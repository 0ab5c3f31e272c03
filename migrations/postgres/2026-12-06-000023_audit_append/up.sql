-- One entry of the audit chain follows each entry: no two may name the same previous hash. Besides refusing a fork of
-- the chain, this lets the audit writer append a batch in one statement, chained in memory from the newest hash it
-- knows, without reading the newest hash first: if another appender (a change, another replica's writer) moved it,
-- the insert is refused here and nothing is written, and the writer reads the newest hash and chains the batch again.
-- A log whose chain already forks (which `orderwatch audit verify` reports) cannot take this index until repaired.
CREATE UNIQUE INDEX audit_events_prev_hash ON audit_events (prev_hash);
