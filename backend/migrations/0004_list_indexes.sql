-- Lists stay fast at 100,000 commands (measured by `make bench`): time windows and rare states or
-- types are found through an index instead of a scan from the newest row down.
CREATE INDEX commands_by_created ON commands (created_at);
CREATE INDEX commands_by_state ON commands (state, id);
CREATE INDEX commands_by_type ON commands (type, id);
CREATE INDEX callbacks_by_received ON callbacks (received_at);
