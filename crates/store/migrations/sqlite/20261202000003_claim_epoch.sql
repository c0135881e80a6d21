-- Fencing (design invariant 2): a claim records the lease epoch of the master that made it, and
-- every later write for the request or its build must present the same master and epoch.
ALTER TABLE buildrequest_claims ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
