"""One table definition everywhere: tables.py == infra/template.yaml == what `aws create-tables` makes."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import yaml

from backend.__main__ import main
from backend.adapters.records.dynamodb.tables import TABLES, delete_tables
from tests.helpers.aws_servers import dummy_aws_credentials, dynamodb_local

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Sub, !GetAtt ...) as plain values."""


def _tag(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _tag)


def _shape(params: dict[str, Any]) -> dict[str, Any]:
    def indexes(kind: str) -> dict[str, Any]:
        return {i["IndexName"]: i["KeySchema"] for i in params.get(kind, [])}

    return {
        "keys": params["KeySchema"],
        "attrs": sorted((a["AttributeName"], a["AttributeType"]) for a in params["AttributeDefinitions"]),
        "gsi": indexes("GlobalSecondaryIndexes"),
        "lsi": indexes("LocalSecondaryIndexes"),
        "stream": bool(params.get("StreamSpecification")),
    }


def test_template_declares_the_same_tables_with_pitr() -> None:
    template = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
    declared = {
        r["Properties"]["TableName"].replace("${TablePrefix}", ""): r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::DynamoDB::Table"
    }
    assert set(declared) == {t.name for t in TABLES}
    for table in TABLES:
        props = declared[table.name]
        assert _shape(props) == _shape(table.create_params()), table.name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert declared["PatientNotes"]["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_template_passes_cfn_lint() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_creates_tables_on_an_endpoint_and_is_idempotent(capsys: Any) -> None:
    dummy_aws_credentials()
    server = dynamodb_local()
    prefix = f"cli{uuid.uuid4().hex[:6]}-"
    args = ["aws", "create-tables", "--endpoint-url", server.endpoint_url, "--prefix", prefix, "--region", "us-east-1"]
    try:
        assert main(args) == 0
        assert capsys.readouterr().out.count(": created") == len(TABLES)
        client = server.client()
        for table in TABLES:
            described = client.describe_table(TableName=prefix + table.name)["Table"]
            assert described["TableStatus"] == "ACTIVE"
            assert described["KeySchema"] == table.key_schema()
        assert main(args) == 0
        assert capsys.readouterr().out.count(": exists") == len(TABLES)
    finally:
        delete_tables(server.client(), prefix)


def test_a_table_made_by_an_older_version_gets_its_new_index(capsys: Any) -> None:
    """Upgrading: PatientNotes created before drafts-index existed gains it, data and all, without downtime."""
    from backend.adapters.records.dynamodb import open_dynamodb_store
    from backend.domain.models import Note

    dummy_aws_credentials()
    server = dynamodb_local()
    client = server.client()
    prefix = f"old{uuid.uuid4().hex[:6]}-"
    notes_def = next(t for t in TABLES if t.name == "PatientNotes")
    old = notes_def.create_params(prefix)
    old["GlobalSecondaryIndexes"] = [i for i in old["GlobalSecondaryIndexes"] if i["IndexName"] != "drafts-index"]
    old["AttributeDefinitions"] = [a for a in old["AttributeDefinitions"] if a["AttributeName"] != "draft_shard"]
    client.create_table(**old)
    args = ["aws", "create-tables", "--endpoint-url", server.endpoint_url, "--prefix", prefix, "--region", "us-east-1"]
    try:
        assert main(args) == 0
        out = capsys.readouterr().out
        assert f"{prefix}PatientNotes: added index drafts-index" in out
        assert out.count(": created") == len(TABLES) - 1
        described = client.describe_table(TableName=prefix + "PatientNotes")["Table"]
        assert {i["IndexName"] for i in described["GlobalSecondaryIndexes"]} == {"changed-index", "drafts-index"}
        store = open_dynamodb_store(prefix=prefix, region="us-east-1", endpoint_url=server.endpoint_url)
        store.notes.add(Note(patient_id="PAT_00000001", timestamp=1000))
        assert [n.timestamp for n in store.notes.drafts()] == [1000]
        assert main(args) == 0
        assert capsys.readouterr().out.count(": exists") == len(TABLES)
    finally:
        delete_tables(client, prefix)
