-- Personal data: define_personal_data seals the personal members of an
-- event type with the data subject's key at every append (append_event,
-- append_events, import_stream); every read opens them; forget_subject
-- destroys the key, after which they read as {"erased": true} everywhere and
-- nothing else changes. The log itself never holds the plaintext.

DROP EXTENSION chronicle;
CREATE EXTENSION chronicle;

SELECT chronicle.define_personal_data('CustomerRegistered', '/customer_id',
                                      '{/email,/address,/metadata/ip}');
SELECT chronicle.define_personal_data('OrderPlaced', '/actor', '{/delivery/phone}');
SELECT event_type, subject, paths FROM chronicle.personal_data ORDER BY event_type;

-- One event, a batch, an import; numbers and strings come back exactly.
SELECT chronicle.append_event('customer-1', 'CustomerRegistered',
  '{"customer_id": "c-1", "email": "ada@example.org", "address": {"city": "London", "owed": 12.50, "zip": "N1 9GU"}, "tier": 2}',
  metadata => '{"ip": "192.0.2.1", "agent": "web"}', correlation_id => 'signup-1',
  event_id => 'a0000000-0000-4000-8000-000000000001');
SELECT chronicle.append_event('customer-1', 'CustomerRenamed', '{"name": "Ada L."}');
SELECT chronicle.append_events('customer-2', '[
  {"event_type": "CustomerRegistered", "data": {"customer_id": "c-2", "email": "bob@example.org"}},
  {"event_type": "OrderPlaced", "actor": "c-2", "data": {"delivery": {"phone": "+44 20 7946 0000", "slot": 3}}},
  {"event_type": "Noted", "data": {"text": "not personal"}}]');
SELECT chronicle.import_stream($jsonl$
{"event_id": "d0000000-0000-4000-8000-000000000007", "event_type": "CustomerRegistered", "event_version": 1, "aggregate_id": "customer-3", "aggregate_type": "customer", "execution_id": "exec-3", "user_id": null, "occurred_at": "2024-05-01T12:30:45.123456", "data": {"customer_id": "c-1", "email": "ada@work.example.org"}}
$jsonl$, format => 'domain-events');

