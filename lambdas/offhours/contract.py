"""Names the off-hours function shares with its IAM policy and with the schedules that invoke it.

Pure constants, no imports: the Lambda archive carries this file next to handler.py, and
permissions.py (imported at synthesis time, where boto3 must not be needed) reads the same
values, so the policy can never grant a tag key or parameter path the handler does not use.
"""

TEAM_TAG = "Team"
ENVIRONMENT_TAG = "Environment"
PROD_ENVIRONMENT = "prod"
OPT_OUT_TAG = "finops:keep-running-until"
# The handler marks what it stopped so that start restarts exactly those instances.
STOPPED_BY_TAG = "finops:stopped-by"
STOPPED_BY_VALUE = "genai-finops-offhours"

# Same format as generators.naming.offhours_parameter. The function runs alone in AWS and
# cannot import generators/; tests/test_offhours_handler.py asserts the two agree.
PARAMETER_FORMAT = "/genai-finops/offhours/{team}/{cluster}/{nodegroup}"
PARAMETER_PREFIX_FORMAT = "/genai-finops/offhours/{team}/"

ACTIONS = ("stop", "start")
DRY_RUN_ENV = "OFFHOURS_DRY_RUN"
