"""The real rewarder: feedback points go through the points ledger, once per feedback, capped per month."""
from __future__ import annotations

from loyalty.kernel.identity import ClientIdentity
from loyalty.members.domain import EnrollmentRequest
from tests.component.feedback.conftest import failed_ids, message, process
from tests.conftest import BACKOFFICE, POS_SH


def enroll(services) -> str:
    request = EnrollmentRequest(phone="13911112222", store_id="SH-JINGAN", channel="pos",
                                consents={"data_processing": {"granted": True, "policy_version": "2026-01"}})
    return services.member_service.enroll(request, ClientIdentity.from_context(POS_SH), None).member.body()["member_id"]


def balance(services, member_id: str) -> dict:
    return services.points_queries.balance(member_id, ClientIdentity.from_context(BACKOFFICE)).body()


def test_feedback_earns_points_once_each_up_to_the_monthly_cap(services, publisher):
    rule = services.program_rules.current().activities["feedback"]
    member_id = enroll(services)
    bodies = [message(member_id=member_id, kind="suggestion", rating=None, text=f"第{n}条建议：希望增加无糖饮品",
                      received_at=f"2026-11-{n + 12:02d}T03:00:00Z")  # within the late-posting window
              for n in range(rule.monthly_cap + 1)]

    response, _ = process(*bodies)
    again, _ = process(bodies[0])  # a redelivery earns nothing more

    assert failed_ids(response) == failed_ids(again) == []
    points = balance(services, member_id)
    assert points["lifetime_earned"] == rule.points * rule.monthly_cap
    assert publisher.types().count("FeedbackReceived.v1") == rule.monthly_cap + 1  # every item is stored
    assert services.feedback_repository.get(bodies[-1]["feedback_id"]).reward_settled_at is not None


def test_feedback_from_an_unknown_member_is_stored_without_points(services):
    body = message(member_id="mbr_01JD0000000000000000000009", kind="praise", rating=5, text="服务很好")

    response, _ = process(body)

    assert failed_ids(response) == []
    assert services.feedback_repository.get(body["feedback_id"]).reward_settled_at is not None
