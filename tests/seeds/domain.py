"""The DomainEvent hierarchy of the order pipeline (seed document 001), as
the document writes it: `core/domain/events/base.py` and `order_events.py`.
Kept as written, quirks included (the aggregate type is the first word of
the class name, so FinancialsExtractedEvent's is "Financials")."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Dict, Optional


@dataclass
class DomainEvent:
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    event_type: str = field(init=False)
    event_version: int = 1
    aggregate_id: str = field(default="")
    aggregate_type: str = field(init=False)
    execution_id: Optional[str] = None
    user_id: Optional[str] = None
    occurred_at: datetime = field(default_factory=datetime.utcnow)

    def __post_init__(self):
        if not hasattr(self, 'event_type') or not self.event_type:
            object.__setattr__(self, 'event_type', self.__class__.__name__)
        if not hasattr(self, 'aggregate_type') or not self.aggregate_type:
            object.__setattr__(self, 'aggregate_type', self._get_aggregate_type())

    def _get_aggregate_type(self) -> str:
        event_name = self.__class__.__name__
        if event_name.endswith('Event'):
            event_name = event_name[:-5]
        for i, char in enumerate(event_name):
            if i > 0 and char.isupper():
                return event_name[:i]
        return event_name

    def to_dict(self) -> Dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "event_version": self.event_version,
            "aggregate_id": self.aggregate_id,
            "aggregate_type": self.aggregate_type,
            "execution_id": self.execution_id,
            "user_id": self.user_id,
            "occurred_at": self.occurred_at.isoformat(),
            "data": self._get_event_data(),
        }

    def _get_event_data(self) -> Dict[str, Any]:
        data = {}
        for key, value in self.__dict__.items():
            if key not in ['event_id', 'event_type', 'event_version', 'aggregate_id', 'aggregate_type',
                           'execution_id', 'user_id', 'occurred_at']:
                if hasattr(value, 'to_dict'):
                    data[key] = value.to_dict()
                elif hasattr(value, '__dict__'):
                    data[key] = str(value)
                else:
                    data[key] = value
        return data

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> 'DomainEvent':
        event_data = data.get('data', {})
        return cls(aggregate_id=data['aggregate_id'], execution_id=data.get('execution_id'),
                   user_id=data.get('user_id'), **event_data)


def _order_event(cls):
    """The order events' shared __post_init__: aggregate_id is order_id."""
    def __post_init__(self):
        if not self.aggregate_id and self.order_id:
            object.__setattr__(self, 'aggregate_id', self.order_id)
        DomainEvent.__post_init__(self)
    cls.__post_init__ = __post_init__
    return dataclass(cls)


@_order_event
class OrderCreatedEvent(DomainEvent):
    order_id: str = ""
    marketplace: str = ""
    buyer_email: str = ""
    purchase_date: str = ""


@_order_event
class FinancialsExtractedEvent(DomainEvent):
    order_id: str = ""
    principal_amount: Optional[Decimal] = None
    principal_currency: str = ""
    net_proceeds: Optional[Decimal] = None
    financial_lines_count: int = 0


@_order_event
class OrderValidatedEvent(DomainEvent):
    order_id: str = ""
    validation_passed: bool = True
    validation_message: str = ""


@_order_event
class OrderSavedEvent(DomainEvent):
    order_id: str = ""
    database_id: Optional[str] = None


@_order_event
class InvoiceCreatedEvent(DomainEvent):
    order_id: str = ""
    invoice_id: int = 0
    partner_id: int = 0
    invoice_lines_count: int = 0


@_order_event
class OrderSyncedEvent(DomainEvent):
    order_id: str = ""
    invoice_id: Optional[int] = None
    principal_amount: Optional[Decimal] = None
    net_proceeds: Optional[Decimal] = None


@_order_event
class OrderFailedEvent(DomainEvent):
    order_id: str = ""
    error_type: str = ""
    error_message: str = ""
    error_details: Optional[str] = None
    step_failed: str = ""


@_order_event
class NotificationSentEvent(DomainEvent):
    order_id: str = ""
    notification_type: str = ""
    channel: str = ""
    success: bool = True


ORDER_EVENTS = [OrderCreatedEvent, FinancialsExtractedEvent, OrderValidatedEvent, OrderSavedEvent,
                InvoiceCreatedEvent, OrderSyncedEvent, OrderFailedEvent, NotificationSentEvent]
