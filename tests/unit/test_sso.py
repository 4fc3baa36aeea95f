"""Single sign-on: accounts bound to the provider's issuer + subject; signing out ends the SSO session too."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import streamlit as st

from backend.domain.errors import AuthenticationFailed
from backend.domain.models import Role, User
from backend.ports import RecordStore
from backend.services import auth, sessions
from backend.services.access import Principal
from ui import runtime

ISS = "https://login.example.org"
NOW = 1_700_000_000.0


def _claims(**over: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "email": "Ana@Clinic.example",
        "email_verified": True,
        "iss": ISS,
        "sub": "sub-ana",
        "iat": NOW - 60,
        "is_logged_in": True,
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def _user(stores: RecordStore, **over: object) -> User:
    fields: dict[str, object] = {"username": "ana@clinic.example", "role": Role.DOCTOR, "password_hash": "x"}
    fields.update(over)
    user = User.model_validate(fields)
    stores.users.add(user)
    return user


def _refusal(stores: RecordStore, claims: dict[str, object]) -> str:
    with pytest.raises(AuthenticationFailed) as caught:
        auth.principal_for_sso(stores, claims, now_s=NOW, max_age_s=1800)
    return caught.value.message


def _audit(stores: RecordStore) -> list[tuple[str, str]]:
    return [(e.action, e.detail) for e in reversed(stores.audit.query(actor="ana@clinic.example", limit=50).items)]


def test_first_verified_sign_in_binds_issuer_and_subject(stores: RecordStore) -> None:
    _user(stores)
    principal = auth.principal_for_sso(stores, _claims(), now_s=NOW, max_age_s=1800)
    assert principal == Principal("ana@clinic.example", Role.DOCTOR)
    stored = stores.users.get("ana@clinic.example")
    assert (stored.sso_issuer, stored.sso_subject) == (ISS, "sub-ana")
    assert [a for a, _ in _audit(stores)] == ["user.sso.bind", "auth.login.sso"]
    assert "sub-ana" not in " ".join(d for _, d in _audit(stores))  # the subject is kept only as a digest


def test_bound_account_signs_in_with_the_same_identity_even_unverified(stores: RecordStore) -> None:
    _user(stores, sso_issuer=ISS, sso_subject="sub-ana")
    version = stores.users.get("ana@clinic.example").version
    # The binding, not the e-mail flag, proves it is the same person once the account is bound.
    principal = auth.principal_for_sso(stores, _claims(email_verified=False), now_s=NOW, max_age_s=1800)
    assert principal.username == "ana@clinic.example"
    assert stores.users.get("ana@clinic.example").version == version  # nothing rewritten


def test_unverified_email_is_refused_and_not_bound(stores: RecordStore) -> None:
    _user(stores)
    for flag in (False, "false", None):
        message = _refusal(stores, _claims(email_verified=flag))
        assert "has not confirmed the e-mail address ana@clinic.example" in message
    stored = stores.users.get("ana@clinic.example")
    assert stored.sso_subject is None
    assert [a for a, _ in _audit(stores)] == ["auth.login.failed"] * 3
    assert all("reason=sso-unverified-email" in d for _, d in _audit(stores))


def test_string_true_counts_as_verified(stores: RecordStore) -> None:
    _user(stores)
    auth.principal_for_sso(stores, _claims(email_verified="true"))
    assert stores.users.get("ana@clinic.example").sso_subject == "sub-ana"


def test_another_subject_with_the_same_email_is_refused_and_audited(stores: RecordStore) -> None:
    _user(stores)
    auth.principal_for_sso(stores, _claims())
    assert _refusal(stores, _claims(sub="sub-mallory")) == auth.SSO_OTHER_IDENTITY
    action, detail = _audit(stores)[-1]
    assert action == "auth.login.failed" and "reason=sso-other-subject" in detail
    assert stores.users.get("ana@clinic.example").sso_subject == "sub-ana"  # the binding stays


def test_another_issuer_with_the_same_subject_is_refused(stores: RecordStore) -> None:
    _user(stores, sso_issuer=ISS, sso_subject="sub-ana")
    assert _refusal(stores, _claims(iss="https://other-tenant.example")) == auth.SSO_OTHER_IDENTITY
    assert "reason=sso-other-issuer" in _audit(stores)[-1][1]


def test_disabled_account_is_refused_before_binding(stores: RecordStore) -> None:
    _user(stores, disabled=True)
    assert _refusal(stores, _claims()) == "This account is disabled."
    assert stores.users.get("ana@clinic.example").sso_subject is None


def test_unknown_email_and_incomplete_claims_are_refused(stores: RecordStore) -> None:
    assert "has no account here yet" in _refusal(stores, _claims())
    _user(stores)
    for missing in ("email", "iss", "sub"):
        claims = _claims()
        del claims[missing]
        assert _refusal(stores, claims) == auth.SSO_INCOMPLETE
    assert _refusal(stores, _claims(sub=123)) == auth.SSO_INCOMPLETE  # claims must be strings


def test_identity_older_than_the_idle_limit_must_sign_in_again(stores: RecordStore) -> None:
    _user(stores, sso_issuer=ISS, sso_subject="sub-ana")
    assert _refusal(stores, _claims(iat=NOW - 1801)) == auth.SSO_STALE
    assert _refusal(stores, _claims(iat=None)) == auth.SSO_STALE
    assert _refusal(stores, _claims(iat=True)) == auth.SSO_STALE
    assert auth.principal_for_sso(stores, _claims(iat=NOW - 1800), now_s=NOW, max_age_s=1800)


def test_old_user_rows_load_without_sso_fields() -> None:
    old = '{"username": "ana", "role": "doctor", "password_hash": "x", "version": 3}'
    user = User.model_validate_json(old)
    assert (user.sso_issuer, user.sso_subject) == (None, None)


class Logouts:
    """Counts calls to the injected SSO logout."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


