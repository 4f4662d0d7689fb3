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

# stop / start: the schedule's two edges. sync: bring each node group to the bounds its tags
# carry (after an apply, daily, or by hand). cap: the budget's SNS topic says its action fired.
ACTIONS = ("stop", "start", "sync", "cap")
DRY_RUN_ENV = "OFFHOURS_DRY_RUN"

# Set on the function by modules/offhours_schedule.py: whose capacity it manages, and which
# budget's actions hold it. An SNS event carries no team, so these name it.
TEAM_ENV = "GENAI_FINOPS_TEAM"
REGION_ENV = "GENAI_FINOPS_REGION"
ACCOUNT_ENV = "GENAI_FINOPS_ACCOUNT"
BUDGET_ENV = "GENAI_FINOPS_BUDGET"
# The team's training instance profile, and the training instances its stack manages (comma
# separated): `sync` cancels persistent spot requests of that profile no managed instance stands for.
TRAINING_PROFILE_ENV = "GENAI_FINOPS_TRAINING_PROFILE"
MANAGED_INSTANCES_ENV = "GENAI_FINOPS_TRAINING_INSTANCES"
# The team budget's alert topic: an SNS event from any other topic is refused.
BUDGET_TOPIC_ENV = "GENAI_FINOPS_BUDGET_TOPIC_ARN"
# The schedules pass EventBridge Scheduler's `<aws.scheduler.scheduled-time>` under this key
# (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html);
# a stop or start that arrives later than LATE_AFTER_SECONDS after it is skipped, with a record.
SCHEDULED_TIME_KEY = "scheduled_time"
SCHEDULED_TIME_PLACEHOLDER = "<aws.scheduler.scheduled-time>"
# The schedules' own retry window (modules/offhours_schedule.py MAX_EVENT_AGE_SECONDS): a
# delivery within it is a retry of a run that is still due; past it, the window may have moved.
LATE_AFTER_SECONDS = 3600

# The manifest's min_nodes / max_nodes, as node group tags that Terraform keeps current. The
# node group's own scaling is left to this function (Terraform ignores it after creation), so
# an apply at night cannot undo off-hours or a budget cap; start and sync apply these bounds.
MIN_NODES_TAG = "genai-finops:min-nodes"
MAX_NODES_TAG = "genai-finops:max-nodes"

# Budget action statuses in which the action holds (or tried to take) effect: while one of the
# team's actions is in one of these, nothing this function stopped is brought back.
# Statuses: https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Action.html
# PENDING waits for approval of an action that has fired; a failed execution or reversal still
# means the budget was exceeded. STANDBY, and the REVERSE_*/RESET_* ones that undo it, do not hold.
BUDGET_ACTION_IN_FORCE = frozenset(
    {"PENDING", "EXECUTION_IN_PROGRESS", "EXECUTION_SUCCESS", "EXECUTION_FAILURE", "REVERSE_FAILURE", "RESET_FAILURE"}
)
