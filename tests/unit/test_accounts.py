"""Password hashing: an unknown username costs the same check as a known one."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from annotator.services.accounts import DUMMY_HASH


def _method(password_hash: str) -> str:
    return password_hash.split("$", 1)[0]


def test_the_dummy_hash_has_the_method_and_cost_of_a_new_password():
    assert _method(DUMMY_HASH) == _method(generate_password_hash("any password at all"))


def test_the_dummy_hash_is_a_real_hash_so_checking_it_does_the_full_work():
    assert check_password_hash(DUMMY_HASH, "not-a-real-password")
    assert not check_password_hash(DUMMY_HASH, "another password")
