from tests.conftest import api_event, response_json
import members

def test_enroll(services, ctx, publisher):
    body={"phone":"138 1234 5678","store_id":"SH-JINGAN","channel":"pos","consents":{"data_processing":{"granted":True,"policy_version":"2026-01"}}}
    r = members.handler(api_event("POST","/v1/members", body=body), ctx)
    assert r["statusCode"] == 201, r
    assert publisher.types() == ["MemberEnrolled.v1"]
