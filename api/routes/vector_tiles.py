"""Vector tiles `/tiles/{layer}/{z}/{x}/{y}.mvt` for the map's heavy layers (auth and area scope apply)."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response

from api.deps import AreaScopeDep, ConnDep
from gis.vector_tiles import LAYERS, communes_etag, tile

router = APIRouter(prefix="/tiles", tags=["tiles"])
MVT = "application/vnd.mapbox-vector-tile"


@router.get("/{layer}/{z}/{x}/{y}.mvt", response_class=Response)
def get_tile(request: Request, conn: ConnDep, scope: AreaScopeDep, layer: str,
             z: Annotated[int, Path(ge=0, le=22)], x: Annotated[int, Path(ge=0)], y: Annotated[int, Path(ge=0)]
             ) -> Response:
    """A tile; boundaries are cacheable (ETag), incidents and hotspots change and are not."""
    if layer not in LAYERS or x >= 2**z or y >= 2**z:
        raise HTTPException(404, "không có lớp hoặc ô bản đồ này (no such layer or tile)")
    headers = {"Cache-Control": "no-store"}
    if layer == "communes":
        etag = communes_etag(conn, z, x, y, scope)
        headers = {"Cache-Control": "private, max-age=3600", "ETag": etag}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
    return Response(tile(conn, layer, z, x, y, scope), media_type=MVT, headers=headers)
