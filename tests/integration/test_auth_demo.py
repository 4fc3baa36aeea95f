"""Demo accounts exist only in a demo database: seeding refuses real data, never resets a changed password,
and the sign-in page says when it is a demo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backend.__main__ import main
from backend.adapters.records.sqlite import open_sqlite_store
from backend.config import Settings
from backend.domain.errors import AuthenticationFailed, ValidationFailed
from backend.domain.models import Patient, Role
from backend.ports import RecordStore
from backend.services import auth
from backend.services.demo import NOT_A_DEMO, demo_accounts, is_demo_database, seed_demo
from tests.conftest import ROOT
from tests.helpers.apptest import app_env
from tests.helpers.passwords import use_cheap_hashes


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests check which accounts exist, not argon2's cost.
    use_cheap_hashes(monkeypatch)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    with app_env(tmp_path, {"COPILOT_DEMO": "1"}):  # as under `make run`
        yield tmp_path


def _stores(data_dir: Path) -> RecordStore:
    return open_sqlite_store(Settings(data_dir=data_dir).db_path)


def _real_patient() -> Patient:
    return Patient(patient_id="PAT_0a1b2c3d", name="Real Person", phone="+919800000001", created_by="asha")


def test_seeding_a_database_with_real_patients_is_refused_and_writes_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stores = _stores(data_dir)
    stores.patients.add(_real_patient())
    with pytest.raises(ValidationFailed) as caught:
        seed_demo(stores)
    assert caught.value.message == NOT_A_DEMO
    assert main(["seed-demo"]) == 2  # what `make run` calls: it stops with the message
    assert NOT_A_DEMO in capsys.readouterr().err
    assert stores.users.list_all() == []
    assert stores.patients.count() == 1
    assert not is_demo_database(stores)


def test_a_real_account_named_like_a_demo_account_is_not_taken_for_one(data_dir: Path) -> None:
    stores = _stores(data_dir)
    auth.add_user(stores, "admin", "the clinic's own password", Role.ADMIN)
    with pytest.raises(ValidationFailed, match="not demo data"):
        seed_demo(stores)
    assert [u.username for u in stores.users.list_all()] == ["admin"]
    with pytest.raises(AuthenticationFailed):
        auth.login(stores, "admin", "admin-demo")


def test_reseeding_a_demo_database_keeps_changed_passwords_and_new_patients(data_dir: Path) -> None:
    stores = _stores(data_dir)
    assert seed_demo(stores, days=30) == 20
    assert is_demo_database(stores)
    auth.set_password(stores, None, "doctor", "a changed password")
    stores.patients.add(_real_patient())  # registered during the demo: still a demo database
    assert seed_demo(stores, days=30) == 0
    with pytest.raises(AuthenticationFailed):
        auth.login(stores, "doctor", "doctor-demo")
    assert auth.login(stores, "doctor", "a changed password").username == "doctor"
    assert [e.action for e in stores.audit.query(actor="(demo seed)").items] == ["demo.seed"]


def test_demo_accounts_seeded_before_databases_were_marked_still_count_as_demo(data_dir: Path) -> None:
    stores = _stores(data_dir)
    for a in demo_accounts():
        auth.ensure_user(stores, a.username, a.password, Role(a.role), a.display_name)
    assert not is_demo_database(stores)
    assert seed_demo(stores, days=30) == 20
    assert is_demo_database(stores)


def test_sign_in_page_says_demo_only_for_a_demo_database(data_dir: Path) -> None:
    stores = _stores(data_dir)
    auth.add_user(stores, "root", "a long admin password", Role.ADMIN)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    texts = " ".join(m.value for m in at.markdown)
    assert "Demo accounts" not in texts and "demo" not in " ".join(w.value for w in at.warning).lower()

    demo_dir = data_dir / "demo"
    seed_demo(_stores(demo_dir), days=30)
    import streamlit as st

    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COPILOT_DATA_DIR", str(demo_dir))
        at.run()
        assert not at.exception
        assert any("Demo" in w.value and "published" in w.value for w in at.warning)
        assert "Demo accounts" in " ".join(m.value for m in at.markdown)
        # Unknown and known accounts get the same answer on the page.
        errors = []
        for name in ("doctor", "no-such-user"):
            at.text_input(key="login_username").set_value(name)
            at.text_input(key="login_password").set_value("not the password")
            at.button[0].click().run()
            errors.append([e.value for e in at.error])
        assert errors[0] == errors[1] == ["Wrong username or password."]
