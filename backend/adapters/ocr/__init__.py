"""OCR engines: RapidOCR (offline) and Amazon Textract."""
