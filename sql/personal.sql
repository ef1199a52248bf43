-- Personal data: the view of the definitions. The functions
-- (define_personal_data, forget_subject) and the sealing and opening are
-- Rust (pg_extension/src/personal.rs); the tables are in schema.sql.

CREATE VIEW chronicle.personal_data AS
SELECT d.event_type, d.subject, d.paths, d.defined_at
  FROM chronicle_internal.personal_data_definitions d;
COMMENT ON VIEW chronicle.personal_data IS
    'The personal data of each event type (chronicle.define_personal_data): the JSON pointer of the data subject''s id and of the members stored sealed with the subject''s key, which chronicle.forget_subject destroys.';
COMMENT ON COLUMN chronicle.personal_data.subject IS
    'Where an event names its data subject: a member of data (/customer_id) or of the envelope (/actor). Stored as written: use an opaque id, not an e-mail address.';
COMMENT ON COLUMN chronicle.personal_data.paths IS
    'The personal members, sealed at append: members of data (/email) or metadata (/metadata/ip).';
COMMENT ON COLUMN chronicle.personal_data.defined_at IS
    'When the definition was made; it applies to the events appended since (earlier events keep how they were stored).';
