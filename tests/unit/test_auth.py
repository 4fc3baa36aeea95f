"""Sign-in, lock-out, throttling, roles and user management."""

from __future__ import annotations

import pytest

from backend.domain.errors import AuthenticationFailed, PermissionDenied, ValidationFailed
from backend.domain.models import Role
from backend.ports import RecordStore
from backend.services import auth
from backend.services.access import Permission, Principal
from backend.services.login_guard import BUSY, LoginGuard, LoginPolicy
from tests.helpers.passwords import use_cheap_hashes

FAST = LoginPolicy(max_failures=3, lock_minutes=15)
LOCKED_NOW = "Too many failed sign-ins: this account is locked for 15 minutes."


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check counting and messages, not argon2's cost: small parameters keep them fast."""
    assert not auth._HASHER.check_needs_rehash(auth._DUMMY_HASH)  # the real dummy costs what a real hash costs
    use_cheap_hashes(monkeypatch)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _guard(policy: LoginPolicy = FAST, clock: Clock | None = None) -> LoginGuard:
    return LoginGuard(policy, clock or Clock())


def _refused(stores: RecordStore, guard: LoginGuard, name: str, password: str, client: str = "10.0.0.1") -> str:
    with pytest.raises(AuthenticationFailed) as caught:
        auth.login(stores, name, password, guard, client=client)
    return caught.value.message


def _actions(stores: RecordStore, actor: str) -> list[str]:
    return [e.action for e in reversed(stores.audit.query(actor=actor, limit=500).items)]


def test_password_is_hashed_with_argon2_and_login_works(stores: RecordStore) -> None:
    auth.add_user(stores, "Asha", "correct horse", Role.NURSE)
    user = stores.users.get("asha")
    assert user.password_hash.startswith("$argon2id$") and "correct horse" not in user.password_hash
    principal = auth.login(stores, "asha", "correct horse", _guard())
    assert principal == Principal("asha", Role.NURSE)
    assert stores.audit.query(actor="asha").items[0].action == "auth.login"


def test_wrong_password_then_lockout_is_audited(stores: RecordStore) -> None:
    auth.add_user(stores, "asha", "correct horse", Role.NURSE)
    guard = _guard()
    assert [_refused(stores, guard, "asha", "nope") for _ in range(2)] == ["Wrong username or password."] * 2
    assert _refused(stores, guard, "asha", "nope") == LOCKED_NOW
    # Even the right password waits out the lock, and that refusal is counted too.
    assert "locked for about 15 more minute(s)" in _refused(stores, guard, "asha", "correct horse")
    assert stores.users.get("asha").failed_attempts == 4
    assert _actions(stores, "asha") == ["auth.login.failed"] * 3 + ["auth.lockout", "auth.login.failed"]
    details = [e.detail for e in stores.audit.query(actor="asha").items]
    assert "reason=locked" in details[0] and "reason=wrong-password" in details[-1]
    assert not any("nope" in d or "correct horse" in d for d in details)  # passwords are never logged


def test_lock_runs_out_then_the_count_starts_again(stores: RecordStore) -> None:
    auth.add_user(stores, "asha", "correct horse", Role.NURSE)
    clock = Clock()
    guard = _guard(clock=clock)
    for _ in range(3):
        _refused(stores, guard, "asha", "nope")
    clock.t += 15 * 60 + 1
    assert _refused(stores, guard, "asha", "nope") == "Wrong username or password."
    assert stores.users.get("asha").failed_attempts == 1  # a new count, not 4
    assert auth.login(stores, "asha", "correct horse", guard) == Principal("asha", Role.NURSE)
    assert (stores.users.get("asha").failed_attempts, stores.users.get("asha").locked_until) == (0, 0)


def test_unknown_disabled_and_known_accounts_answer_alike(stores: RecordStore) -> None:
    auth.add_user(stores, "asha", "correct horse", Role.NURSE)
    auth.add_user(stores, "ravi", "correct horse", Role.NURSE)
    auth.set_disabled(stores, None, "ravi", True)
    guard = _guard()
    answers = {
        name: [_refused(stores, guard, name, "wrong horse", client=f"10.0.0.{i}") for _ in range(5)]
        for i, name in enumerate(("asha", "ravi", "nobody"))
    }
    assert answers["asha"] == answers["ravi"] == answers["nobody"]
    assert answers["nobody"][:2] == ["Wrong username or password."] * 2
    assert answers["nobody"][2] == LOCKED_NOW
    assert all("locked" in a for a in answers["nobody"][3:])
    # The unknown name is audited without its text (it may be a password typed into the wrong box).
    unknown = stores.audit.query(actor=auth.UNKNOWN_ACTOR, limit=50).items
    assert {e.action for e in unknown} == {"auth.login.failed", "auth.lockout"}
    assert all("nobody" not in e.detail and "name#" in e.detail for e in unknown)


