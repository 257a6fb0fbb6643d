"""nbval runs the lessons in fresh kernels: keep them away from real AWS and from a user's sandbox."""

import os
import tempfile

for _var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_var, None)
os.environ.setdefault("SFNECS_HOME", tempfile.mkdtemp(prefix="sfnecs-nbval-home-"))
os.environ.pop("MPLBACKEND", None)  # kernels show figures inline by default, as in JupyterLab
