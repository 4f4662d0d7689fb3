"""A managed model's Bedrock application inference profile, tagged, and who may invoke through it.

- The profile copies from the foundation model in the team's region, or from the system-defined
  cross-region inference profile the manifest names (its ID starts with a geography: us., eu.,
  global.). AWS documents application inference profiles as the way to track Bedrock cost and
  usage per application: their tags reach the billing data
  (https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-create.html,
  https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateInferenceProfile.html). It
  carries every required tag, with the model's ModelID, so the team's budget (filtered on its Team
  tag) covers its spend.
- `copyFrom` is an ARN: `arn:<partition>:bedrock:<region>::foundation-model/<id>` (no account) or
  `arn:<partition>:bedrock:<region>:<account>:inference-profile/<id>` (the pattern in
  https://docs.aws.amazon.com/bedrock/latest/APIReference/API_InferenceProfileModelSource.html).
- One IAM policy per model, attached to its `invoke_role_names`: invoke (bedrock:InvokeModel and
  InvokeModelWithResponseStream; Converse is authorised by the same two) on the application
  profile, and on what it routes to, the system profile and the foundation model in each region
  of it, only through this application profile: "When you specify an inference profile in the
  Resource field ... you must also specify the foundation model in each Region associated with
  it", and the condition key bedrock:InferenceProfileArn restricts "user access such that they
  can invoke a foundation model only through an inference profile"
  (https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html; key listed in
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonbedrock.html).
  The regions of a system profile are AWS's to change, so the foundation model is allowed in every
  region (`*`), under that condition.
"""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.bedrock_inference_profile import BedrockInferenceProfile, BedrockInferenceProfileModelSource
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from generators import naming
from generators.model import ManagedModel
from generators.plan.bedrock_prices import split_model
from modules.context import TeamContext
from modules.iam_documents import policy_document

# The runtime actions that send a prompt: InvokeModel and its streaming form; the Converse API
# is authorised by the same two (https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-call.html).
INVOKE_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")


class ManagedModelAccess(Construct):
    """Args:
        model: the validated manifest entry.
        context: the team, its region, and every required tag with this model's ModelID.
    """

    def __init__(self, scope: Construct, id: str, *, model: ManagedModel, context: TeamContext) -> None:
        super().__init__(scope, id)
        partition = DataAwsPartition(self, "partition").partition
        account = DataAwsCallerIdentity(self, "account").account_id
        region = context.region
        geography, foundation = split_model(model.foundation_model)
        if geography is None:
            source = f"arn:{partition}:bedrock:{region}::foundation-model/{model.foundation_model}"
        else:
            source = f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{model.foundation_model}"
        self.profile = BedrockInferenceProfile(
            self,
            "profile",
            name=naming.inference_profile(context.team, model.name),
            # Bedrock's description alphabet is ([0-9a-zA-Z:.][ _-]?)+ (botocore's bedrock service model):
            # built from the validated team and entry names only.
            description=f"Team {context.team} model {model.name} by genai-finops",
            model_source=[BedrockInferenceProfileModelSource(copy_from=source)],
            tags=dict(context.tags),
        )
        if not model.invoke_role_names:
            return
        only_through_profile = {"StringEquals": {"bedrock:InferenceProfileArn": self.profile.arn}}
        routed: list[str] = [f"arn:{partition}:bedrock:*::foundation-model/{foundation}"]
        if geography is not None:
            routed.insert(0, source)
        statements: list[dict[str, Any]] = [
            {"Sid": "InvokeThroughTheTeamsProfile", "Effect": "Allow", "Action": list(INVOKE_ACTIONS), "Resource": self.profile.arn},
            {"Sid": "WhatTheProfileRoutesTo", "Effect": "Allow", "Action": list(INVOKE_ACTIONS), "Resource": routed,
             "Condition": only_through_profile},
        ]
        policy = IamPolicy(
            self,
            "invoke",
            name=naming.invoke_policy(context.team, model.name),
            description=f"Invoke {model.foundation_model} only through the {model.name} profile of team {context.team} (genai-finops)",
            policy=policy_document(*statements),
            tags=dict(context.tags),
        )
        for role in model.invoke_role_names:
            IamRolePolicyAttachment(self, f"attach-{role}", role=role, policy_arn=policy.arn)