@pytest.fixture
def session(stores: RecordStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[Logouts]:
    """A bare Streamlit session over the fake stores, with the clock and the SSO logout replaced."""
    app = SimpleNamespace(stores=stores, settings=SimpleNamespace(session_idle_minutes=30))
    logouts = Logouts()
    monkeypatch.setattr(runtime, "get_app", lambda: app)
    monkeypatch.setattr(runtime, "clock", lambda: NOW)
    monkeypatch.setattr(runtime, "end_sso", logouts)
    st.session_state.clear()
    runtime.init_session()
    _user(stores)
    yield logouts
    st.session_state.clear()


PRINCIPAL = Principal("ana@clinic.example", Role.DOCTOR)


def test_signing_out_of_an_sso_session_ends_the_sso_session(session: Logouts) -> None:
    runtime.sign_in(PRINCIPAL, sso=True)
    runtime.sign_out("You have signed out.")
    assert session.calls == 1
    assert st.session_state[runtime.PRINCIPAL] is None
    assert not st.session_state.get(runtime.SSO)  # a second sign-out does not log out again
    runtime.sign_out()
    assert session.calls == 1


def test_idle_expiry_of_an_sso_session_ends_the_sso_session(session: Logouts, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.sign_in(PRINCIPAL, sso=True)
    assert runtime.current_principal() == PRINCIPAL and session.calls == 0
    monkeypatch.setattr(runtime, "clock", lambda: NOW + 31 * 60)
    assert runtime.current_principal() is None
    assert session.calls == 1
    assert st.session_state[runtime.NOTICE] == sessions.IDLE


def test_password_sessions_do_not_call_the_sso_logout(session: Logouts, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.sign_in(PRINCIPAL)
    runtime.sign_out("You have signed out.")
    runtime.sign_in(PRINCIPAL)
    monkeypatch.setattr(runtime, "clock", lambda: NOW + 31 * 60)
    assert runtime.current_principal() is None
    assert session.calls == 0
