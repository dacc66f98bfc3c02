"""The offline basemap `/tiles/base/{z}/{x}/{y}.png`: tiles of the configured MBTiles file (DIABAN_BASEMAP_PATH),
cached by the browser for a day and revalidated by ETag."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from models.errors import NotFound

router = APIRouter(prefix="/tiles/base", tags=["tiles"])
#: Tiles change only when the file is replaced (the ETag follows the file's size and time).
CACHE_CONTROL = "private, max-age=86400"


@router.get(
    "/{z}/{x}/{y}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}, "description": "a tile"}},
)
def base_tile(
    request: Request,
    z: Annotated[int, Path(ge=0, le=22)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
) -> Response:
    """One tile of the offline basemap (transparent where the file has none); 404 when no file is configured."""
    basemap = request.app.state.offline_basemap
    if basemap is None:
        raise NotFound("chưa cấu hình bản đồ nền offline (DIABAN_BASEMAP_PATH)", "no offline basemap configured")
    if x >= 2**z or y >= 2**z:
        raise NotFound("không có ô bản đồ này", "no such tile")
    answer = basemap.tile(z, x, y)
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": answer.etag}
    if request.headers.get("if-none-match") == answer.etag:
        return Response(status_code=304, headers=headers)
    return Response(answer.data, media_type=answer.media_type, headers=headers)
