"""Every form the app serves, submitted with hostile values, on SQLite and PostgreSQL.

The forms are found as a person finds them: log in (an admin and a county coordinator), follow
the links from the navigation to the detail pages, and read each page's HTML forms. Each form is
then submitted with values drawn by Hypothesis from what breaks web apps: NUL and control
characters, lone surrogates, CR/LF, huge numbers, 10 kB text, ``../``, SQL-ish quotes. No answer
may be a 5xx, and no NUL, control character or surrogate may end up stored.
"""

from __future__ import annotations

import io
import re
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, String, Text, func, select

from dispatch.extensions import db
from dispatch.web import unstorable_text
from tests.support.apps import ADMIN_PASSWORD, COORD_PASSWORD, login, make_app, seed_demo

BUDGET_S = 10  # per database, for the fuzzing itself: the whole file stays under a minute
START_PAGES = [
    "/login",
    "/",
    "/workers/",
    "/workers/new",
    "/workers/import",
    "/plans/",
    "/boarding/",
    "/messages/",
    "/workers/audit",
    "/admin/users/",
]
SKIP_LINKS = re.compile(r"^/(static|m)/|/logout|\.(xlsx|csv|pdf|svg)(\?|$)|/export")
HOSTILE = [
    "\x00",
    "a\x00b",
    "\x01\x02\x1b[31m",
    "\x7f",
    "\x85",
    "\ud800",
    "x\udfffy",
    "\r\n",
    "张三\r\nSet-Cookie: x=1",
    "../../../etc/passwd",
    "..\\..\\windows",
    "' OR '1'='1",
    '"; DROP TABLE worker; --',
    "9" * 30,
    str(2**63),
    str(2**31),
    "-1",
    "0",
    "1e309",
    "NaN",
    "x" * 10_000,
    "张" * 5_000,
    "%00",
    "<script>alert(1)</script>",
    "2026-02-30",
    "0000-00-00",
    "99999-01-01",
    "",
    " ",
    "\t",
    "//evil.example",
    "/\t/evil.example",
]


@dataclass
class Form:
    """A form as a browser would submit it: where, how, and its fields with their choices."""

    action: str
    method: str
    multipart: bool
    fields: dict[str, list[str]] = field(default_factory=dict)  # name → values offered
    files: list[str] = field(default_factory=list)


