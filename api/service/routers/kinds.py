"""``GET /v1/kinds``: the run kinds and the JSON Schema of each one's options."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import KindsDep
from ..schemas import KindPublic, KindsPublic

router = APIRouter(prefix="/v1/kinds", tags=["runs"])


@router.get("", response_model=KindsPublic)
def list_kinds(kinds: KindsDep) -> KindsPublic:
    data = [KindPublic(name=k.name, description=k.description,
                       options_schema=k.options.model_json_schema())
            for _, k in sorted(kinds.items())]
    return KindsPublic(data=data, count=len(data))
