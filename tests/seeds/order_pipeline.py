"""Seed documents 000 and 001: the order pipeline's SQLAlchemy `events`
table with an async EventStore, and its DomainEvent hierarchy.

The EventStore below keeps the document's methods and their meaning, each
ported onto Chronicle's SQL API:

    append(event, expected_version)   -> append_event(..., version => expected_version)
                                         (the document's expected_version is the NEXT
                                         sequence number: Chronicle's version)
    get_events(id, from_sequence, to_sequence)
                                      -> read_stream(id, from_version, to_version)
    get_events_by_execution(exec_id)  -> read_correlation(exec_id)
    get_latest_sequence(id)           -> stream_version(id)
    aggregate_exists(id)              -> stream_version(id) > 0
"""

import asyncio
from datetime import datetime, timezone
from decimal import Decimal

import psycopg

import domain
from common import check, connect, connect_async, jsonb


class ConcurrencyError(Exception):
    pass


class EventStore:
    """The document's EventStore (core/infrastructure/database/event_store.py)."""

    def __init__(self, conn):
        self.conn = conn

    async def append(self, event, expected_version=None):
        # A stream's type is fixed when it is created: the first event's
        # aggregate_type. The document stores an aggregate_type per event
        # (FinancialsExtractedEvent's is "Financials"): it is kept in metadata.
        metadata = {**self._build_metadata(event), "aggregate_type": event.aggregate_type}
        try:
            cur = await self.conn.execute(
                """SELECT chronicle.append_event(%(id)s, %(type)s, %(data)s, %(metadata)s,
                       event_id => %(event_id)s,
                       stream_type => CASE WHEN chronicle.stream_version(%(id)s) = 0 THEN %(agg_type)s END,
                       correlation_id => %(exec)s, actor => %(user)s,
                       occurred_at => %(at)s, schema_version => %(schema)s, version => %(version)s)""",
                {"id": event.aggregate_id, "type": event.event_type, "data": jsonb(event._get_event_data()),
                 "metadata": jsonb(metadata), "event_id": event.event_id, "agg_type": event.aggregate_type,
                 "exec": event.execution_id, "user": event.user_id,
                 "at": event.occurred_at.replace(tzinfo=timezone.utc), "schema": event.event_version,
                 "version": expected_version})
        except psycopg.errors.SerializationFailure as e:
            raise ConcurrencyError(f"Concurrency conflict: {e.diag.message_detail}") from e
        return (await cur.fetchone())[0]   # the sequence number

    async def get_events(self, aggregate_id, from_sequence=0, to_sequence=None):
        cur = await self.conn.execute(
            "SELECT * FROM chronicle.read_stream(%s, from_version => %s, to_version => %s)",
            [aggregate_id, from_sequence, to_sequence])
        return [self._to_domain_event(row) for row in await cur.fetchall()]

    async def get_events_by_execution(self, execution_id):
        cur = await self.conn.execute("SELECT * FROM chronicle.read_correlation(%s)", [execution_id])
        return [self._to_domain_event(row) for row in await cur.fetchall()]

    async def get_latest_sequence(self, aggregate_id):
        cur = await self.conn.execute("SELECT chronicle.stream_version(%s)", [aggregate_id])
        return (await cur.fetchone())[0]

    async def aggregate_exists(self, aggregate_id):
        return await self.get_latest_sequence(aggregate_id) > 0

    def _to_domain_event(self, row):
        (_position, event_id, stream_id, _type, _version, event_type, _schema, data, _metadata,
         correlation_id, _causation, actor, occurred_at, _recorded) = row
        event_class = {cls.__name__: cls for cls in domain.ORDER_EVENTS}.get(event_type)
        if not event_class:
            return None
        event = event_class(aggregate_id=stream_id, execution_id=correlation_id, user_id=actor, **data)
        object.__setattr__(event, 'event_id', str(event_id))
        object.__setattr__(event, 'occurred_at', occurred_at)
        return event

    def _build_metadata(self, event):
        return {'event_class': event.__class__.__name__, 'event_module': event.__class__.__module__}


