"""Honest small implementations of every port, one module per port, for unit tests.

Each fake runs through the same contract suite as the real adapters (``tests/integration/contract``; the LLM
client through the shared engine checks, ``tests/integration/test_llm_engines_shared.py``), so a unit
test that passes on a fake means what it would mean on SQLite, DynamoDB, S3 or SQS:

- ``records``: patients, users, audit, notes, history, metrics, jobs, api tokens (``fake_record_store()``)
- ``blobs``: the content-addressed blob store
- ``queue``: the job queue with visibility timeouts on an injected clock
- ``clock``: the clock the queue (and a test) moves
- ``audio``: the audio codec over 16-bit PCM WAV
- ``speech``: a transcriber (and span transcriber) that plays back a script
- ``ocr``: an OCR engine that reads the pages it was shown
- ``llm``: an LLM client (``StructuredLlm``) whose replies, throttling and outages the test scripts
"""
