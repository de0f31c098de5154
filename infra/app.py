"""CDK app: `cdk synth` / `cdk deploy` (see README, Operations)."""
import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.stack import LoyaltyStack


def build_app() -> cdk.App:
    app = cdk.App()
    LoyaltyStack(app, "LoyaltyPlatform", description="Loyalty and membership platform for multi-store retail chains")
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app


if __name__ == "__main__":
    build_app().synth()