async def session_2():
    """The document's scripts/test_day1_session2.py, and its expected output."""
    conn = await connect_async()
    store = EventStore(conn)
    purchase = datetime(2024, 5, 1, 14, 30, 45).isoformat()
    events = [
        domain.OrderCreatedEvent(order_id="ES-TEST-001", marketplace="amazon", buyer_email="test@example.com",
                                 purchase_date=purchase, execution_id="exec-test-001"),
        domain.OrderSyncedEvent(order_id="ES-TEST-001", invoice_id=12345, execution_id="exec-test-001"),
    ]
    sequences = [await store.append(e) for e in events]
    check("000: the two events are appended as sequences 1 and 2", sequences == [1, 2], str(sequences))

    retrieved = await store.get_events("ES-TEST-001")
    check("000: get_events retrieves 2 events", len(retrieved) == 2, str(retrieved))
    check("000: in order, OrderCreatedEvent then OrderSyncedEvent",
          [e.event_type for e in retrieved] == ["OrderCreatedEvent", "OrderSyncedEvent"])
    check("000: the events come back as the classes they were, with their ids and data",
          [(e.event_id, e._get_event_data()) for e in retrieved]
          == [(e.event_id, e._get_event_data()) for e in events])
    check("000: occurred_at round-trips (UTC)",
          [e.occurred_at.astimezone(timezone.utc).replace(tzinfo=None) for e in retrieved]
          == [e.occurred_at for e in events])
    exec_events = await store.get_events_by_execution("exec-test-001")
    check("000: found 2 events for execution exec-test-001", len(exec_events) == 2)
    check("000: get_latest_sequence is 2, aggregate_exists is true",
          await store.get_latest_sequence("ES-TEST-001") == 2 and await store.aggregate_exists("ES-TEST-001"))
    check("000: an aggregate without events does not exist (sequence 0)",
          await store.get_latest_sequence("ES-TEST-404") == 0 and not await store.aggregate_exists("ES-TEST-404"))
    check("000: from_sequence=0 reads from the start, from_sequence=2 from the second, to_sequence=1 to the first",
          [len(await store.get_events("ES-TEST-001", f, t)) for f, t in [(0, None), (2, None), (0, 1)]] == [2, 1, 1])

    # expected_version is the next sequence number: 3 appends, 2 conflicts.
    try:
        await store.append(domain.NotificationSentEvent(order_id="ES-TEST-001", channel="telegram"),
                           expected_version=2)
        check("000: append with a stale expected_version raises ConcurrencyError", False, "no error")
    except ConcurrencyError as e:
        check("000: append with a stale expected_version raises ConcurrencyError",
              "Expected version 1, actual version 2" in str(e), str(e))
    seq = await store.append(domain.NotificationSentEvent(order_id="ES-TEST-001", channel="telegram",
                                                          execution_id="exec-test-001"), expected_version=3)
    check("000: append with expected_version = the next sequence number (3) succeeds", seq == 3, str(seq))

    # Without its aggregate_type the id says nothing of a type: refused.
    try:
        await conn.execute("SELECT chronicle.append_event('ES-TEST-002', 'OrderCreatedEvent', '{}')")
        check("000: a new stream ES-TEST-002 without stream_type is refused (22023)", False, "no error")
    except psycopg.Error as e:
        check("000: a new stream ES-TEST-002 without stream_type is refused (22023)",
              e.sqlstate == "22023" and "stream_type" in str(e), f"{e.sqlstate} {e}")
    await conn.close()


