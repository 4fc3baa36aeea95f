"""The job worker: its loop, the in-process local worker and the app's background start-up."""
