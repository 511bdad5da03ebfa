"""Pure rules of access: 三员分立, 密级 levels, department trees, grants, passwords, role
labels — and the shape of every access use case."""

from __future__ import annotations

import inspect

import pytest
from argon2 import PasswordHasher, Type

from dangan.access import services
from dangan.access.accounts import role_from_label
from dangan.access.passwords import (
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from dangan.policy.domain import (
    ROLE_NAMES,
    ROLES,
    SEPARATED_ROLES,
    ancestors,
    check_grant_input,
    covered_classifications,
    normalise_grant_actions,
    separation_conflict,
    subtree,
)
from dangan.usecase import Actor, use_case_info

# --- 三员分立 -------------------------------------------------------------------------------


@pytest.mark.parametrize("held", sorted(SEPARATED_ROLES))
@pytest.mark.parametrize("new", sorted(ROLES))
def test_an_admin_role_combines_with_nothing(held: str, new: str) -> None:
    clash = separation_conflict({held}, new)
    assert clash == (None if new == held else held)


@pytest.mark.parametrize("admin", sorted(SEPARATED_ROLES))
def test_a_business_user_cannot_become_an_admin(admin: str) -> None:
    assert separation_conflict({"archivist"}, admin) == "archivist"


def test_business_roles_combine() -> None:
    assert separation_conflict({"staff", "department_head"}, "archivist") is None
    assert separation_conflict(set(), "sysadmin") is None


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_role_is_named_by_its_key_or_its_chinese_label(role: str) -> None:
    assert role_from_label(role) == role
    assert role_from_label(ROLE_NAMES[role][0]) == role
    assert role_from_label(f" {ROLE_NAMES[role][0]} ") == role


def test_an_unknown_role_label_is_left_for_the_use_case_to_refuse() -> None:
    assert role_from_label("king") == "king"
    assert role_from_label("国王") == "国王"


# --- the use cases -------------------------------------------------------------------------


@pytest.mark.parametrize("name", services.__all__)
def test_every_use_case_is_marked_and_takes_deps_and_an_actor(name: str) -> None:
    fn = getattr(services, name)
    info = use_case_info(fn)
    assert info is not None, name
    params = list(inspect.signature(fn).parameters.values())
    assert [p.name for p in params[:2]] == ["deps", "actor"]
    assert params[1].annotation in ("Actor", Actor)
    assert all(e.split(".", 1)[0] in ("access", "auth", "system") for e in info.events)


# --- 密级 ------------------------------------------------------------------------------------


def test_clearance_covers_its_level_and_below() -> None:
    assert covered_classifications("公开") == {"公开"}
    assert covered_classifications("内部") == {"公开", "内部", "非密"}
    assert covered_classifications("非密") == {"公开", "内部", "非密"}
    assert covered_classifications("绝密") == {"公开", "内部", "非密", "秘密", "机密", "绝密"}
    assert covered_classifications("nonsense") == frozenset()


# --- departments -----------------------------------------------------------------------------


def test_subtree_and_ancestors() -> None:
    parents = {1: None, 2: 1, 3: 2, 4: 1, 5: None}
    assert subtree(1, parents) == {1, 2, 3, 4}
    assert subtree(2, parents) == {2, 3}
    assert subtree(5, parents) == {5}
    assert ancestors(3, parents) == (2, 1)
    assert ancestors(1, parents) == ()


def test_a_cycle_in_bad_data_terminates() -> None:
    parents = {1: 2, 2: 1}
    assert subtree(1, parents) == {1, 2}
    assert ancestors(1, parents) == (2,)


# --- grants ----------------------------------------------------------------------------------


def test_grant_input_problems() -> None:
    assert check_grant_input(["read_content"], "审查需要") == []
    codes = {p.code for p in check_grant_input([], " ")}
    assert codes == {"required"}
    assert [p.code for p in check_grant_input(["grant", "read_ledger"], "x")] == ["unknown_action"]


def test_any_granted_action_implies_metadata() -> None:
    assert normalise_grant_actions(["download"]) == {"download", "read_metadata"}
    assert normalise_grant_actions([]) == frozenset()


# --- passwords -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("Archive-2024!", set()),
        ("archive2024ab", {"password_too_simple"}),  # lower + digit only
        ("Ab1!", {"password_too_short"}),
        ("short", {"password_too_short", "password_too_simple"}),
        ("ARCHIVE2024!!", set()),  # upper + digit + symbol
        ("档案管理系统Ab12345", set()),  # CJK counts as a symbol class
        ("Zhangsan-2024", {"password_contains_username"}),
    ],
)
def test_password_rules(password: str, codes: set[str]) -> None:
    problems = password_problems(password, "zhangsan")
    assert {p.code for p in problems} == codes
    for p in problems:
        assert p.zh
        assert p.en
        assert p.field == "password"


def test_a_short_user_name_inside_a_password_is_fine() -> None:
    assert password_problems("Million-2024", "li") == []
    assert {p.code for p in password_problems("li", "li")} >= {"password_contains_username"}


def test_argon2id_hash_verify_and_rehash() -> None:
    h = hash_password("Archive-2024!")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "Archive-2024!")
    assert not verify_password(h, "archive-2024!")
    assert not verify_password(None, "anything")
    assert not verify_password("not a hash", "anything")
    assert not needs_rehash(h)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    assert needs_rehash(weak.hash("Archive-2024!"))
    assert needs_rehash("garbage")
