# Clinical Co-Pilot: the Streamlit app with offline engines. Build: docker build -t clinical-copilot .
# The REST API alone: docker build --target api -t clinical-copilot-api . (the same image, another command).
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    COPILOT_DATA_DIR=/data

# Fonts for the printable patient summary (Latin and Devanagari).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-noto-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 copilot && mkdir -p /data && chown copilot /data
WORKDIR /app

# The runtime lock: every package pinned with its hashes (requirements.txt is the input of `make lock`).
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock && pip check

COPY --chown=copilot . .
USER copilot
# Fetch and verify the offline speech model into the image's data dir at build time.
RUN python -m backend provision --dest /app/models/faster-whisper-base
ENV COPILOT_WHISPER_MODEL=/app/models/faster-whisper-base

# Real data only: no demo accounts. While no account exists the server prints a one-time setup token
# (see `docker logs`; also /data/setup-token, owner-only) that the sign-in page asks for before it creates the
# first administrator; or run: docker exec -it <container> python -m backend users add NAME --role admin
ENV COPILOT_DEMO=0

# The REST API (uvicorn; OpenAPI at /openapi.json, docs at /docs); tokens: python -m backend tokens create NAME
FROM base AS api
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/v1/health', timeout=4).status == 200 else 1)"
CMD ["python", "-m", "backend", "api", "--host", "0.0.0.0", "--port", "8000"]

# The web app (the default target: the last stage).
FROM base AS ui
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status == 200 else 1)"
# Inside the container 0.0.0.0 is needed for the published port; the host decides who reaches it
# (publish on one interface: docker run -p 127.0.0.1:8501:8501 ..., and put HTTPS in front, see SECURITY.md).
CMD ["python", "-m", "streamlit", "run", "streamlit_app.py", "--server.port=8501", "--server.address=0.0.0.0"]