async def pipeline():
    """The whole 3.1 order pipeline: the eight events, exact decimals, traced by execution id."""
    conn = await connect_async()
    store = EventStore(conn)
    order, exec_id = "408-8327146-7101142", "exec-408-8327146"
    flow = [
        domain.OrderCreatedEvent(order_id=order, marketplace="amazon", buyer_email="b@example.com",
                                 purchase_date="2024-05-01T10:00:00", execution_id=exec_id),
        domain.FinancialsExtractedEvent(order_id=order, principal_amount=Decimal("49.90"), principal_currency="EUR",
                                        net_proceeds=Decimal("42.17"), financial_lines_count=3,
                                        execution_id=exec_id),
        domain.OrderValidatedEvent(order_id=order, validation_message="49.90 - 7.73 = 42.17", execution_id=exec_id),
        domain.OrderSavedEvent(order_id=order, database_id="42", execution_id=exec_id),
        domain.InvoiceCreatedEvent(order_id=order, invoice_id=9001, partner_id=77, invoice_lines_count=3,
                                   execution_id=exec_id),
        domain.OrderFailedEvent(order_id=order, error_type="OdooTimeout", error_message="sync timed out",
                                step_failed="sync", execution_id=exec_id),
        domain.OrderSyncedEvent(order_id=order, invoice_id=9001, principal_amount=Decimal("49.90"),
                                net_proceeds=Decimal("42.17"), execution_id=exec_id),
        domain.NotificationSentEvent(order_id=order, notification_type="success", channel="telegram",
                                     execution_id=exec_id, user_id="agent-10.4"),
    ]
    for i, e in enumerate(flow, 1):
        await store.append(e, expected_version=i)
    trace = await store.get_events_by_execution(exec_id)
    check("000/001: the workflow trace by execution id has the eight events in order",
          [e.event_type for e in trace] == [c.__name__ for c in domain.ORDER_EVENTS[:5]]
          + ["OrderFailedEvent", "OrderSyncedEvent", "NotificationSentEvent"],
          str([e.event_type for e in trace]))
    fin = trace[1]
    check("001: Decimal amounts come back exact (49.90, 42.17)",
          (fin.principal_amount, fin.net_proceeds) == (Decimal("49.90"), Decimal("42.17"))
          and str(fin.principal_amount) == "49.90", f"{fin.principal_amount!r} {fin.net_proceeds!r}")
    cur = await conn.execute(
        "SELECT stream_type, data->>'principal_amount', metadata->>'aggregate_type', metadata->>'event_class' "
        "FROM chronicle.read_stream(%s, 2, 2)", [order])
    row = await cur.fetchone()
    check("000: the stream's type is the first event's (Order); each event's own aggregate_type is kept in metadata",
          row == ("Order", "49.90", "Financials", "FinancialsExtractedEvent"), str(row))
    cur = await conn.execute(
        "SELECT count(*) FROM chronicle.events WHERE correlation_id = %s AND actor = 'agent-10.4'", [exec_id])
    check("000: user_id is the actor", (await cur.fetchone())[0] == 1)
    await conn.close()


def domain_events():
    """The document's scripts/test_day1_events.py, and the round trip through Chronicle."""
    event = domain.OrderCreatedEvent(order_id="TEST-001", marketplace="amazon", buyer_email="test@example.com",
                                     purchase_date=datetime.utcnow().isoformat(), execution_id="exec-123")
    check("001: the event is an OrderCreatedEvent of aggregate TEST-001 (type Order), execution exec-123",
          (event.event_type, event.aggregate_id, event.aggregate_type, event.execution_id)
          == ("OrderCreatedEvent", "TEST-001", "Order", "exec-123"))
    as_dict = event.to_dict()
    check("001: to_dict has the document's keys",
          list(as_dict) == ['event_id', 'event_type', 'event_version', 'aggregate_id', 'aggregate_type',
                            'execution_id', 'user_id', 'occurred_at', 'data'])
    check("001: from_dict gives back order TEST-001", domain.OrderCreatedEvent.from_dict(as_dict).order_id == "TEST-001")
    with connect() as conn:
        conn.execute(
            "SELECT chronicle.append_event(%s, %s, %s, event_id => %s, stream_type => %s, correlation_id => %s, "
            "schema_version => %s)",
            [event.aggregate_id, event.event_type, jsonb(as_dict["data"]), event.event_id, event.aggregate_type,
             event.execution_id, event.event_version])
        row = conn.execute(
            "SELECT event_id::text, event_type, schema_version, stream_id, stream_type, correlation_id, data "
            "FROM chronicle.read_stream('TEST-001')").fetchone()
    stored = {"event_id": row[0], "event_type": row[1], "event_version": row[2], "aggregate_id": row[3],
              "aggregate_type": row[4], "execution_id": row[5], "data": row[6]}
    check("001: stored in Chronicle and read back, to_dict's members are the same",
          all(stored[k] == as_dict[k] for k in stored), f"{stored}\n{as_dict}")
    check("001: from_dict of the stored event gives back order TEST-001",
          domain.OrderCreatedEvent.from_dict({**as_dict, **stored}).order_id == "TEST-001")


def run():
    asyncio.run(session_2())
    asyncio.run(pipeline())
    domain_events()