def test_unknown_accounts_do_the_same_password_work(stores: RecordStore, monkeypatch: pytest.MonkeyPatch) -> None:
    auth.add_user(stores, "asha", "correct horse", Role.NURSE)
    checked: list[str] = []
    real = auth._verify
    monkeypatch.setattr(auth, "_verify", lambda h, p: checked.append(h) or real(h, p))
    guard = _guard()
    for name in ("asha", "nobody"):
        _refused(stores, guard, name, "wrong horse")
    assert len(checked) == 2 and all(h.startswith("$argon2id$") for h in checked)
    assert checked[1] == auth._DUMMY_HASH


def test_client_is_throttled_across_usernames_then_blocked(stores: RecordStore) -> None:
    policy = LoginPolicy(max_failures=5, client_free_failures=3, client_max_failures=6, client_backoff_cap_seconds=30)
    clock = Clock()
    guard = _guard(policy, clock)
    for n in range(3):  # password spraying: one try per name
        assert _refused(stores, guard, f"user{n}", "guess") == "Wrong username or password."
    clock.t += 100
    assert _refused(stores, guard, "user3", "guess") == "Wrong username or password."  # the 4th sets a wait
    assert "wait 1 second(s)" in _refused(stores, guard, "user4", "guess")
    assert _refused(stores, guard, "user4", "guess", client="10.0.0.2") == "Wrong username or password."
    clock.t += 100
    assert "try again in 15 minute(s)" in _refused(stores, guard, "user5", "guess")  # the 6th failure blocks
    assert "try again in" in _refused(stores, guard, "user6", "guess")
    assert _actions(stores, auth.CLIENT_ACTOR) == ["auth.lockout.client"]
    clock.t += 15 * 60 + 1
    assert _refused(stores, guard, "user7", "guess") == "Wrong username or password."


def test_busy_hashing_is_refused_and_not_counted(stores: RecordStore) -> None:
    auth.add_user(stores, "asha", "correct horse", Role.NURSE)
    guard = _guard(LoginPolicy(hash_slots=1, hash_wait_seconds=0))
    with guard.hashing():  # every slot taken by another sign-in
        assert _refused(stores, guard, "asha", "correct horse") == BUSY
    assert stores.users.get("asha").failed_attempts == 0
    assert _actions(stores, "asha") == []
    assert auth.login(stores, "asha", "correct horse", guard).username == "asha"


def test_only_admins_manage_users_and_no_one_adds_the_first_admin_without_a_token(stores: RecordStore) -> None:
    with pytest.raises(ValidationFailed, match="sign in as an admin"):
        auth.create_user(stores, None, "root", "long enough", Role.ADMIN)  # even into an empty store
    assert stores.users.list_all() == []
    admin = Principal("root", Role.ADMIN)
    auth.add_user(stores, "root", "long enough", Role.ADMIN)  # the operator's CLI path
    with pytest.raises(PermissionDenied):
        auth.create_user(stores, Principal("dr", Role.DOCTOR), "x1", "long enough", Role.NURSE)
    auth.create_user(stores, admin, "dr", "long enough", Role.DOCTOR)
    assert [u.username for u in auth.list_users(stores, admin)] == ["dr", "root"]
    assert _actions(stores, "root") == ["user.create"]
    with pytest.raises(ValidationFailed, match="too short"):
        auth.create_user(stores, admin, "x2", "short", Role.NURSE)
    with pytest.raises(ValidationFailed, match="Usernames"):
        auth.create_user(stores, admin, "<script>", "long enough", Role.NURSE)


@pytest.mark.parametrize(
    ("role", "allowed", "denied"),
    [
        (
            Role.NURSE,
            {Permission.RECORD, Permission.DIGITIZE, Permission.WRITE_PATIENTS},
            {Permission.SIGN_NOTES, Permission.READ_AUDIT, Permission.MANAGE_USERS},
        ),
        (Role.DOCTOR, {Permission.SIGN_NOTES, Permission.READ_AUDIT, Permission.RECORD}, {Permission.MANAGE_USERS}),
        (
            Role.ADMIN,
            {Permission.MANAGE_USERS, Permission.READ_AUDIT},
            {Permission.READ_PATIENTS, Permission.SIGN_NOTES},
        ),
    ],
)
def test_role_grants(role: Role, allowed: set[Permission], denied: set[Permission]) -> None:
    p = Principal("x", role)
    assert all(p.can(a) for a in allowed)
    assert not any(p.can(d) for d in denied)


def test_nurse_may_sign_only_where_configured(stores: RecordStore) -> None:
    auth.add_user(stores, "asha", "correct horse", Role.NURSE)
    assert not auth.login(stores, "asha", "correct horse", _guard()).can(Permission.SIGN_NOTES)
    assert auth.login(stores, "asha", "correct horse", _guard(), nurse_can_sign=True).can(Permission.SIGN_NOTES)
