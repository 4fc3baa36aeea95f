"""``python -m backend.worker``: a worker process consuming the job queue (see :mod:`backend.worker.loop`)."""

import sys

from backend.worker.loop import main

sys.exit(main())
