"""TEMPORARY until the access branch lands."""

from typing import Annotated, Any

from fastapi import Depends

from dangan.adapters.http import deps_for

ContainerDep = Annotated[Any, Depends(deps_for(object))]
