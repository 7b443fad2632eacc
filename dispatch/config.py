"""Configuration defaults (CONTRACTS.md §2).

Layering: these defaults, then ``instance/config.py``, then ``DISPATCH_<KEY>``
environment variables, then the mapping given to ``create_app`` (tests).
"""

from __future__ import annotations

TIMEZONE = "Asia/Shanghai"

SQLALCHEMY_DATABASE_URI: str | None = None  # None: SQLite file in instance/
SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

SMS_BACKEND = "console"
TWILIO_ACCOUNT_SID: str | None = None
TWILIO_AUTH_TOKEN: str | None = None
TWILIO_FROM: str | None = None
TWILIO_MESSAGING_SERVICE_SID: str | None = None
TWILIO_BASE_URL = "https://api.twilio.com"
TWILIO_TIMEOUT_S = 10
# Alibaba Cloud SMS (SMS_BACKEND=aliyun): credentials, the address (http://127.0.0.1:PORT for a
# local stand-in), the registered signature, and each notice kind's approved template code as
# a JSON object; a kind without one is held, never sent as free text.
ALIYUN_ACCESS_KEY_ID: str | None = None
ALIYUN_ACCESS_KEY_SECRET: str | None = None
ALIYUN_SMS_ENDPOINT = "dysmsapi.aliyuncs.com"
ALIYUN_SMS_SIGN_NAME = "临汾人社"
ALIYUN_SMS_TEMPLATES: str | dict | None = None
ALIYUN_CONNECT_TIMEOUT_S = 5
ALIYUN_READ_TIMEOUT_S = 10
# Aliyun's default frequency limits per number (same signature): sending holds rather than
# being refused with isv.BUSINESS_LIMIT_CONTROL. Raise them here when raised in the console.
ALIYUN_SMS_PER_NUMBER_LIMITS = "1/minute,5/hour,10/day"
# The secret in the SmsUp push address the console is given (replies from workers):
# PUBLIC_BASE_URL/webhooks/aliyun/inbound/<token>; unset, that address answers 404.
ALIYUN_SMS_CALLBACK_TOKEN: str | None = None
PUBLIC_BASE_URL = "http://127.0.0.1:5000"
PROXY_COUNT = 0  # reverse proxies in front (TLS terminator): 1 applies werkzeug's ProxyFix
SMS_SIGNATURE = "【临汾人社】"
SMS_QUIET_HOURS = "22:00-07:00"
SMS_MAX_PER_SECOND = 1
SMS_PRICE_PER_SEGMENT = 0.05  # CNY, for the cost estimate shown before publishing

SCHEDULER_ENABLED = False
SCHEDULER_TICK_S = 30
# Retention (PIPL): a worker's personal data is anonymised this many days after their trip
# (or their latest departure date / withdrawal when never carried); None turns the job off.
RETENTION_DAYS: int | None = 90
RETENTION_TIME = "03:30"  # local time of the scheduler's daily retention run
PLANNER_TIME_LIMIT_S = 30
# Planning workers (dispatch/jobs/planning_worker.py): plans run at once per worker process
# (None: one per two cores, at least one), how often a running plan beats its heartbeat, after
# how long without one it is taken up again, and how often an idle worker looks at the queue.
PLANNER_WORKERS: int | None = None
PLANNER_HEARTBEAT_S = 2.0
PLANNER_STALE_S = 30.0
PLANNER_POLL_S = 1.0
DEPARTURE_TIME = "08:00"  # local time a coach leaves its first pickup point

BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
LANGUAGES = ("zh_Hans_CN", "en")

# Security
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
SESSION_PROTECTION = "strong"
WTF_CSRF_TIME_LIMIT = 8 * 3600
MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # uploads (worker import files); larger → 413
API_MAX_BODY_BYTES = 64 * 1024  # a JSON body of the API; larger → 413
API_REQUESTS_PER_MINUTE = 600  # per API token; 0: no limit
LOGIN_FAILURES_PER_MINUTE = 5  # per address
LOGIN_FAILURES_PER_ACCOUNT = "10 per 10 minutes"  # per username, from any address
SESSION_IDLE_HOURS = 12  # a session unused this long ends
SESSION_MAX_HOURS = 24  # and every session ends this long after its login
# Rate-limit counters live in the database (dispatch/ratelimit.py), which every gunicorn
# worker shares; "memory://" keeps them per process (one process only).
RATELIMIT_STORAGE_URI = "database://"
RATELIMIT_HEADERS_ENABLED = True

# A plan with more buses than this lists one day at a time on its page, with the days to pick from.
PLAN_PAGE_BUSES = 150
# The comparison of a draft with the published plan names at most this many workers in each list.
COMPARE_ROWS = 200
# The plan page names at most this many unserved groups of the viewer's counties; the rest are counted.
UNSERVED_ROWS = 200
# Publishing a plan of more seats than this leaves its notices to the scheduler's next tick
# (SCHEDULER_TICK_S): a season's 200,000 notices took 45-50 s to write, near a request's 60 s.
PUBLISH_NOTICES_INLINE = 5000

# Emergency contact printed on manifests
EMERGENCY_PHONE = "0357-12333"

# The worker's own ticket (/ticket): POSTs a minute from one address (on top of the SMS
# codes' own limits), and how long an opened ticket stays open in that browser.
TICKET_REQUESTS_PER_MINUTE = 10
TICKET_SESSION_MINUTES = 30

# Self-registration (/join). Limits per client address; a job fair puts hundreds of phones
# behind one venue Wi-Fi or carrier NAT address, so they are wide: the per-number code limits
# (one a minute: VERIFY_CODE_INTERVAL_S; 5 an hour, 10 a day: services/verification.py) are
# what stops SMS pumping.
BUREAU_NAME = "临汾市人力资源和社会保障局"  # printed on the /join poster
VERIFY_CODES_PER_IP_HOUR = 60  # SMS codes (/join, /ticket) per address an hour
VERIFY_CODE_INTERVAL_S = 60  # seconds from one SMS code to the next, per number (/join's wait)
JOIN_PAGE_LIMIT = "120 per minute"  # GET /join, /join/done, /join/qr.svg
JOIN_SUBMIT_LIMIT = "120 per hour"  # POST /join (each code also allows only 5 tries)
JOIN_CODE_LIMIT = "100 per hour"  # POST /join/code, refused numbers included
JOIN_POSTER_LIMIT = "20 per minute"  # GET /join/poster.pdf (Chromium prints it)
RETENTION_PENDING_DAYS = 30  # a self-registration nobody accepted is anonymised after this

# Driver manifests: the driver's notice carries the signed manifest link (/m/<token>). Set
# false when the link's domain is not registered with the SMS provider (links to Chinese
# numbers are blocked otherwise); the notice then says to ask the coordinator for it.
DRIVER_SMS_LINK = True
# Per driver link, not per address: the phones at a bus stop share a carrier's address. A bus
# boards at most ~50; a queue of scans emptied after a dead spot sends them one after the other.
DRIVER_SCAN_LIMIT = "240 per minute"  # POST /m/<token>/scans
DRIVER_ARRIVAL_LIMIT = "30 per minute"  # POST /m/<token>/arrivals
# Chromium prints the manifest PDF; without it the PDF export answers 503 (browser print works).
CHROMIUM_PATH = "/usr/bin/chromium"
