"""What matters in the AWS templates (infra/*.yaml), read with cfn-lint's loader (it resolves !Ref, !Sub ... tags).

cfn-lint itself (run by `make lint`) checks that the templates are valid CloudFormation; these tests check the
choices: least privilege per service, HTTPS only, the bucket closed and encrypted, the workers scaled on the
queue's depth, the sync run daily, direct uploads consumed with the secret the API signs with, every table
stream feeding live events, and that the stacks fit together (every import is exported).
"""

from __future__ import annotations

import importlib.util
import re
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from tests.conftest import ROOT

INFRA = ROOT / "infra"
TEMPLATES = {
    name: cfn_yaml.load(str(INFRA / f"{name}.yaml")) for name in ("template", "network", "services", "api-lambda")
}

# Actions AWS authorises on no resource at all (the service authorization reference lists "*" for them): a "*"
# resource is the only one possible. Nothing here reads or writes records, blobs, messages, keys or secrets.
NO_RESOURCE_ACTIONS = {
    "ecr:GetAuthorizationToken",
    "dynamodb:ListStreams",
    "textract:DetectDocumentText",
    "textract:AnalyzeDocument",
    "textract:StartDocumentTextDetection",
    "textract:GetDocumentTextDetection",
    "textract:StartDocumentAnalysis",
    "textract:GetDocumentAnalysis",
}
DATA_SERVICES = ("dynamodb", "s3", "sqs", "kms", "secretsmanager", "ssm", "bedrock", "transcribe", "logs", "ecs", "iam")


def _resources(template: str, kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in TEMPLATES[template]["Resources"].items() if v["Type"] == kind}


def _branches(value: Any) -> Iterator[Any]:
    """Every value a property can take: both sides of each Fn::If (so optional grants are checked too)."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        _, yes, no = value["Fn::If"]
        yield from _branches(yes)
        yield from _branches(no)
    elif isinstance(value, dict) and value == {"Ref": "AWS::NoValue"}:
        return
    else:
        yield value


def _as_list(value: Any) -> list[Any]:
    out: list[Any] = []
    for v in _branches(value):
        for item in v if isinstance(v, list) else [v]:
            out.extend(_branches(item))
    return out


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _as_list(document["Statement"]) if isinstance(s, dict)]


def _policies() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(template, owner, statement) for every IAM statement: roles' inline policies and managed policies."""
    for template in TEMPLATES:
        for name, role in _resources(template, "AWS::IAM::Role").items():
            for policy in role["Properties"].get("Policies", []):
                for statement in _statements(policy["PolicyDocument"]):
                    yield template, name, statement
        for name, policy in _resources(template, "AWS::IAM::ManagedPolicy").items():
            for statement in _statements(policy["Properties"]["PolicyDocument"]):
                yield template, name, statement


