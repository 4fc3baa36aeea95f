"""The monthly cost of the AWS stack at a small clinic's scale: ``python infra/cost_estimate.py``.

Prices come from prices.toml (list prices, with their region and date); the assumptions are the constants below.
The output is the cost table of infra/README.md (a test checks that the README shows these figures).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

HOURS = 730  # a month of an always-on task
DAYS = 22  # working days
CONSULTATIONS, MINUTES = 40, 8  # a day, each
SCANS = 40  # prescriptions a day
WAV_MB = 15.36  # 8 minutes of 16 kHz mono 16-bit audio
RETENTION_MONTHS = 12  # audio kept a year (AudioRetentionDays=365)
STREAM_BATCHES = 20_000  # stream consumer invocations a month over the four table streams (batched per second)


def fargate(p: dict[str, float], vcpu: float, gb: float, hours: float = HOURS) -> float:
    """On-demand Fargate (Linux/x86) for one task."""
    return hours * (vcpu * p["fargate_vcpu_hour"] + gb * p["fargate_gb_hour"])


def _flat(item: str, sizing: str, amount: float) -> tuple[str, str, float, float]:
    return item, sizing, amount, amount


def estimate(p: dict[str, float]) -> list[tuple[str, str, float, float]]:
    """(item, sizing, low, high) per month in USD, as deployed by the README (ECS API, on-demand worker)."""
    audio_gb = CONSULTATIONS * WAV_MB * DAYS / 1000
    return [
        ("UI task (Fargate)", "1 vCPU, 3 GB, 730 h", fargate(p, 1, 3), fargate(p, 1, 3)),
        ("API task (Fargate)", "1 vCPU, 2 GB, 730 h", fargate(p, 1, 2), fargate(p, 1, 2)),
        ("worker (Fargate)", "2 vCPU, 4 GB, 730 h", fargate(p, 2, 4), fargate(p, 2, 4)),
        ("upload consumer (Fargate)", "0.25 vCPU, 1 GB, 730 h", fargate(p, 0.25, 1), fargate(p, 0.25, 1)),
        _flat("stream consumer (Lambda)", f"{STREAM_BATCHES:,} batches x 0.2 s x 0.5 GB", stream_consumer(p)),
        ("daily sync (Fargate)", "0.5 vCPU, 1 GB, 10 min a day", fargate(p, 0.5, 1, 5), fargate(p, 0.5, 1, 5)),
        _flat("load balancer", "730 h + about 0.2 LCU", HOURS * (p["alb_hour"] + 0.2 * p["alb_lcu_hour"])),
        _flat("NAT gateway", "730 h + about 5 GB", HOURS * p["nat_hour"] + 5 * p["nat_gb"]),
        _flat("public IPv4 addresses", "2 (load balancer) + 1 (NAT)", 3 * HOURS * p["public_ipv4_hour"]),
        (
            "DynamoDB",
            "0.2 M writes, 3 M reads, 1-2 GB with PITR",
            0.2 * p["dynamodb_write_million"]
            + 3 * p["dynamodb_read_million"]
            + 1 * (p["dynamodb_gb_month"] + p["dynamodb_pitr_gb_month"]),
            0.2 * p["dynamodb_write_million"]
            + 3 * p["dynamodb_read_million"]
            + 2 * (p["dynamodb_gb_month"] + p["dynamodb_pitr_gb_month"]),
        ),
        (
            "S3",
            f"{audio_gb:.0f} GB of audio a month; after a year {audio_gb * RETENTION_MONTHS:.0f} GB",
            audio_gb * p["s3_gb_month"],
            audio_gb * RETENTION_MONTHS * p["s3_gb_month"],
        ),
        _flat("KMS", "1 key + about 100,000 requests", p["kms_key_month"] + 10 * p["kms_10k_requests"]),
        _flat("CloudWatch", "about 1 GB of logs, 3 alarm metrics", p["logs_gb_ingested"] + 3 * p["alarm_metric_month"]),
        ("Secrets Manager", "1 secret (upload signing) + 1 with a cloud LLM", p["secret_month"], 2 * p["secret_month"]),
        _flat("ECR", "about 5 GB of images kept", 5 * p["ecr_gb_month"]),
    ]


def stream_consumer(p: dict[str, float], seconds: float = 0.2, gb: float = 0.5) -> float:
    """The live-events consumer: a Lambda invoked per batch of table-stream records."""
    return STREAM_BATCHES * seconds * gb * p["lambda_gb_second"] + STREAM_BATCHES / 1e6 * p["lambda_million_requests"]


def lambda_api(p: dict[str, float], requests: float = 50_000, seconds: float = 0.3, gb: float = 2) -> float:
    """The REST API on Lambda + HTTP API instead of the API task."""
    million = requests / 1e6
    return (
        requests * seconds * gb * p["lambda_gb_second"]
        + million * p["lambda_million_requests"]
        + million * p["http_api_million_requests"]
    )


def main() -> None:
    """Print the table (markdown) and the variants."""
    prices = tomllib.loads((Path(__file__).with_name("prices.toml")).read_text())
    p = {k: float(v) for k, v in prices.items() if isinstance(v, int | float)}
    rows = estimate(p)
    print(f"prices: {prices['region']}, {prices['as_of']}\n")
    print("| item | sizing | per month (USD) |\n|---|---|---|")
    for item, sizing, low, high in rows:
        print(f"| {item} | {sizing} | {low:.2f} |" if low == high else f"| {item} | {sizing} | {low:.2f}-{high:.2f} |")
    low, high = sum(r[2] for r in rows), sum(r[3] for r in rows)
    api_task, worker = rows[1][2], rows[2][2]
    spot_saving = worker * p["fargate_spot_discount"]
    lean_low = low - api_task + lambda_api(p) - spot_saving
    lean_high = high - api_task + lambda_api(p) - spot_saving
    print(f"| total | | {low:.2f}-{high:.2f} |")
    print(f"| API as Lambda instead of the API task | | {lambda_api(p):.2f} (saves {api_task - lambda_api(p):.2f}) |")
    print(f"| worker on Fargate Spot | | saves {spot_saving:.2f} |")
    print(f"| lean variant (Lambda API, Spot worker) | | {lean_low:.2f}-{lean_high:.2f} |")
    minutes = CONSULTATIONS * MINUTES * DAYS
    print(f"\ncloud engines, {minutes} minutes and {SCANS * DAYS} pages a month:")
    print(
        f"  Transcribe Medical {minutes * p['transcribe_medical_minute']:.2f}, standard {minutes * p['transcribe_minute']:.2f}"
    )
    print(f"  Textract {SCANS * DAYS * p['textract_page']:.2f}")
    drafts = CONSULTATIONS * DAYS
    per_draft = 3000 / 1e6 * p["bedrock_haiku_input_million"] + 1000 / 1e6 * p["bedrock_haiku_output_million"]
    print(f"  Bedrock Claude Haiku 4.5 drafts {drafts * per_draft:.2f}")


if __name__ == "__main__":
    main()
