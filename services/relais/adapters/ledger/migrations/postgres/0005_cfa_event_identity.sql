-- An event is identified by (CFA, event id): CloudEvents ids are unique per source only, so the
-- same ce_id from two CFAs is two events (one CFA reusing another's id must not make the other's
-- event a duplicate). The inbox key and the commands' uniqueness become (cfa, event_id). A record
-- whose CFA is not established (unknown or forbidden source, bad signature, unreadable envelope) is
-- keyed by its Kafka position ('kafka:<topic>:<partition>:<offset>') with cfa ''.
ALTER TABLE inbox ADD COLUMN cfa text NOT NULL DEFAULT '';

-- Existing rows keep answering redeliveries: an accepted event's CFA is its command's; a rejected
-- one keyed by its ce_id had an established CFA, the ce_cfa of its status in the outbox (which is
-- never purged). Rows keyed by a Kafka position keep ''. Stored status ids are not touched.
UPDATE inbox SET cfa = c.cfa FROM commands AS c WHERE c.event_id = inbox.event_id;
UPDATE inbox SET cfa = o.headers ->> 'ce_cfa'
FROM outbox AS o
WHERE inbox.cfa = '' AND inbox.outcome = 'rejected' AND inbox.event_id NOT LIKE 'kafka:%'
  AND o.headers ->> 'ce_correlationid' = inbox.event_id AND o.headers ? 'ce_cfa';

ALTER TABLE inbox ALTER COLUMN cfa DROP DEFAULT;
ALTER TABLE inbox DROP CONSTRAINT inbox_pkey, ADD CONSTRAINT inbox_pkey PRIMARY KEY (cfa, event_id);

ALTER TABLE commands DROP CONSTRAINT commands_event_id_key,
    ADD CONSTRAINT commands_cfa_event_id_key UNIQUE (cfa, event_id);