class FormParser(HTMLParser):
    """The forms of one page."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url, self.forms, self._select = page_url, [], None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urljoin(self.page_url, a.get("action") or self.page_url)
            self.forms.append(
                Form(action, a.get("method", "get").lower(), "multipart" in a.get("enctype", ""))
            )
        elif self.forms and a.get("name"):
            self._field(tag, a)
        elif tag == "option" and self._select and self.forms:
            self.forms[-1].fields[self._select].append(a.get("value", ""))

    def _field(self, tag: str, a: dict) -> None:
        form, name = self.forms[-1], a["name"]
        if tag == "input" and a.get("type") == "file":
            form.files.append(name)
        elif tag in ("input", "textarea", "button"):
            form.fields.setdefault(name, []).append(a.get("value", ""))
        elif tag == "select":
            form.fields.setdefault(name, [])
            self._select = name

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def crawl(client, skip: re.Pattern) -> list[Form]:
    """Forms on the pages reachable from the start pages, three pages of each shape at most,
    but for those posting to a path ``skip`` matches."""
    seen, shapes, forms, queue = set(), {}, {}, list(START_PAGES)
    while queue and len(seen) < 70:
        url = queue.pop(0)
        shape = re.sub(r"\d+", "N", urlsplit(url).path)
        if url in seen or shapes.get(shape, 0) >= 3:
            continue
        seen.add(url)
        shapes[shape] = shapes.get(shape, 0) + 1
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        queue += [link for link in _links(url, html) if link not in seen]
        parser = FormParser(url)
        parser.feed(html)
        for form in parser.forms:
            if form.method == "post" and skip.search(urlsplit(form.action).path):
                continue
            forms.setdefault((form.method, re.sub(r"\d+", "N", urlsplit(form.action).path)), form)
    return list(forms.values())


def _links(page: str, html: str) -> list[str]:
    links = []
    for href in re.findall(r'href="([^"#]+)', html):
        url = urljoin(page, href.replace("&amp;", "&"))
        parts = urlsplit(url)
        if not parts.netloc and not SKIP_LINKS.search(url):
            links.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return links


HUGE_NUMBERS = [str(2**31), str(2**40), str(2**63), "9" * 30, "-1", "0", "1.5"]


def value_for(offered: list[str]):
    """A field's value: one it offers, a hostile one, a number no id has, or random text with
    control characters."""
    choices = [st.sampled_from(offered)] if offered else []
    return st.one_of(
        *choices,
        st.sampled_from(HOSTILE),
        st.sampled_from(HUGE_NUMBERS),
        st.text(st.characters(max_codepoint=0x9F), max_size=30),
    )


def submit(client, form: Form, values: dict[str, str]):
    """Send ``values`` as the browser would encode them (a lone surrogate as its raw bytes)."""
    path = urlsplit(form.action).path
    if form.multipart:
        data = {
            k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
            for k, v in values.items()
        }
        for name in form.files:  # a worker list whose first name is the drawn value
            text = f"姓名,身份证号,手机号,户籍县区\n{values.get('file', 'x')},110101199003077777,13800138000,hongtong\n"
            data[name] = (io.BytesIO(text.encode("utf-8", "surrogatepass")), "workers.csv")
        return client.post(path, data=data, content_type="multipart/form-data")
    body = urlencode(list(values.items()), encoding="utf-8", errors="surrogatepass")
    if form.method == "get":
        return client.get(f"{path}?{body}")
    return client.post(path, data=body, content_type="application/x-www-form-urlencoded")


class IdleExecutor:
    """Stands in for the planner thread: a plan form submitted here starts no CPU-heavy run."""

    def submit(self, *_args, **_kwargs) -> Future:
        return Future()

    def shutdown(self, *_args, **_kwargs) -> None:
        pass


@pytest.fixture(params=["sqlite", "postgres"])
def site(request, tmp_path):
    """A small published demo on either database, with a third account for the admin forms."""
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
    uri = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    # No rate limits (the fuzzed login form would lock us out); a 500 is an answer to collect.
    app = make_app(tmp_path, uri, RATELIMIT_ENABLED=False, PROPAGATE_EXCEPTIONS=False)
    with app.app_context():
        seed_demo(workers=20)
        from dispatch.services import accounts

        accounts.create_user("victim", "coordinator", "victim-pass-123", ["hongtong", "xixian"])
        db.session.commit()
    _publish_a_plan(app)
    app.extensions["planner_executor"] = IdleExecutor()
    yield app
    with app.app_context():
        db.engine.dispose()


def _publish_a_plan(app) -> None:
    from dispatch.models import Worker

    with app.app_context():
        first, last = db.session.execute(
            select(func.min(Worker.earliest_date), func.max(Worker.latest_date))
        ).one()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "plan",
            "run",
            "--from",
            first.isoformat(),
            "--to",
            (first + timedelta(days=2)).isoformat(),
            "--time-limit",
            "2",
        ]
    )
    assert result.exit_code == 0, result.output
    plan_id = result.output.split()[0]
    assert runner.invoke(args=["plan", "publish", plan_id]).exit_code == 0


def _user_id(app, username: str) -> int:
    from dispatch.models import User

    with app.app_context():
        return db.session.scalar(select(User.id).filter_by(username=username))


def _stored_hostile_text(app) -> list[str]:
    """Table.column: value for every stored text holding NUL, control characters or surrogates."""
    found = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, String | Text | JSON):
                    for value in db.session.scalars(select(column)):
                        if unstorable_text(value):
                            found.append(f"{table.name}.{column.name}: {value!r:.80}")
    return found


def test_no_form_breaks_with_hostile_input(site):
    accounts = {"admin": ADMIN_PASSWORD, "hong": COORD_PASSWORD}
    clients = {name: site.test_client() for name in accounts}
    # Forms that would end the fuzzing users' own sessions: logging out, their own accounts.
    ours = re.compile(
        rf"^/logout|^/admin/users/({_user_id(site, 'admin')}|{_user_id(site, 'hong')})/"
    )
    forms = []
    for name, client in clients.items():
        login(client, name, accounts[name])
        forms += [(name, f) for f in crawl(client, ours)]
    actions = {re.sub(r"\d+", "N", urlsplit(f.action).path) for _, f in forms}
    assert {
        "/login",
        "/workers/new",
        "/plans/",
        "/admin/users/",
        "/admin/users/N/password",
    } <= actions, sorted(actions)
    failures: list[str] = []

    def round_of(draw) -> None:
        for name, client in clients.items():
            login(client, name, accounts[name])  # a fuzzed form may have logged this user out
        for name, form in forms:
            values = {k: draw(value_for(offered), k) for k, offered in form.fields.items()}
            if form.files:
                values["file"] = draw(value_for([]), "file")
            response = submit(clients[name], form, values)
            if response.status_code >= 500:
                shown = {k: f"{v!r:.40}" for k, v in values.items()}
                failures.append(
                    f"{name} {form.method.upper()} {form.action} {shown} → {response.status_code}"
                )
            response.close()

    started = time.monotonic()
    round_of(lambda _strategy, _label: "\x00")  # one round by hand tells how many fit the budget
    # Drawn rounds take longer than that one (10 kB values, more paths reached): 1.5 times.
    rounds = max(3, int(BUDGET_S / max(1.5 * (time.monotonic() - started), 0.01)))

    @settings(
        max_examples=rounds,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def fuzz(data) -> None:
        round_of(lambda strategy, label: data.draw(strategy, label=label))

    fuzz()
    assert failures == [], "\n".join(failures)
    assert _stored_hostile_text(site) == []
