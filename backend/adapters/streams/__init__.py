"""Table streams: DynamoDB Streams records -> the change feed (a service of its own, with its own rights)."""
