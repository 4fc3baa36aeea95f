"""Record stores: SQLite (local) and DynamoDB (AWS), one package each."""
