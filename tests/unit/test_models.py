"""Migrations build the schema the models describe; demo data seeds once; constraints hold."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from callcenter import db
from callcenter.demo_data import DEMO_SERVICE_PASSWORD, seed
from callcenter.models import Base, Customer, CustomerPhone, User


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'sub' / 'cc.db'}"
    db.upgrade(url)
    return url


def head_revision() -> str:
    from alembic.script import ScriptDirectory
    return ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_current_head()


def test_migrations_match_the_models(url):
    assert db.current_revision(url) == head_revision() == "0003"
    with db.make_engine(url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgrade_twice_is_harmless(url):
    db.upgrade(url)
    assert db.current_revision(url) == head_revision()


def test_demo_seed_is_idempotent(url):
    sessions = db.session_factory(url)
    with sessions() as s:
        first = seed(s)
        s.commit()
    with sessions() as s:
        again = seed(s)
        s.commit()
        assert first["customers"] > 0 and first["users"] > 0
        assert again == {"customers": 0, "users": 0}
        customer = s.scalar(select(Customer).join(CustomerPhone).where(CustomerPhone.number == "13800000002"))
        assert customer.vip_level == 3 and len(customer.accounts[0].bills) == 3
        assert customer.check_service_password(DEMO_SERVICE_PASSWORD)
        assert not customer.check_service_password("654321")
        assert DEMO_SERVICE_PASSWORD not in customer.service_password_hash


def test_constraints(url):
    sessions = db.session_factory(url)
    with sessions() as s:
        s.add(User(username="x", display_name="x", password_hash="h", role="overlord"))
        with pytest.raises(IntegrityError):
            s.commit()
    with sessions() as s:
        a, b = Customer(name="a"), Customer(name="b")
        a.phones.append(CustomerPhone(number="13811112222"))
        b.phones.append(CustomerPhone(number="13811112222"))
        s.add_all([a, b])
        with pytest.raises(IntegrityError):
            s.commit()


def test_service_password_is_six_digits():
    with pytest.raises(ValueError):
        Customer(name="a").set_service_password("12345a")
