"""Departments of the holding agency: a tree per fonds, made by the system administrator.
A record belongs to a department (its 承办部门), which scopes what heads and staff see."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.access.models import Department
from dangan.access.ports import AccessDeps
from dangan.access.views import DepartmentView
from dangan.arrangement.models import Fonds
from dangan.core.errors import InvalidInputError, Problem, invalid
from dangan.core.invisible import invisible_problem
from dangan.policy.domain import MANAGE_USERS
from dangan.usecase import Actor, UnitOfWork, use_case

DEPARTMENT_CREATED = "access.department_created"


def _code_taken(s: Session, fonds: str, code: str) -> bool:
    found = s.scalar(
        select(Department.id).where(Department.fonds_code == fonds, Department.code == code)
    )
    return found is not None


def _department_problems(
    s: Session, code: str, name: str, fonds: str, parent_id: int | None
) -> list[Problem]:
    problems: list[Problem] = []
    if not code.strip() or len(code) > 20:
        problems.append(
            Problem(
                "code",
                "required",
                "部门代码为 1 至 20 个字符",
                "a department code is 1-20 characters",
            )
        )
    if not name.strip() or len(name) > 100:
        problems.append(
            Problem(
                "name",
                "required",
                "部门名称为 1 至 100 个字符",
                "a department name is 1-100 characters",
            )
        )
    for field, text, zh in (("code", code, "部门代码"), ("name", name, "部门名称")):
        if hidden := invisible_problem(field, text, f"{zh}（{field}）", f"the department {field}"):
            problems.append(hidden)
    if s.get(Fonds, fonds) is None:
        problems.append(
            Problem("fonds_code", "not_found", f"全宗 {fonds} 不存在", f"no fonds {fonds}")
        )
    elif _code_taken(s, fonds, code):
        problems.append(
            Problem(
                "code",
                "duplicate",
                "该全宗下部门代码已存在",
                "the department code is taken in this fonds",
            )
        )
    if parent_id is not None:
        parent = s.get(Department, parent_id)
        if parent is None or parent.fonds_code != fonds:
            problems.append(
                Problem(
                    "parent_id",
                    "not_found",
                    "上级部门不存在或不属于同一全宗",
                    "no such parent department in this fonds",
                )
            )
    return problems


@use_case(DEPARTMENT_CREATED)
def create_department(
    deps: AccessDeps,
    actor: Actor,
    *,
    code: str,
    name: str,
    fonds_code: str | None = None,
    parent_id: int | None = None,
    now: datetime | None = None,
) -> DepartmentView:
    """A department of the agency holding `fonds_code` (default: the instance's), under
    `parent_id` of the same fonds if given (system administrator)."""
    fonds = fonds_code or deps.settings.default_fonds
    with UnitOfWork(deps, actor, at=now) as uow:
        uow.authorize(MANAGE_USERS, event=DEPARTMENT_CREATED, code=code)
        s = uow.session
        problems = _department_problems(s, code, name, fonds, parent_id)
        if problems:
            raise InvalidInputError.of(problems)
        dept = Department(
            code=code.strip(), name=name.strip(), fonds_code=fonds, parent_id=parent_id
        )
        s.add(dept)
        s.flush()
        uow.record(
            DEPARTMENT_CREATED,
            target=f"department:{dept.id}",
            code=dept.code,
            name=dept.name,
            fonds=fonds,
            parent_id=parent_id,
        )
        return DepartmentView.of(dept)


def department_id_for(deps: AccessDeps, code: str, fonds: str | None = None) -> int:
    """The id of department `code` of `fonds` (default: the instance's); InvalidInputError
    (field `department`) if there is none."""
    fonds_code = fonds or deps.settings.default_fonds
    with deps.sessions() as s:
        found = s.scalar(
            select(Department.id).where(
                Department.fonds_code == fonds_code, Department.code == code
            )
        )
    if found is None:
        raise invalid("department", "not_found", f"部门 {code} 不存在", f"no department {code}")
    return int(found)