def _text(value: Any) -> str:
    """A resource expression as text (a Sub's string, a GetAtt's path, a Ref's name, an import's export name)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        (fn, arg), *_ = value.items()
        if fn == "Fn::Sub":
            return arg if isinstance(arg, str) else _text(arg[0])
        if fn == "Fn::GetAtt":
            return ".".join(arg) if isinstance(arg, list) else str(arg)
        if fn in ("Ref", "Fn::ImportValue"):
            return f"{fn}:{_text(arg)}"
    return repr(value)


def test_no_role_grants_data_actions_on_every_resource() -> None:
    checked = 0
    for template, owner, statement in _policies():
        assert statement["Effect"] == "Allow", (template, owner, statement.get("Sid"))
        actions = _as_list(statement["Action"])
        resources = _as_list(statement["Resource"])
        checked += 1
        for action in actions:
            service, _, verb = action.partition(":")
            assert "*" not in verb, f"{template}:{owner} grants a wildcard action {action}"
            assert service in (*DATA_SERVICES, "ecr", "textract"), f"{template}:{owner}: unexpected service {action}"
        if "*" in resources:
            assert set(actions) <= NO_RESOURCE_ACTIONS, f"{template}:{owner} {statement.get('Sid')}: '*' for {actions}"
            assert resources == ["*"]
    assert checked > 40  # the walk found the policies (a loader change must not make this pass vacuously)


def test_blob_access_is_per_prefix_and_the_audit_log_append_only() -> None:
    bucket_grants = []
    for template, owner, statement in _policies():
        actions = _as_list(statement["Action"])
        resources = [_text(r) for r in _as_list(statement["Resource"])]
        if any(a.startswith("s3:") for a in actions):
            for resource in resources:
                bucket_grants.append(resource)
                # objects under a named prefix only, never the whole bucket
                assert re.search(r"/(audio|documents|metrics|uploads|tmp/transcribe|tmp/textract)/\*$", resource), (
                    f"{template}:{owner} grants {actions} on {resource}"
                )
        if any("AuditLog" in r for r in resources):
            assert not {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} & set(actions), (
                f"{template}:{owner} may rewrite the audit log"
            )
            # An append reads the hash chain's head before writing (DynamoAuditLog.append): without GetItem every
            # audited action of that service would fail.
            if "dynamodb:PutItem" in actions:
                assert "dynamodb:GetItem" in actions, f"{template}:{owner} appends to the audit log blind"
    assert len(bucket_grants) >= 6


def test_each_service_runs_under_its_own_role() -> None:
    roles = {
        name: _text(td["Properties"]["TaskRoleArn"])
        for name, td in _resources("services", "AWS::ECS::TaskDefinition").items()
    }
    assert set(roles) == {
        "UiTaskDefinition",
        "ApiTaskDefinition",
        "WorkerTaskDefinition",
        "UploadsTaskDefinition",
        "SyncTaskDefinition",
    }
    functions = [
        f["Properties"]["Role"]
        for t in ("services", "api-lambda")
        for f in _resources(t, "AWS::Lambda::Function").values()
    ]
    assert len(set(roles.values())) == len(roles)
    assert len({_text(r) for r in functions}) == len(functions) == 2
    # Transcribe only where recordings are transcribed: the worker's policy.
    transcribe_owners = {
        owner for _, owner, s in _policies() if any(a.startswith("transcribe:") for a in _as_list(s["Action"]))
    }
    assert transcribe_owners == {"WorkerAccessPolicy"}


def test_the_load_balancer_serves_https_with_the_certificate_and_redirects_http() -> None:
    listeners = {
        p["Properties"]["Port"]: p["Properties"]
        for p in _resources("services", "AWS::ElasticLoadBalancingV2::Listener").values()
    }
    assert set(listeners) == {443, 80}
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert TEMPLATES["services"]["Parameters"]["CertificateArn"]["AllowedPattern"].startswith("^arn:aws")
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    (redirect,) = listeners[80]["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    assert redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"
    ui_group = TEMPLATES["services"]["Resources"]["UiTargetGroup"]["Properties"]
    attributes = {a["Key"]: a["Value"] for a in ui_group["TargetGroupAttributes"]}
    assert attributes["stickiness.enabled"] == "true"
    assert attributes["stickiness.type"] == "lb_cookie"
    assert https["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": "UiTargetGroup"}}]


def _alarm_metrics(alarm: dict[str, Any]) -> set[tuple[str, str, str]]:
    props = alarm["Properties"]
    stats = (
        [props] if "MetricName" in props else [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]
    )
    return {(s["Namespace"], s["MetricName"], _text(s["Dimensions"][0]["Value"])) for s in stats}


def test_workers_scale_on_the_job_queue_depth() -> None:
    resources = TEMPLATES["services"]["Resources"]
    target = resources["WorkerScalableTarget"]["Properties"]
    assert target["ScalableDimension"] == "ecs:service:DesiredCount"
    assert "${WorkerService.Name}" in _text(target["ResourceId"])
    queue = "Fn::ImportValue:${DataStack}-QueueName"
    alarms = _resources("services", "AWS::CloudWatch::Alarm")
    by_policy = {_text(a["Properties"]["AlarmActions"][0]): a for a in alarms.values()}

    out = resources["WorkerScaleOutPolicy"]["Properties"]
    assert out["ScalingTargetId"] == {"Ref": "WorkerScalableTarget"}
    assert [s["ScalingAdjustment"] for s in out["StepScalingPolicyConfiguration"]["StepAdjustments"]] == [1, 2, 4]
    assert _alarm_metrics(by_policy["Ref:WorkerScaleOutPolicy"]) == {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue)
    }
    # Scale in only when nothing waits and nothing is being worked on.
    scale_in = by_policy["Ref:WorkerScaleInPolicy"]
    assert _alarm_metrics(scale_in) == {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue),
        ("AWS/SQS", "ApproximateNumberOfMessagesNotVisible", queue),
    }
    assert scale_in["Properties"]["ComparisonOperator"] == "LessThanOrEqualToThreshold"
    assert scale_in["Properties"]["Threshold"] == 0
    # The queue whose depth is read is the queue the workers consume.
    outputs = TEMPLATES["template"]["Outputs"]
    assert outputs["QueueName"]["Value"] == {"Fn::GetAtt": ["JobQueue", "QueueName"]}


def test_the_wearable_sync_runs_once_a_day() -> None:
    schedule = TEMPLATES["services"]["Resources"]["WearableSyncSchedule"]["Properties"]
    expression = _text(schedule["ScheduleExpression"])
    minute, hour, day, month, weekday, year = re.fullmatch(r"cron\((.*)\)", expression).group(1).split()  # type: ignore[union-attr]
    assert minute.isdigit() and hour in ("${SyncHour}",) and (day, month, weekday, year) == ("*", "*", "?", "*")
    sync_hour = TEMPLATES["services"]["Parameters"]["SyncHour"]
    assert (sync_hour["MinValue"], sync_hour["MaxValue"]) == (0, 23)
    assert schedule["Target"]["EcsParameters"]["TaskDefinitionArn"] == {"Ref": "SyncTaskDefinition"}
    sync = TEMPLATES["services"]["Resources"]["SyncTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert sync["Command"][-3:] == ["backend", "sync", "wearables"]


def test_the_bucket_is_private_tls_only_and_kms_encrypted() -> None:
    resources = TEMPLATES["template"]["Resources"]
    bucket = resources["BlobBucket"]["Properties"]
    assert all(
        bucket["PublicAccessBlockConfiguration"][k] is True
        for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    )
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    statements = _statements(resources["BlobBucketPolicy"]["Properties"]["PolicyDocument"])
    by_sid = {s["Sid"]: s for s in statements}
    assert "DenyInsecureTransport" in by_sid
    tls = by_sid["DenyInsecureTransport"]
    assert (tls["Effect"], tls["Principal"], tls["Action"]) == ("Deny", "*", "s3:*")
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert {_text(r) for r in tls["Resource"]} == {"BlobBucket.Arn", "${BlobBucket.Arn}/*"}


def test_tables_and_logs_are_encrypted_with_the_key_and_logs_expire() -> None:
    tables = _resources("template", "AWS::DynamoDB::Table")
    assert len(tables) >= 9
    for name, table in tables.items():
        sse = table["Properties"]["SSESpecification"]
        assert (sse["SSEEnabled"], sse["SSEType"]) == (True, "KMS"), name
        assert "KMSMasterKeyId" in sse, name
    groups = [g for t in ("services", "api-lambda") for g in _resources(t, "AWS::Logs::LogGroup").values()]
    assert len(groups) >= 7
    for group in groups:
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert _text(group["Properties"]["KmsKeyId"]) == "Fn::ImportValue:${DataStack}-DataKeyArn"


def _environment(container: dict[str, Any]) -> dict[str, Any]:
    return {e["Name"]: e["Value"] for e in _as_list(container.get("Environment", []))}


def test_no_secret_value_is_in_a_template() -> None:
    secretish = re.compile(r"(API_KEY|TOKEN|SECRET|PASSWORD|DATA_KEY)$")
    for name, td in _resources("services", "AWS::ECS::TaskDefinition").items():
        (container,) = td["Properties"]["ContainerDefinitions"]
        assert not [k for k in _environment(container) if secretish.search(k)], name
        for secret in _as_list(container.get("Secrets", [])):
            assert _text(secret["ValueFrom"]).endswith("SecretArn"), name  # resolved by ECS at start
    for template in ("services", "api-lambda"):
        for fn in _resources(template, "AWS::Lambda::Function").values():
            variables = fn["Properties"]["Environment"]["Variables"]
            assert not [k for k in variables if secretish.search(k)], template
    for template in TEMPLATES.values():
        for name, param in template.get("Parameters", {}).items():
            assert not (secretish.search(name.upper()) and param.get("Default")), name


def test_every_import_is_exported_by_the_data_stack() -> None:
    exports = {
        _text(o["Export"]["Name"]).replace("${AWS::StackName}", "${DataStack}")
        for o in TEMPLATES["template"]["Outputs"].values()
        if "Export" in o
    }

    def imports(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Fn::ImportValue":
                    yield _text(value)
                else:
                    yield from imports(value)
        elif isinstance(node, list):
            for item in node:
                yield from imports(item)

    used = set(imports(TEMPLATES["services"])) | set(imports(TEMPLATES["api-lambda"]))
    assert used and used <= exports, used - exports


@pytest.mark.parametrize("template", ["services", "api-lambda"])
def test_api_and_stream_consumer_run_the_app_image_under_the_lambda_runtime(template: str) -> None:
    for fn in _resources(template, "AWS::Lambda::Function").values():
        assert fn["Properties"]["PackageType"] == "Image"
        assert _text(fn["Properties"]["Code"]["ImageUri"]).endswith(":${ImageTag}")  # the services' image
        assert fn["Properties"]["ImageConfig"]["EntryPoint"] == ["python", "-m", "awslambdaric"]
    if template == "api-lambda":
        fn = TEMPLATES[template]["Resources"]["ApiFunction"]["Properties"]
        assert fn["ImageConfig"]["Command"] == ["backend.api.lambda_handler.handler"]
        integration = TEMPLATES[template]["Resources"]["ApiIntegration"]["Properties"]
        assert (integration["IntegrationType"], integration["PayloadFormatVersion"]) == ("AWS_PROXY", "2.0")
    else:
        fn = TEMPLATES[template]["Resources"]["StreamConsumerFunction"]["Properties"]
        assert fn["ImageConfig"]["Command"] == [{"Ref": "StreamHandler"}]


STREAMS = {"NotesStreamArn", "JobsStreamArn", "MetricsStreamArn", "AuditStreamArn"}


def test_every_table_stream_feeds_the_live_events_consumer_by_default() -> None:
    services = TEMPLATES["services"]
    # The handler exists now: a stack deployed with the defaults gets live events (empty still turns them off).
    assert services["Parameters"]["StreamHandler"]["Default"] == "backend.worker.streams.handler"
    assert importlib.util.find_spec("backend.worker.streams") is not None
    from backend.worker import streams

    assert callable(streams.handler)
    mappings = _resources("services", "AWS::Lambda::EventSourceMapping")
    sources = {
        _text(m["Properties"]["EventSourceArn"]).removeprefix("Fn::ImportValue:${DataStack}-")
        for m in mappings.values()
    }
    assert sources == STREAMS and len(mappings) == len(STREAMS)  # drafts and signatures, jobs, anomalies, activity
    for name, mapping in mappings.items():
        props = mapping["Properties"]
        assert mapping["Condition"] == "HasStreamHandler", name
        assert props["FunctionName"] == {"Ref": "StreamConsumerFunction"}, name
        assert props["BisectBatchOnFunctionError"] is True and props["FunctionResponseTypes"] == [
            "ReportBatchItemFailures"
        ]
        assert _text(props["DestinationConfig"]["OnFailure"]["Destination"]) == "FailedEventsQueue.Arn", name
    read = [
        s
        for _, owner, s in _policies()
        if owner == "StreamConsumerRole" and "dynamodb:GetRecords" in _as_list(s["Action"])
    ]
    (statement,) = read
    assert {_text(r).removeprefix("Fn::ImportValue:${DataStack}-") for r in _as_list(statement["Resource"])} == STREAMS


def _container(task_definition: str) -> dict[str, Any]:
    (container,) = TEMPLATES["services"]["Resources"][task_definition]["Properties"]["ContainerDefinitions"]
    return dict(container)


def _secrets(container: dict[str, Any]) -> dict[str, str]:
    return {s["Name"]: _text(s["ValueFrom"]) for s in _as_list(container.get("Secrets", []))}


UPLOAD_SECRET = "Fn::ImportValue:${DataStack}-UploadSecretArn"
UPLOAD_QUEUE = "Fn::ImportValue:${DataStack}-UploadEventsQueueUrl"


def test_the_upload_consumer_runs_with_the_queue_and_the_secret_the_api_signs_with() -> None:
    resources = TEMPLATES["services"]["Resources"]
    consumer = _container("UploadsTaskDefinition")
    assert consumer["Command"] == ["python", "-m", "backend.worker.uploads"]
    assert _text(_environment(consumer)["COPILOT_UPLOAD_QUEUE_URL"]) == UPLOAD_QUEUE
    assert _environment(consumer)["COPILOT_BLOBS"] == "s3"
    service = resources["UploadsService"]["Properties"]
    assert service["TaskDefinition"] == {"Ref": "UploadsTaskDefinition"}
    assert service["DesiredCount"] == {"Ref": "UploadConsumerCount"}
    assert TEMPLATES["services"]["Parameters"]["UploadConsumerCount"]["Default"] == 1
    # One secret for the signer and the checker: the API (ECS or Lambda) and the consumer read the same export.
    assert _secrets(consumer) == {"COPILOT_UPLOAD_SECRET": UPLOAD_SECRET}
    api = _container("ApiTaskDefinition")
    assert _secrets(api)["COPILOT_UPLOAD_SECRET"] == UPLOAD_SECRET
    assert _text(_environment(api)["COPILOT_UPLOAD_QUEUE_URL"]) == UPLOAD_QUEUE  # the API builds the same deps
    variables = TEMPLATES["api-lambda"]["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert _text(variables["COPILOT_UPLOAD_SECRET_SECRET_ARN"]) == UPLOAD_SECRET  # resolved at cold start
    assert _text(variables["COPILOT_UPLOAD_QUEUE_URL"]) == UPLOAD_QUEUE
    # Whoever starts those tasks may read the secret (and decrypt it only through Secrets Manager).
    for template, owner in (("services", "ExecutionRole"), ("api-lambda", "FunctionRole")):
        statements = [s for t, o, s in _policies() if (t, o) == (template, owner)]
        reads = [s for s in statements if "secretsmanager:GetSecretValue" in _as_list(s["Action"])]
        assert any(UPLOAD_SECRET in [_text(r) for r in _as_list(s["Resource"])] for s in reads), owner
        decrypt = [s for s in statements if _as_list(s["Action"]) == ["kms:Decrypt"]]
        assert any("secretsmanager" in str(s.get("Condition")) for s in decrypt), owner
    # The data stack generates it (nobody types it), encrypted with the data key, and exports it.
    secret = TEMPLATES["template"]["Resources"]["UploadSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    assert "SecretString" not in secret["Properties"]
    assert "DataKey" in str(secret["Properties"]["KmsKeyId"])
    outputs = TEMPLATES["template"]["Outputs"]
    assert outputs["UploadSecretArn"]["Value"] == {"Ref": "UploadSecret"}


def test_the_upload_consumer_role_covers_its_adapters_and_no_more() -> None:
    granted = _granted("UploadsTaskRole")
    # The inbox, the queue base class it inherits (not the job queue below it), and the staging store.
    queue_base = (ROOT / "backend/adapters/queues/sqs.py").read_text().split("\nclass SqsJobQueue")[0]
    calls = _operations("backend/adapters/queues/sqs_inbox.py", "backend/adapters/blobs/s3_staging.py")
    calls |= set(re.findall(r'(?:call\(\s*"|client\.)([a-z_]+)', queue_base)) - DEPLOY_ONLY - {"exceptions"}
    assert {"receive_message", "delete_message", "head_object", "get_object", "delete_object"} <= calls
    assert {ACTIONS[op] for op in calls - {"send_message", "generate_presigned_post"}} <= granted
    assert {"sqs:SendMessage", "s3:PutObject", "dynamodb:PutItem", "dynamodb:GetItem"} <= granted  # job, blob, audit
    statements = [s for _, owner, s in _policies() if owner == "UploadsTaskRole"]
    consume = [s for s in statements if "sqs:ReceiveMessage" in _as_list(s["Action"])]
    assert [_text(r) for s in consume for r in _as_list(s["Resource"])] == [
        "Fn::ImportValue:${DataStack}-UploadEventsQueueArn"
    ]  # it never takes jobs off the job queue
    deletes = [
        _text(r) for s in statements if "s3:DeleteObject" in _as_list(s["Action"]) for r in _as_list(s["Resource"])
    ]
    assert deletes and all(r.endswith("/uploads/*") for r in deletes)  # only staged uploads are ever deleted


# Client operations of the AWS adapters -> the IAM actions they need at run time. Table/queue creation
# (`aws create-tables`) is a deployment step with its own credentials, not a service's.
DEPLOY_ONLY = {
    "create_table",
    "delete_table",
    "describe_table",
    "update_table",
    "update_time_to_live",
    "get_paginator",
    "create_queue",
}
ACTIONS = {
    "get_item": "dynamodb:GetItem",
    "put_item": "dynamodb:PutItem",
    "query": "dynamodb:Query",
    "batch_get_item": "dynamodb:BatchGetItem",
    "batch_write_item": "dynamodb:BatchWriteItem",
    "delete_item": "dynamodb:DeleteItem",
    "transact_write_items": "dynamodb:ConditionCheckItem",  # the rest of a transaction is authorised per item
    "get_object": "s3:GetObject",
    "head_object": "s3:GetObject",
    "put_object": "s3:PutObject",
    "upload_fileobj": "s3:PutObject",
    "delete_object": "s3:DeleteObject",
    "send_message": "sqs:SendMessage",
    "receive_message": "sqs:ReceiveMessage",
    "delete_message": "sqs:DeleteMessage",
    "change_message_visibility": "sqs:ChangeMessageVisibility",
    "get_queue_attributes": "sqs:GetQueueAttributes",
}
CONSUMING = {"receive_message", "delete_message", "change_message_visibility"}


def _operations(*paths: str) -> set[str]:
    found: set[str] = set()
    for path in paths:
        target = ROOT / path
        for source in [target] if target.is_file() else sorted(target.glob("*.py")):
            found |= set(re.findall(r'(?:call\(\s*"|client\.)([a-z_]+)', source.read_text()))
    return found - DEPLOY_ONLY - {"exceptions"}


def _granted(policy: str) -> set[str]:
    return {a for _, owner, s in _policies() if owner == policy for a in _as_list(s["Action"])}


def test_the_policies_cover_what_the_adapters_call() -> None:
    records = _operations("backend/adapters/records/dynamodb")
    blobs = _operations("backend/adapters/blobs/s3.py")
    queue = _operations("backend/adapters/queues/sqs.py")
    assert {"get_item", "put_item", "query", "get_object", "put_object", "send_message", "receive_message"} <= (
        records | blobs | queue
    )  # the scan found the calls
    unknown = (records | blobs | queue) - set(ACTIONS)
    assert not unknown, f"map these adapter calls to IAM actions: {unknown}"
    app = _granted("AppAccessPolicy")
    assert {ACTIONS[op] for op in records | blobs | (queue - CONSUMING)} <= app
    assert {ACTIONS[op] for op in CONSUMING} & app == set()  # the UI and the API never take jobs off the queue
    worker = _granted("WorkerAccessPolicy")
    assert {ACTIONS[op] for op in queue - {"send_message"}} | {"s3:GetObject", "dynamodb:GetItem"} <= worker


def test_the_readme_cost_table_is_what_the_estimate_prints() -> None:
    spec = importlib.util.spec_from_file_location("cost_estimate", INFRA / "cost_estimate.py")
    assert spec is not None and spec.loader is not None
    cost = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cost)
    prices = {
        k: float(v) for k, v in tomllib.loads((INFRA / "prices.toml").read_text()).items() if not isinstance(v, str)
    }
    rows = cost.estimate(prices)
    readme = {
        line.split("|")[1].strip(): line
        for line in (INFRA / "README.md").read_text().splitlines()
        if line.startswith("| ")
    }
    for item, _, low, high in rows:
        assert f"{low:.2f}" in readme[item] and f"{high:.2f}" in readme[item], item
    total = readme["**total, as deployed above**"]
    assert f"{sum(r[2] for r in rows):.2f}" in total and f"{sum(r[3] for r in rows):.2f}" in total
