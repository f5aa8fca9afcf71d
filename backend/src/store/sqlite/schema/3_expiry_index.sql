-- Commands still counting down to their expiry, for the follow-up polls of those whose callback never
-- came: a decided command's expiry is cleared, so the index holds only the undecided.
CREATE INDEX commands_by_expiry ON commands (expires_at) WHERE expires_at IS NOT NULL;
