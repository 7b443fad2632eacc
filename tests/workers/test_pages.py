"""The registry's pages: register, duplicates, list, search, filters, edit, withdraw, audit."""

from __future__ import annotations

import re

from dispatch.extensions import db
from dispatch.models import Worker
from tests.support.apps import COORD_PASSWORD, login
from tests.support.workers import audit_actions, id_number, worker_count, worker_row, workers_where


def _form(n: int, **changes) -> dict:
    return {k: v for k, v in worker_row(n, **changes).items() if v != ""}


def test_the_form_has_every_field(admin_client):
    # Chinese labels come from the catalogue, which tests/web/test_i18n.py checks as a whole.
    html = admin_client.get("/workers/new").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    for name in worker_row():
        assert f'name="{name}"' in html, name


def test_register_then_the_list_shows_the_worker_masked(admin_client, demo_app):
    response = admin_client.post("/workers/new", data=_form(1, name="登记甲"))
    assert response.status_code == 302
    [worker] = workers_where(demo_app, id_number=id_number(1))
    assert worker.phone == "+8613903570001" and worker.pickup_site_id == "hongtong"
    html = admin_client.get("/workers/?q=登记甲").get_data(as_text=True)
    assert "登记甲" in html and "1410**********" + id_number(1)[-4:] in html
    assert id_number(1) not in html and "13903570001" not in html
    assert "worker.create" in audit_actions(demo_app)


def test_errors_name_their_fields_and_keep_what_was_typed(admin_client, demo_app):
    before = worker_count(demo_app)
    data = _form(2, name="错误乙", phone="0357-2345678", id_number=id_number(2)[:17] + "Y")
    html = admin_client.post("/workers/new", data=data).get_data(as_text=True)
    assert 'id="err-phone"' in html and 'id="err-id_number"' in html
    assert 'id="err-name"' not in html
    assert 'value="错误乙"' in html
    assert worker_count(demo_app) == before


def test_registering_an_id_again_shows_the_existing_worker(admin_client, demo_app):
    admin_client.post("/workers/new", data=_form(3, name="原来的"))
    [worker] = workers_where(demo_app, id_number=id_number(3))
    response = admin_client.post(
        "/workers/new", data=_form(3, name="重复的", id_number=id_number(3).lower())
    )
    assert response.status_code == 302 and response.location.endswith(f"/workers/{worker.id}")
    assert len(workers_where(demo_app, id_number=id_number(3))) == 1
    assert "原来的" in admin_client.get(response.location).get_data(as_text=True)


def test_a_withdrawn_id_number_is_registered_again_only_in_its_county_and_errors_keep_the_offer(
    admin_client, demo_app
):
    withdrawn = {}
    for n, county in ((5, "hongtong"), (6, "yaodu")):
        admin_client.post("/workers/new", data=_form(n, name=f"撤销{n}", county=county))
        [worker] = workers_where(demo_app, id_number=id_number(n))
        admin_client.post(f"/workers/{worker.id}/withdraw")
        withdrawn[county] = worker.id
    hong = demo_app.test_client()
    login(hong, "hong", COORD_PASSWORD)

    mistake = _form(5, name="撤销5新", phone="0357-1234567", reregister=withdrawn["hongtong"])
    html = hong.post("/workers/new", data=mistake).get_data(as_text=True)
    assert 'id="err-phone"' in html and 'value="撤销5新"' in html
    assert 'id="withdrawn-match"' in html and "撤销5，其登记已撤销" in html  # still offered
    elsewhere = _form(6, name="别县的", reregister=withdrawn["yaodu"])
    html = hong.post("/workers/new", data=elsewhere).get_data(as_text=True)
    assert "该身份证号已由其他县区人社局登记" in html and 'id="withdrawn-match"' not in html
    for n in (5, 6):
        [worker] = workers_where(demo_app, id_number=id_number(n))
        assert (worker.status, worker.name) == ("cancelled", f"撤销{n}")  # nothing changed


def test_search_by_name_phone_and_last_digits_of_id(admin_client, demo_app):
    admin_client.post("/workers/new", data=_form(4, name="搜索丙"))
    for q in ("搜索丙", "13903570004", id_number(4)[-6:]):
        html = admin_client.get("/workers/", query_string={"q": q}).get_data(as_text=True)
        assert "搜索丙" in html, q
    middle = id_number(4)[6:12]  # digits from the middle are not a "last digits" match
    html = admin_client.get("/workers/", query_string={"q": middle}).get_data(as_text=True)
    assert "搜索丙" not in html


def _listed_total(html: str) -> int:
    return int(re.search(r'<span class="muted">\((\d+)\)</span>', html).group(1))


def test_filters_narrow_the_list(admin_client, demo_app):
    with demo_app.app_context():
        q = db.session.query(Worker)
        hongtong = q.filter_by(county_id="hongtong").count()
        kunshan = q.filter_by(destination_site_id="js-kunshan").count()
        on_day = q.filter(
            Worker.earliest_date <= "2026-03-03", Worker.latest_date >= "2026-03-03"
        ).count()

    def total(**args):
        return _listed_total(
            admin_client.get("/workers/", query_string=args).get_data(as_text=True)
        )

    assert total() == worker_count(demo_app) == 200
    assert total(county="hongtong") == hongtong
    assert total(destination="js-kunshan") == kunshan
    assert total(day="2026-03-03") == on_day < 200
    assert total(status="cancelled") == 0


