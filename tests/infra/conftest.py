import os

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


@pytest.fixture(scope="session")
def synthesized():
    """The stack synthesized once, as `cdk synth` does (cdk-nag aspects included)."""
    import aws_cdk as cdk
    from aws_cdk.assertions import Template
    from cdk_nag import AwsSolutionsChecks

    from infra.stack import LoyaltyStack

    app = cdk.App(context={"loyalty:defaultCountryCode": "86"})
    stack = LoyaltyStack(app, "LoyaltyPlatform")
    cdk.Aspects.of(app).add(AwsSolutionsChecks())
    app.synth()
    return stack, Template.from_stack(stack)
