-- A larger dataset for the dashboard: several stream types, a correlation
-- that spans streams, a reducer that fails on one event, an event that
-- breaks a schema defined after it was stored, and one stream of 100,000
-- events. Deterministic: the same data on every run (only times differ).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

-- Payments and shipments fold with reducers; customers with the default merge.
SELECT chronicle.define_reducer('Payment', '{
  "initial": {"status": "pending", "attempts": 0},
  "on": {
    "PaymentRequested":  [{"op": "set", "path": "/order_id", "from": "/data/order_id"},
                          {"op": "set", "path": "/amount", "from": "/data/amount"}],
    "PaymentFailed":     [{"op": "increment", "path": "/attempts"},
                          {"op": "set", "path": "/status", "value": "failed"},
                          {"op": "set", "path": "/last_error", "from": "/data/reason"}],
    "PaymentAuthorized": [{"op": "increment", "path": "/attempts"},
                          {"op": "set", "path": "/status", "value": "authorized"},
                          {"op": "remove", "path": "/last_error"}]
  }
}');
SELECT chronicle.define_reducer('Shipment', '{
  "initial": {"status": "new", "parcels": []},
  "on": {
    "ShipmentScheduled": [{"op": "set", "path": "/order_id", "from": "/data/order_id"},
                          {"op": "set", "path": "/status", "value": "scheduled"}],
    "ParcelPacked":      [{"op": "append", "path": "/parcels", "from": "/data/parcel"}],
    "ShipmentDelivered": [{"op": "set", "path": "/status", "value": "delivered"},
                          {"op": "set", "path": "/delivered_at", "from": "/occurred_at"}]
  }
}');
-- The 100k-event stream: a ledger account.
SELECT chronicle.define_reducer('Account', '{
  "initial": {"balance": 0, "deposits": 0, "withdrawals": 0},
  "on": {
    "Deposited": [{"op": "increment", "path": "/balance", "from": "/data/amount"},
                  {"op": "increment", "path": "/deposits"},
                  {"op": "set", "path": "/last_memo", "from": "/data/memo"}],
    "Withdrawn": [{"op": "decrement", "path": "/balance", "from": "/data/amount"},
                  {"op": "increment", "path": "/withdrawals"},
                  {"op": "set", "path": "/last_memo", "from": "/data/memo"}]
  }
}');

-- order-002 → payment-002 → shipment-002: one correlation across three
-- streams, each event caused by the one before.
DO $$
DECLARE
    corr text := 'c0ffee00-0000-4000-8000-000000000002';
    e1 uuid := 'a0000000-0000-4000-8000-000000000001';
    e2 uuid := 'a0000000-0000-4000-8000-000000000002';
    e3 uuid := 'a0000000-0000-4000-8000-000000000003';
    e4 uuid := 'a0000000-0000-4000-8000-000000000004';
    e5 uuid := 'a0000000-0000-4000-8000-000000000005';
BEGIN
    PERFORM chronicle.append_event('order-002', 'OrderCreated',
        '{"customer_id": "customer-7", "status": "created"}', stream_type => 'Order',
        event_id => e1, correlation_id => corr, actor => 'web-checkout');
    PERFORM chronicle.append_event('order-002', 'ItemAdded',
        '{"item_id": "teapot", "quantity": 1, "price": 24.90}',
        correlation_id => corr, causation_id => e1::text, actor => 'web-checkout');
    PERFORM chronicle.append_event('payment-002', 'PaymentRequested',
        '{"order_id": "order-002", "amount": 24.90}', stream_type => 'Payment',
        event_id => e2, correlation_id => corr, causation_id => e1::text, actor => 'payments');
    PERFORM chronicle.append_event('payment-002', 'PaymentFailed',
        '{"reason": "card declined"}', event_id => e3, correlation_id => corr,
        causation_id => e2::text, actor => 'payments');
    PERFORM chronicle.append_event('payment-002', 'PaymentAuthorized',
        '{"authorization": "AUTH-5521"}', event_id => e4, correlation_id => corr,
        causation_id => e3::text, actor => 'payments');
    PERFORM chronicle.append_event('order-002', 'OrderPaid',
        '{"payment_method": "credit_card", "status": "paid"}',
        correlation_id => corr, causation_id => e4::text, actor => 'payments');
    PERFORM chronicle.append_event('shipment-002', 'ShipmentScheduled',
        '{"order_id": "order-002"}', stream_type => 'Shipment', event_id => e5,
        correlation_id => corr, causation_id => e4::text, actor => 'warehouse');
    PERFORM chronicle.append_event('shipment-002', 'ParcelPacked',
        '{"parcel": {"id": "P-1", "weight_kg": 1.20}}', correlation_id => corr,
        causation_id => e5::text, actor => 'warehouse');
    PERFORM chronicle.append_event('shipment-002', 'ShipmentDelivered', '{}',
        correlation_id => corr, causation_id => e5::text, actor => 'courier');