def test_pagination_shows_fifty_per_page(admin_client):
    first = admin_client.get("/workers/").get_data(as_text=True)
    last = admin_client.get("/workers/?page=4").get_data(as_text=True)
    assert first.count('<td class="mono">') == 100  # 50 rows, two masked cells each
    assert last.count('<td class="mono">') == 100 and 'rel="next"' not in last
    assert 'rel="next"' in first
    assert (
        admin_client.get("/workers/?page=5").get_data(as_text=True).count('<td class="mono">') == 0
    )


def test_edit_changes_fields_and_is_audited(admin_client, demo_app):
    admin_client.post("/workers/new", data=_form(5))
    [worker] = workers_where(demo_app, id_number=id_number(5))
    data = _form(5, phone="139 0357 0099", destination="js-wuxi", sms_consent="否")
    assert admin_client.post(f"/workers/{worker.id}", data=data).status_code == 302
    [worker] = workers_where(demo_app, id=worker.id)
    assert worker.phone == "+8613903570099" and worker.destination_site_id == "js-wuxi"
    assert worker.sms_consent is False
    assert "worker.update" in audit_actions(demo_app)


def test_withdraw_keeps_the_record_as_cancelled(admin_client, demo_app):
    admin_client.post("/workers/new", data=_form(6))
    [worker] = workers_where(demo_app, id_number=id_number(6))
    assert admin_client.post(f"/workers/{worker.id}/withdraw").status_code == 302
    [worker] = workers_where(demo_app, id=worker.id)
    assert worker.status == "cancelled"
    assert "worker.withdraw" in audit_actions(demo_app)
    # and a withdrawn worker can no longer be changed
    admin_client.post(f"/workers/{worker.id}", data=_form(6, name="改名"))
    assert workers_where(demo_app, id=worker.id)[0].name == worker.name
    # until registered again: the ID number stays this record's, so registering it anew keeps
    # the form as typed and offers that, with a link here, where the page offers it too
    again = admin_client.post("/workers/new", data=_form(6))
    assert 'id="withdrawn-match"' in again.text and f'href="/workers/{worker.id}"' in again.text
    assert 'id="reinstate"' in admin_client.get(f"/workers/{worker.id}").text
    assert admin_client.post(f"/workers/{worker.id}/reinstate").status_code == 302
    assert workers_where(demo_app, id=worker.id)[0].status == "registered"
    assert "worker.reinstate" in audit_actions(demo_app)
    # a second click says so and changes nothing
    html = admin_client.post(f"/workers/{worker.id}/reinstate", follow_redirects=True).text
    assert "is not withdrawn" in html or "未被撤销" in html
    assert audit_actions(demo_app).count("worker.reinstate") == 1


def test_an_anonymised_withdrawn_worker_is_not_registered_again(admin_client, demo_app):
    from dispatch.models.types import utcnow

    admin_client.post("/workers/new", data=_form(5))
    [worker] = workers_where(demo_app, id_number=id_number(5))
    admin_client.post(f"/workers/{worker.id}/withdraw")
    with demo_app.app_context():
        db.session.get(Worker, worker.id).anonymised_at = utcnow()
        db.session.commit()
    html = admin_client.post(f"/workers/{worker.id}/reinstate", follow_redirects=True).text
    assert (
        "An anonymised worker cannot be reinstated." in html or "已匿名化的人员无法恢复登记" in html
    )
    assert workers_where(demo_app, id=worker.id)[0].status == "cancelled"


def test_coordinator_sees_and_registers_only_in_own_county(hong_client, demo_app):
    [other] = workers_where(demo_app, county_id="xixian")[:1]
    assert hong_client.get(f"/workers/{other.id}").status_code == 404
    assert hong_client.post(f"/workers/{other.id}/withdraw").status_code == 404
    assert hong_client.post(f"/workers/{other.id}/reinstate").status_code == 404
    html = hong_client.get("/workers/").get_data(as_text=True)
    assert _listed_total(html) == len(workers_where(demo_app, county_id="hongtong"))
    html = hong_client.post("/workers/new", data=_form(7, county="xixian")).get_data(as_text=True)
    assert 'id="err-county"' in html
    assert not workers_where(demo_app, id_number=id_number(7))
    assert hong_client.post("/workers/new", data=_form(7)).status_code == 302


def test_viewer_reads_but_cannot_write(viewer_client, demo_app):
    [worker] = workers_where(demo_app, county_id="hongtong")[:1]
    assert viewer_client.get("/workers/").status_code == 200
    assert viewer_client.get("/workers/new").status_code == 403
    assert viewer_client.post("/workers/new", data=_form(8)).status_code == 403
    assert viewer_client.post(f"/workers/{worker.id}", data=_form(8)).status_code == 403
    assert viewer_client.post(f"/workers/{worker.id}/withdraw").status_code == 403
    assert viewer_client.post(f"/workers/{worker.id}/reinstate").status_code == 403
    assert viewer_client.get("/workers/import").status_code == 403
    html = viewer_client.get(f"/workers/{worker.id}").get_data(as_text=True)
    assert worker.id_number not in html and worker.phone not in html  # masked for viewers
    assert '<fieldset class="plain" disabled>' in html


def test_audit_page_is_for_admins_only(client, demo_app):
    from tests.support.apps import COORD_PASSWORD, login

    login(client, "hong", COORD_PASSWORD)
    client.post("/workers/new", data=_form(9, name="审计丁"))
    assert client.get("/workers/audit").status_code == 403
    client.get("/logout")
    login(client)
    html = client.get("/workers/audit").get_data(as_text=True)
    assert "worker.create" in html and "hong" in html


def test_a_page_number_past_the_end_is_an_empty_page(admin_client):
    response = admin_client.get("/workers/?page=99999999999999999999999")
    assert response.status_code == 200
