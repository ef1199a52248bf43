-- Data written before an upgrade (with the 0.1.0 API) or before a dump: a
-- reducer, an event schema, an upcaster, streams of two types with a
-- correlation, a batch, and a subscription with an acknowledged checkpoint.
-- Its names start with archive / Archive, apart from the other suites' (and sort
-- before theirs).
SELECT chronicle.define_reducer('ArchiveCart', '{
  "initial": {"items": {}, "total": 0},
  "on": {"ArchiveItemAdded": [{"op": "set", "path": "/items/{sku}", "from": "/data/qty"},
                       {"op": "increment", "path": "/total", "from": "/data/qty"}],
         "ArchiveCartClosed": [{"op": "set", "path": "/closed", "value": true}]}}');
SELECT chronicle.define_event_type('ArchiveItemAdded', '{"type": "object", "required": ["item", "qty"]}', 1);
SELECT chronicle.define_event_type('ArchiveItemAdded', '{"type": "object", "required": ["sku", "qty"],
  "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}', 2);
SELECT chronicle.define_upcaster('ArchiveItemAdded', 1, '[{"op": "rename", "path": "/item", "to": "sku"}]');
SELECT chronicle.append_event('archive-cart-1', 'ArchiveItemAdded', '{"item": "apple", "qty": 2}',
    stream_type => 'ArchiveCart', expected_version => 0,
    event_id => 'e0000000-0000-4000-8000-000000000001',
    correlation_id => 'e0000000-0000-4000-8000-0000000000cc');
SELECT chronicle.append_event('archive-cart-1', 'ArchiveItemAdded', '{"sku": "pear", "qty": 3}',
    expected_version => 1, schema_version => 2);
SELECT chronicle.append_events('archive-cart-2', '[
  {"event_type": "ArchiveItemAdded", "data": {"sku": "kiwi", "qty": 1}, "schema_version": 2},
  {"event_type": "ArchiveItemAdded", "data": {"sku": "kiwi", "qty": 4}, "schema_version": 2},
  {"event_type": "ArchiveCartClosed", "data": {}}]', 0, 'ArchiveCart');
SELECT chronicle.append_event('archive-pay-1', 'ArchivePaymentTaken', '{"amount": 12.50}',
    stream_type => 'ArchivePayment', correlation_id => 'e0000000-0000-4000-8000-0000000000cc');
SELECT chronicle.create_subscription('archive-projector', stream_type => 'ArchiveCart');
SELECT chronicle.seal();
SELECT chronicle.ack('archive-projector', (SELECT max(global_position) FROM chronicle.poll('archive-projector', 2)));
SELECT chronicle.state_at('archive-cart-1');
