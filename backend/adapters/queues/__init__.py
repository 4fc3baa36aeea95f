"""Job queues: the local SQLite queue and Amazon SQS."""
