"""The stack's parts by capability: data, the API, what consumes queues, the stream and schedules, and
monitoring. Functions are LoyaltyFunction (infra/function.py), composed by infra/stack.py."""
from infra.constructs.api import Api
from infra.constructs.consumers import Consumers
from infra.constructs.data import Data
from infra.constructs.monitoring import Monitoring
from infra.constructs.stable_ids import StackLevel, StackWithStableIds

__all__ = ["Api", "Consumers", "Data", "Monitoring", "StackLevel", "StackWithStableIds"]
