"""gunicorn settings for dispatch: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app``.

Every value can be overridden on the command line or by GUNICORN_CMD_ARGS. The web
processes never run the scheduler: ``create_app`` does not start it (only ``flask serve``
does), so run exactly one ``flask --app dispatch scheduler run`` beside them.
"""

import multiprocessing
import os

# Loopback only: nginx in front terminates TLS (deploy/nginx.conf).
bind = os.environ.get("DISPATCH_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"  # one request at a time per process; nginx buffers slow clients
# A plan started from the web runs in a thread of the worker that took the request
# (dispatch/services/plan_runner.py): no max_requests, so workers are not recycled mid-plan.
timeout = 60
graceful_timeout = 30
keepalive = 5
# The app applies X-Forwarded-* itself (PROXY_COUNT); gunicorn trusts only the local proxy.
forwarded_allow_ips = "127.0.0.1,::1"
accesslog = "-"
# The common format plus the time the request took in the worker (ms), for bench/load.py too.
access_log_format = '%(h)s - %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
errorlog = "-"
