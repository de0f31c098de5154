"""The transaction helper retries conflicts only; other cancellation reasons surface as defects."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from loyalty.platform.dynamo import Transaction, TransactionRejected
from loyalty.kernel.errors import ConcurrentUpdate


class ScriptedClient:
    """Answers transact_write_items with the cancellation reasons it is given, in order."""

    def __init__(self, *reason_lists):
        self._answers = list(reason_lists)
        self.calls = 0

    def transact_write_items(self, TransactItems):  # noqa: N803 (boto3's name)
        self.calls += 1
        reasons = self._answers.pop(0)
        if reasons is None:
            return {}
        raise ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                           "CancellationReasons": reasons}, "TransactWriteItems")


ITEMS = [{"Put": {"TableName": "t", "Item": {"PK": "a", "SK": "b"}}}]


def test_conflicts_are_retried_until_the_transaction_goes_through():
    client = ScriptedClient([{"Code": "TransactionConflict"}], [{"Code": "None"}, {"Code": "TransactionConflict"}], None)
    Transaction(client, ITEMS).commit()
    assert client.calls == 3


def test_conflicts_that_never_clear_become_a_concurrent_update():
    client = ScriptedClient(*[[{"Code": "TransactionConflict"}]] * Transaction.MAX_ATTEMPTS)
    with pytest.raises(ConcurrentUpdate):
        Transaction(client, ITEMS).commit()
    assert client.calls == Transaction.MAX_ATTEMPTS


def test_a_validation_error_is_not_retried_nor_disguised_as_a_conflict():
    client = ScriptedClient([{"Code": "ValidationError", "Message": "Item size has exceeded the maximum"}])
    with pytest.raises(TransactionRejected):
        Transaction(client, ITEMS).commit()
    assert client.calls == 1
