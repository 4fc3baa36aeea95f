"""Blob stores: local files and Amazon S3."""