END
$$;

-- 200 more orders and customers, of a few shapes.
SELECT count(chronicle.append_events(
           'order-' || lpad(i::text, 3, '0'),
           jsonb_build_array(
               jsonb_build_object('event_type', 'OrderCreated',
                   'data', jsonb_build_object('customer_id', 'customer-' || (i % 40), 'status', 'created')),
               jsonb_build_object('event_type', 'ItemAdded',
                   'data', jsonb_build_object('item_id', 'sku-' || (i % 13), 'quantity', 1 + i % 4,
                                              'price', ((i % 50) + 0.99)::numeric)),
               jsonb_build_object('event_type', CASE WHEN i % 5 = 0 THEN 'OrderCancelled' ELSE 'OrderPaid' END,
                   'data', CASE WHEN i % 5 = 0 THEN '{"reason": "changed my mind"}'::jsonb
                                ELSE '{"status": "paid", "payment_method": "invoice"}'::jsonb END)),
           0, 'Order'))
  FROM generate_series(100, 299) i;
SELECT count(chronicle.append_events(
           'customer-' || i,
           jsonb_build_array(
               jsonb_build_object('event_type', 'CustomerRegistered',
                   'data', jsonb_build_object('name', 'Customer ' || i, 'tier', 'basic')),
               jsonb_build_object('event_type', 'CustomerUpgraded', 'data', '{"tier": "gold"}'::jsonb)),
           0, 'Customer'))
  FROM generate_series(0, 39) i;

-- A reducer that fails on one stored event (increments by a string): the
-- dashboard marks that step and replays on; state_at stops there (22000).
SELECT chronicle.define_reducer('Counter', '{
  "on": {"Counted": [{"op": "increment", "path": "/total", "from": "/data/by"}]}
}');
SELECT chronicle.append_events('counter-1', '[
  {"event_type": "Counted", "data": {"by": 1}},
  {"event_type": "Counted", "data": {"by": 2}},
  {"event_type": "Counted", "data": {"by": "ten"}},
  {"event_type": "Counted", "data": {"by": 4}}]', 0, 'Counter');

-- An event stored before its type got a schema it does not match: the
-- dashboard marks it as a validation failure.
SELECT chronicle.append_events('ticket-1', '[
  {"event_type": "TicketOpened", "data": {"title": "Printer on fire"}},
  {"event_type": "TicketCommented", "data": {"text": 42}},
  {"event_type": "TicketCommented", "data": {"text": "Put it out first."}}]', 0, 'Ticket');
SELECT chronicle.define_event_type('TicketCommented', 1, '{
  "type": "object", "required": ["text"],
  "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 2000}}
}');

-- account-big: 100,000 events in batches of 1,000.
DO $$
BEGIN
    FOR b IN 0..99 LOOP
        PERFORM chronicle.append_events('account-big', (
            SELECT jsonb_agg(jsonb_build_object(
                       'event_type', CASE WHEN i % 3 = 0 THEN 'Withdrawn' ELSE 'Deposited' END,
                       'data', jsonb_build_object('amount', ((i % 97) + 0.25)::numeric,
                                                  'memo', 'entry ' || i)) ORDER BY i)
              FROM generate_series(b * 1000 + 1, b * 1000 + 1000) i),
            b * 1000, 'Account');
    END LOOP;
END
$$;

-- The dashboard's login role: it only reads (chronicle_reader). The demo and
-- test clusters trust local connections; elsewhere, give it a password.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'chronicle_dashboard') THEN
        CREATE ROLE chronicle_dashboard LOGIN;
    END IF;
END
$$;
GRANT chronicle_reader TO chronicle_dashboard;
-- Postgres shows other roles' sessions in full only to pg_read_all_stats: with
-- it the operations view names the session holding the feed back, and the sealer.
GRANT pg_read_all_stats TO chronicle_dashboard;
RESET client_min_messages;
SELECT stream_type, streams, events FROM chronicle.list_stream_types();
