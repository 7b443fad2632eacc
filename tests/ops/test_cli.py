"""The command line of CONTRACTS.md §3 for accounts and demo data."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from dispatch.extensions import db
from dispatch.identity import normalise_mobile, parse_id_number
from dispatch.models import Coach, County, Site, User, Worker


def test_demo_load_is_idempotent_and_valid(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "200 workers added" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert "0 workers added" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Worker)) == 200
        assert db.session.scalar(select(func.count()).select_from(County)) == 17
        assert db.session.scalar(select(func.count()).select_from(Site)) == 29
        workers = db.session.scalars(select(Worker)).all()
        for worker in workers:
            assert parse_id_number(worker.id_number).value == worker.id_number
            assert normalise_mobile(worker.phone) == worker.phone
            assert worker.id_number.startswith("1410")
            assert worker.earliest_date <= worker.latest_date
        groups = {w.group_code for w in workers if w.group_code}
        assert len(groups) >= 10
        # A campaign's day: the plains counties send people, the mountain counties come later.
        assert len({w.county_id for w in workers}) >= 9
        for coach in db.session.scalars(select(Coach)):
            assert coach.driver1 and coach.driver2 and coach.plate.startswith("晋L")


def test_demo_travels_around_the_day_asked(app):
    runner = app.test_cli_runner()
    assert (
        runner.invoke(args=["demo", "load", "--workers", "30", "--day", "2026-12-10"]).exit_code
        == 0
    )
    with app.app_context():
        days = {
            d for w in db.session.scalars(select(Worker)) for d in (w.earliest_date, w.latest_date)
        }
        assert min(days) >= date(2026, 12, 9) and max(days) <= date(2026, 12, 13)
    assert runner.invoke(args=["demo", "load", "--day", "10 Dec"]).exit_code != 0


def test_demo_without_workers_and_if_empty(app):
    runner = app.test_cli_runner()
    assert "0 workers added" in runner.invoke(args=["demo", "load", "--workers", "0"]).output
    assert "not loaded" in runner.invoke(args=["demo", "load", "--if-empty"]).output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Worker)) == 0
        assert db.session.scalar(select(func.count()).select_from(Coach)) == 13


def test_users_create_generates_or_reads_password(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "load", "--workers", "0"])
    generated = runner.invoke(args=["users", "create", "admin", "--role", "admin"], input="")
    assert generated.exit_code == 0 and "Password for admin:" in generated.output
    password = generated.output.split("Password for admin: ")[1].split()[0]
    typed = runner.invoke(
        args=["users", "create", "hong", "--role", "coordinator", "--county", "hongtong"],
        input="typed-password\n",
    )
    assert typed.exit_code == 0 and "typed-password" not in typed.output
    again = runner.invoke(args=["users", "create", "admin", "--role", "admin", "--if-missing"])
    assert again.exit_code == 0 and again.output == ""
    with app.app_context():
        assert db.session.scalar(select(User).filter_by(username="admin")).check_password(password)
        hong = db.session.scalar(select(User).filter_by(username="hong"))
        assert hong.check_password("typed-password") and hong.county_ids() == {"hongtong"}


def test_users_create_refuses_bad_input(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "load", "--workers", "0"])
    no_county = runner.invoke(args=["users", "create", "c", "--role", "coordinator"], input="")
    assert no_county.exit_code != 0 and "--county" in no_county.output
    unknown = runner.invoke(
        args=["users", "create", "c", "--role", "coordinator", "--county", "atlantis"], input=""
    )
    assert unknown.exit_code != 0 and "atlantis" in unknown.output


def test_tokens_create_prints_a_working_token(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "load", "--workers", "0"])
    runner.invoke(args=["users", "create", "admin", "--role", "admin"], input="")
    result = runner.invoke(args=["tokens", "create", "admin"])
    token = result.output.strip()
    assert token.startswith("dsp_")
    from dispatch.services.accounts import user_for_token

    with app.app_context():
        assert user_for_token(token).username == "admin"
    assert runner.invoke(args=["tokens", "create", "nobody"]).exit_code != 0
