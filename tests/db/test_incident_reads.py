"""The binary reads of incidents for analyses come in rows of 2**CHUNK_BITS ids (libpq keeps its read buffer at
the largest message, issue 18): a selection spread over several such rows is read whole, each incident once."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from gis.store.incidents import CHUNK_BITS, incident_frame, incident_points
from gis.store.selection import IncidentSelection

BOX = (106.68, 20.85, 106.69, 20.87)


def test_a_selection_across_chunks_of_ids_is_read_whole(conn: Connection, owner_engine: Engine) -> None:
    with owner_engine.begin() as owner:  # the next ids straddle a chunk boundary (a sequence only moves forward)
        owner.execute(
            text("SELECT setval('incidents_id_seq', (((nextval('incidents_id_seq') >> :b) + 1) << :b) - 3)"),
            {"b": CHUNK_BITS},
        )
    conn.execute(
        text("""INSERT INTO incidents (ref, occurred_at, kind, assignment, geom)
                SELECT 'CHUNK-' || n, now() - n * interval '1 day', 'tip', 'outside',
                       ST_SetSRID(ST_MakePoint(106.683 + n * 0.0002, 20.86), 4326)
                FROM generate_series(1, 6) n""")
    )
    ids = conn.execute(text("SELECT id FROM incidents WHERE ref LIKE 'CHUNK-%' ORDER BY id")).scalars().all()
    assert ids[0] >> CHUNK_BITS != ids[-1] >> CHUNK_BITS  # the rows do lie in two chunks

    frame = incident_frame(conn, IncidentSelection(bbox=BOX))
    frame = frame[frame["id"].isin(ids)]
    assert frame["id"].tolist() == ids  # every one once, in id order
    points = incident_points(conn, IncidentSelection(bbox=BOX))
    in_box = conn.execute(
        text("SELECT count(*) FROM incidents WHERE geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)"),
        dict(zip(("x0", "y0", "x1", "y1"), BOX)),
    ).scalar_one()
    assert points.x.size == in_box  # each once
    assert set(zip(frame["x"].tolist(), frame["y"].tolist())) <= set(zip(points.x.tolist(), points.y.tolist()))