-- The log holds no plaintext of a personal member: only sealed values.
SELECT stream_id, version, personal_key IS NOT NULL AS sealed, personal_paths,
       data::text LIKE '%example.org%' OR metadata::text LIKE '%192.0.2.1%'
         OR data::text LIKE '%London%' OR data::text LIKE '%7946%' AS plaintext,
       jsonb_typeof(data #> '{email,$sealed}') AS email_stored_as
  FROM chronicle.event_log ORDER BY stream_id, version;
-- One key per subject (c-1 in two streams: one key).
SELECT tenant, subject FROM chronicle_internal.subject_keys ORDER BY subject;

-- Every read opens them.
SELECT stream_id, version, data, metadata FROM chronicle.events ORDER BY stream_id, version;
SELECT version, data -> 'address' AS address, data -> 'address' -> 'owed' AS owed, metadata
  FROM chronicle.read_stream('customer-1');
SELECT stream_id, data -> 'email' AS email FROM chronicle.read_correlation('signup-1');
SELECT FROM chronicle.seal();
SELECT stream_id, version, data FROM chronicle.read_all(0, 10) ORDER BY global_position;
SELECT name FROM chronicle.create_subscription('mailer');
SELECT stream_id, version, data -> 'email' AS email FROM chronicle.poll('mailer', 10) ORDER BY global_position;
SELECT chronicle.state_at('customer-1');
SELECT version, state -> 'email' AS email FROM chronicle.state_history('customer-1');
SELECT chronicle.diff(chronicle.state_at('customer-2', 1), chronicle.state_at('customer-2'));
SELECT line::jsonb -> 'data' AS data, line::jsonb -> 'metadata' AS metadata
  FROM chronicle.export_stream('customer-1') AS line OFFSET 1;

-- A retry with the same event_id is recognised (its data is compared opened).
SELECT chronicle.append_event('customer-1', 'CustomerRegistered',
  '{"customer_id": "c-1", "email": "ada@example.org", "address": {"city": "London", "owed": 12.50, "zip": "N1 9GU"}, "tier": 2}',
  metadata => '{"ip": "192.0.2.1", "agent": "web"}', expected_version => 0,
  event_id => 'a0000000-0000-4000-8000-000000000001');

-- An upcaster that renames a personal member carries the erasure along.
SELECT chronicle.define_upcaster('CustomerRegistered', 1, '[{"op": "rename", "path": "/email", "to": "mail"}]');
SELECT version, schema_version, data -> 'mail' AS mail FROM chronicle.read_stream('customer-1', upcast => true) WHERE version = 1;

-- forget_subject: c-1's members read as erased in every read path, from the
-- commit on; c-2 and every other member stay exactly as stored.
CREATE TEMP TABLE before_forget AS
  SELECT stream_id, version, event_id, global_position FROM chronicle.events;
SELECT chronicle.forget_subject('c-1', reason => 'erasure request #17');
SELECT subject FROM chronicle_internal.subject_keys ORDER BY subject;
SELECT stream_id, version, data, metadata FROM chronicle.events ORDER BY stream_id, version;
SELECT stream_id, version, data FROM chronicle.read_all(0, 10) ORDER BY global_position;
SELECT stream_id, data -> 'email' AS email FROM chronicle.read_correlation('signup-1');
SELECT chronicle.state_at('customer-1');
SELECT chronicle.state_at('customer-1', 1);
SELECT version, state -> 'email' AS email FROM chronicle.state_history('customer-1');
SELECT line::jsonb -> 'data' AS data, line::jsonb -> 'metadata' AS metadata
  FROM chronicle.export_stream('customer-1') AS line OFFSET 1;
SELECT version, data -> 'mail' AS mail FROM chronicle.read_stream('customer-1', upcast => true) WHERE version = 1;
SELECT status FROM chronicle.reset_subscription('mailer');
SELECT stream_id, version, data -> 'email' AS email FROM chronicle.poll('mailer', 10) ORDER BY global_position;
-- Versions, event ids and positions did not change.
SELECT count(*) AS events, count(*) FILTER (WHERE (stream_id, version, event_id, global_position) IN
         (SELECT * FROM before_forget)) AS unchanged
  FROM chronicle.events;
SELECT subject, forgotten_by = current_user AS by_me, reason, events FROM chronicle.forgotten;

-- The subject named again gets a new key: the new event reads, the old stay erased.
SELECT chronicle.append_event('customer-1', 'CustomerRegistered', '{"customer_id": "c-1", "email": "new-owner@example.org"}');
SELECT version, data -> 'email' AS email FROM chronicle.read_stream('customer-1') ORDER BY version;
-- Forgetting it again erases only what the new key sealed; a subject
-- forgotten and not named since is 0; one never named is 42704.
SELECT chronicle.forget_subject('c-1');
SELECT chronicle.forget_subject('c-1');
SELECT chronicle.forget_subject('c-404');
SELECT chronicle.forget_subject(NULL);

-- Bad definitions and events are clean errors that store nothing.
SELECT chronicle.define_personal_data(NULL, '/id', '{/email}');
SELECT chronicle.define_personal_data('T', '/id', '{}');
SELECT chronicle.define_personal_data('T', '/id', '{/email,/email/x}');
SELECT chronicle.define_personal_data('T', '/version', '{/email}');
SELECT chronicle.define_personal_data('T', '/id', '{/actor}');
SELECT chronicle.define_personal_data('T', '/person/id', '{/person}');
SELECT chronicle.define_personal_data('T', 'id', '{/email}');
SELECT chronicle.append_event('customer-9', 'CustomerRegistered', '{"email": "x@example.org"}');
SELECT chronicle.append_event('customer-9', 'CustomerRegistered', '{"customer_id": "", "email": "x@example.org"}');
SELECT chronicle.append_event('customer-9', 'CustomerRegistered', '{"customer_id": 9, "email": "x@example.org"}');
SELECT chronicle.append_events('customer-9', '[{"event_type": "Noted", "data": {}},
  {"event_type": "OrderPlaced", "data": {"delivery": {"phone": "1"}}}]');
SELECT count(*) AS stored FROM chronicle.event_log WHERE stream_id = 'customer-9';

-- Redefining applies to later appends; earlier events keep how they were stored.
SELECT chronicle.define_personal_data('CustomerRegistered', '/customer_id', '{/email}');
SELECT chronicle.append_event('customer-4', 'CustomerRegistered', '{"customer_id": "c-4", "email": "eve@example.org", "address": "Paris"}',
                              event_id => 'a0000000-0000-4000-8000-000000000004');
SELECT personal_paths, data -> 'address' AS address_stored FROM chronicle.event_log WHERE stream_id = 'customer-4';

-- A stored sealed member changed outside Chronicle does not open: XX001,
-- never another value. (The append-only guard is bypassed here as only the
-- owner can, in a transaction rolled back after the read.)
BEGIN;
ALTER TABLE chronicle.event_log DISABLE TRIGGER event_log_append_only;
UPDATE chronicle.event_log SET data = jsonb_set(data, '{email}', (SELECT data -> 'email' FROM chronicle.event_log WHERE stream_id = 'customer-2' AND version = 1))
 WHERE stream_id = 'customer-4';
SELECT data FROM chronicle.read_stream('customer-4');
ROLLBACK;
SELECT data FROM chronicle.read_stream('customer-4');

-- A truncated stream whose base was folded from personal members: the base
-- is stored with every personal member erased and sealed whole, never in
-- plaintext; state_at answers as before the truncation until the subject is
-- forgotten, then from the erased base.
SELECT chronicle.define_personal_data('CustomerRegistered', '/customer_id', '{/email,/address}');
SELECT chronicle.append_event('customer-5', 'CustomerRegistered', '{"customer_id": "c-5", "email": "dan@example.org", "address": "Rome"}');
SELECT chronicle.append_event('customer-5', 'CustomerRenamed', '{"name": "Dan"}');
SELECT chronicle.append_event('customer-5', 'CustomerRenamed', '{"name": "Daniel"}');
SELECT chronicle.state_at('customer-5') AS before_truncation;
SELECT FROM chronicle.seal();
SELECT chronicle.truncate_stream('customer-5', 3, reason => 'retention');
SELECT state, personal_state LIKE '%example.org%' OR personal_state LIKE '%Rome%' AS plaintext,
       cardinality(personal_keys) AS keys
  FROM chronicle.stream_bases WHERE stream_id = 'customer-5';
SELECT chronicle.state_at('customer-5') AS after_truncation, chronicle.state_at('customer-5', 2) AS at_base;
SELECT chronicle.forget_subject('c-5');
SELECT chronicle.state_at('customer-5') AS after_forget;
-- Truncating again folds from the erased base: no personal data is left to seal.
SELECT chronicle.truncate_stream('customer-5', 4);
SELECT state, personal_state, personal_keys FROM chronicle.stream_bases WHERE stream_id = 'customer-5';

-- A key made by a transaction or savepoint that is rolled back is gone: the
-- next append of that subject (in the same session, which keeps the keys its
-- appends used) makes a new one, and its event reads.
BEGIN;
SAVEPOINT before_key;
SELECT chronicle.append_event('customer-6', 'CustomerRegistered', '{"customer_id": "c-6", "email": "first@example.org"}');
ROLLBACK TO SAVEPOINT before_key;
SELECT chronicle.append_event('customer-6', 'CustomerRegistered', '{"customer_id": "c-6", "email": "second@example.org"}');
COMMIT;
BEGIN;
SELECT chronicle.append_event('customer-7', 'CustomerRegistered', '{"customer_id": "c-7", "email": "first@example.org"}');
ROLLBACK;
SELECT chronicle.append_event('customer-7', 'CustomerRegistered', '{"customer_id": "c-7", "email": "second@example.org"}');
SELECT stream_id, version, data ->> 'email' AS email FROM chronicle.events
 WHERE stream_id IN ('customer-6', 'customer-7') ORDER BY stream_id;
SELECT subject, count(*) AS keys FROM chronicle_internal.subject_keys
 WHERE subject IN ('c-6', 'c-7') GROUP BY subject ORDER BY subject;

-- An event of a type with personal data that has none of the personal
-- members is stored as given (no key, nothing sealed); a subject id longer
-- than an id may be is 22001.
SELECT chronicle.append_event('customer-8', 'CustomerRegistered', '{"customer_id": "c-8", "tier": 1}');
SELECT personal_key IS NULL AS no_key, personal_paths, data FROM chronicle.event_log WHERE stream_id = 'customer-8';
SELECT chronicle.append_event('customer-8', 'CustomerRegistered',
  jsonb_build_object('customer_id', repeat('x', 256), 'email', 'x@example.org'));
-- An export that carries a base state (customer-5 was truncated) is not
-- imported where personal data is kept sealed: the base may hold some.
SELECT chronicle.import_stream(string_agg(line, E'\n'), stream_id => 'customer-5-copy')
  FROM chronicle.export_stream('customer-5') AS line;
