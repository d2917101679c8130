"""Models on a migrated SQLite file: demo data seeds once, passwords are hashed, constraints hold."""
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from callcenter import db
from callcenter.demo_data import DEMO_SERVICE_PASSWORD, DEMO_USER_PASSWORD, seed
from callcenter.models import Base, Customer, CustomerPhone, User


@pytest.fixture
def sessions(migrated_db):
    return db.session_factory(migrated_db)  # a copy of the session's migrated template


def row_counts(session) -> dict[str, int]:
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


@pytest.mark.slow  # 2 s: the demo's passwords, hashed and checked with scrypt (0.1 s each)
def test_demo_seed_is_idempotent(sessions):
    with sessions() as s:
        first = seed(s)
        s.commit()
        counts = row_counts(s)
    with sessions() as s:
        again = seed(s)
        s.commit()
        assert again == {"customers": 0, "users": 0}
        assert row_counts(s) == counts  # nothing at all was added the second time
    assert first == {"customers": counts["customers"], "users": counts["users"]}
    assert counts["customers"] == 8 and counts["bills"] == 3 * counts["accounts"]


@pytest.mark.slow  # 3.5 s: the demo's passwords, hashed and checked with scrypt (0.1 s each)
def test_demo_customers(sessions):
    with sessions() as s:
        seed(s)
        s.commit()
    with sessions() as s:  # read back from the database, not the objects seed() built in memory
        customers = s.scalars(select(Customer)).all()
        assert {c.language for c in customers} == {"zh", "en"}
        vip = s.scalar(select(Customer).join(CustomerPhone).where(CustomerPhone.number == "13800000002"))
        assert vip.vip_level == 3 and [b.period for b in vip.accounts[0].bills] == ["2026-10", "2026-09", "2026-08"]
        for customer in customers:
            assert DEMO_SERVICE_PASSWORD not in customer.service_password_hash
            assert customer.check_service_password(DEMO_SERVICE_PASSWORD)
            assert not customer.check_service_password("654321")


@pytest.mark.slow  # 3.5 s: the demo's passwords, hashed and checked with scrypt (0.1 s each)
def test_demo_users_log_in_with_hashed_passwords(sessions):
    with sessions() as s:
        seed(s)
        s.commit()
        users = {u.username: u for u in s.scalars(select(User))}
    assert users["admin"].role == "admin" and users["lead1"].role == "supervisor"
    assert {users[f"agent{i}"].agent_extension for i in range(1, 5)} == {"1001", "1002", "1003", "1004"}
    for user in users.values():
        assert user.password_hash != DEMO_USER_PASSWORD and user.check_password(DEMO_USER_PASSWORD)
        assert not user.check_password(DEMO_USER_PASSWORD + "x")


def test_set_password_hashes_with_a_fresh_salt():
    a, b = User(username="a", role="agent"), User(username="b", role="agent")
    a.set_password("s3cret-pass")
    b.set_password("s3cret-pass")
    assert a.password_hash != b.password_hash != "s3cret-pass"
    assert a.check_password("s3cret-pass") and not a.check_password("S3cret-pass")
    with pytest.raises(ValueError):
        a.set_password("short")


def test_role_is_checked_in_python_and_in_the_database(sessions):
    with pytest.raises(ValueError, match="role"):
        User(username="x", role="overlord")
    with sessions() as s, pytest.raises(IntegrityError, match="ck_users_role"):
        s.execute(text("INSERT INTO users (username, display_name, password_hash, role, language, active)"
                       " VALUES ('x', 'x', 'h', 'overlord', 'zh', 1)"))


@pytest.mark.parametrize("extension", ["2001", "100", "10011", "10a1", "１００１", ""])
def test_agent_extension_must_be_1xxx(extension):
    with pytest.raises(ValueError, match="1XXX"):
        User(username="x", role="agent", agent_extension=extension)


def test_agent_extension_is_optional_and_unique(sessions):
    with sessions() as s:
        s.add_all([User(username=n, display_name=n, password_hash="h", role="agent", agent_extension=e)
                   for n, e in [("a", "1999"), ("b", None), ("c", None)]])
        s.commit()
        s.add(User(username="d", display_name="d", password_hash="h", role="agent", agent_extension="1999"))
        with pytest.raises(IntegrityError):
            s.commit()


def test_a_number_belongs_to_one_customer_who_may_have_several(sessions):
    with sessions() as s:
        a = Customer(name="a")
        a.phones += [CustomerPhone(number="13811112222"), CustomerPhone(number="13811113333")]
        s.add(a)
        s.commit()
        b = Customer(name="b")
        b.phones.append(CustomerPhone(number="13811112222"))
        s.add(b)
        with pytest.raises(IntegrityError):
            s.commit()


def test_foreign_keys_and_vip_range_are_enforced(sessions):
    with sessions() as s:
        s.add(CustomerPhone(customer_id=999, number="13899999999"))
        with pytest.raises(IntegrityError):
            s.commit()
    with sessions() as s:
        s.add(Customer(name="x", vip_level=4))
        with pytest.raises(IntegrityError, match="ck_customers_vip_level"):
            s.commit()


def test_service_password_is_six_digits():
    with pytest.raises(ValueError):
        Customer(name="a").set_service_password("12345a")
