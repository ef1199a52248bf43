"""eventsourcing's own test cases (eventsourcing.tests.persistence and
.application, version pinned in tests/requirements.txt) run unchanged
against chronicle_eventstore.eventsourcing on the real extension. The only
things written here are what those cases leave abstract (which recorder to
create) and the switch that runs their optional subscription case; each test
case gets a database of its own (Chronicle's history cannot be dropped
between tests, as eventsourcing's own PostgreSQL tests drop their tables).
README "eventsourcing" lists the overrides (there are none of a test
method's body)."""

from __future__ import annotations

import os
from typing import Any

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    ProcessRecorder,
    TrackingRecorder,
)
# Imported as modules, so that unittest does not collect the base cases too.
from eventsourcing.tests import application as es_application
from eventsourcing.tests import persistence as es_persistence
from eventsourcing.utils import Environment

import support
from chronicle_eventstore.eventsourcing import (
    ChronicleAggregateRecorder,
    ChronicleApplicationRecorder,
    ChronicleProcessRecorder,
    ChronicleSnapshotRecorder,
    ChronicleTrackingRecorder,
    Factory,
)

MODULE = "chronicle_eventstore.eventsourcing"


class OnFreshDatabase:
    """A database of its own per test, and the factories made on it closed
    before it is dropped."""

    def setUp(self) -> None:
        self.database = support.fresh_database()
        self.factories: list[Factory] = []
        super().setUp()  # type: ignore[misc]

    def tearDown(self) -> None:
        try:
            super().tearDown()  # type: ignore[misc]
        finally:
            for factory in self.factories:
                factory.close()
            support.drop_database(self.database)

    def factory(self, **env: str) -> Factory:
        factory = Factory(env={"CHRONICLE_DSN": support.dsn(self.database), **env})
        self.factories.append(factory)
        return factory


class TestAggregateRecorder(OnFreshDatabase, es_persistence.AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        return self.factory().aggregate_recorder()


class TestSnapshotRecorder(OnFreshDatabase, es_persistence.AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        recorder = self.factory().aggregate_recorder("snapshots")
        assert isinstance(recorder, ChronicleSnapshotRecorder)
        return recorder


class TestApplicationRecorder(OnFreshDatabase, es_persistence.ApplicationRecorderTestCase):
    def create_recorder(self) -> ApplicationRecorder:
        return self.factory().application_recorder()

    def test_insert_subscribe(self) -> None:
        # eventsourcing leaves its subscription case optional; its own
        # PostgreSQL tests run it the same way.
        self.optional_test_insert_subscribe()


class TestNonInterleavingNotificationIDs(OnFreshDatabase, es_persistence.NonInterleavingNotificationIDsBaseCase):
    def create_recorder(self) -> ApplicationRecorder:
        return self.factory().application_recorder()


class TestTrackingRecorder(OnFreshDatabase, es_persistence.TrackingRecorderTestCase):
    def create_recorder(self) -> TrackingRecorder:
        return self.factory().tracking_recorder()


class TestProcessRecorder(OnFreshDatabase, es_persistence.ProcessRecorderTestCase):
    def create_recorder(self) -> ProcessRecorder:
        return self.factory().process_recorder()


class MyTrackingRecorder(ChronicleTrackingRecorder):
    pass


class TestInfrastructureFactory(OnFreshDatabase, es_persistence.InfrastructureFactoryTestCase[Factory]):
    def setUp(self) -> None:
        self.database = support.fresh_database()
        self.factories = []
        self.env = Environment("TestCase")
        self.env[InfrastructureFactory.PERSISTENCE_MODULE] = MODULE
        self.env[Factory.CHRONICLE_DSN] = support.dsn(self.database)
        es_persistence.InfrastructureFactoryTestCase.setUp(self)

    def expected_factory_class(self) -> type[Factory]:
        return Factory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return ChronicleAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return ChronicleApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return ChronicleTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return MyTrackingRecorder

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return ChronicleProcessRecorder


class TestBankAccountsApplication(OnFreshDatabase, es_application.ExampleApplicationTestCase):
    """eventsourcing's example application (BankAccounts, with snapshots),
    configured the way an application is: by environment variables."""

    expected_factory_topic = f"{MODULE}:Factory"

    def setUp(self) -> None:
        super().setUp()
        self.saved: dict[str, Any] = {k: os.environ.get(k) for k in ("PERSISTENCE_MODULE", "CHRONICLE_DSN")}
        os.environ["PERSISTENCE_MODULE"] = MODULE
        os.environ["CHRONICLE_DSN"] = support.dsn(self.database)

    def tearDown(self) -> None:
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        super().tearDown()

