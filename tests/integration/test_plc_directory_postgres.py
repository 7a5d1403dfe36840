"""The embedded PLC directory on Postgres: its own table, replay, export, two writers."""

from __future__ import annotations

from datetime import timedelta

import psycopg

from adapters.identity.embedded_plc_client import EmbeddedPlcClient
from adapters.identity.plc_registrar import PlcRegistrar
from adapters.identity.plc_store import plc_postgres_env
from application.plc_directory.app import PlcDirectory
from domain.crypto.k256 import K256Keypair
from domain.plc.audit_log import validate_audit_log
from domain.plc.builder import build_update
from tests.integration.stores import PG_URL, pg_schema


def test_directory_on_postgres_records_replays_and_exports() -> None:
    with pg_schema() as schema:
        first = PlcDirectory(plc_postgres_env(PG_URL, schema=schema))
        server = K256Keypair.generate()
        registrar = PlcRegistrar(EmbeddedPlcClient(first), server)
        dids = [
            registrar.register(
                handle=f"u{i}.test",
                signing_key=K256Keypair.generate().did(),
                pds_endpoint="https://pds.example.com",
            )
            for i in range(5)
        ]
        # A second application over the same table acts as another process.
        second = PlcDirectory(plc_postgres_env(PG_URL, schema=schema))
        update = build_update(second.last_op(dids[0]), server, handle="renamed.test")
        second.submit(dids[0], update.to_value())
        assert first.document(dids[0])["alsoKnownAs"] == ["at://renamed.test"]

        exported = first.export(0)
        assert [line["seq"] for line in exported] == sorted(line["seq"] for line in exported)
        assert len(exported) == 6
        cursor = exported[2]["createdAt"]
        assert [line["cid"] for line in first.export(cursor)] == [
            line["cid"] for line in exported[3:]
        ]
        for did in dids:
            assert validate_audit_log(second.audit_log(did)) == first.state(did)
        first.close()
        second.close()

        with psycopg.connect(PG_URL) as conn:
            tables = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            ).fetchall()
        assert ("plcdirectory_events",) in tables


def test_a_second_writer_stamps_times_after_the_first_writers_newest_op() -> None:
    with pg_schema() as schema:
        first = PlcDirectory(plc_postgres_env(PG_URL, schema=schema))
        second = PlcDirectory(plc_postgres_env(PG_URL, schema=schema))
        server = K256Keypair.generate()
        did = PlcRegistrar(EmbeddedPlcClient(first), server).register(
            handle="a.test", signing_key=server.did(), pds_endpoint="https://p.example"
        )
        late = first.audit_log(did)[0].created_at + timedelta(hours=1)
        update = build_update(first.last_op(did), server, handle="b.test")
        first.submit(did, update.to_value(), late)
        other = PlcRegistrar(EmbeddedPlcClient(second), server).register(
            handle="c.test", signing_key=server.did(), pds_endpoint="https://p.example"
        )
        assert second.audit_log(other)[0].created_at > late
        first.close()
        second.close()
