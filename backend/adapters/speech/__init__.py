"""Speech-to-text engines: faster-whisper (offline), PocketSphinx, Amazon Transcribe, Gemini."""
