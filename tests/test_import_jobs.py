"""The import pipeline: who a chat belongs to after merges and renames, what an import holds back (hidden until it
publishes), what it reports (future-dated, cut, unreadable), its limits as settings, and a dry run that writes
nothing."""
import json
import subprocess  # nosec B404
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy
from test_search import index_snapshot

from crm.conversations import import_jobs
from crm.conversations.importing import ImportRun, import_path
from crm.conversations.services import refingerprint
from crm.customers.services import merge_customers
from crm.extensions import db
from crm.kept import drift
from crm.models import Conversation, Customer, ImportedName, ImportJob, Message
from crm.sqlite import WRITE_LOCK_KEY

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "samples"
RINA = SAMPLES / "whatsapp-android-id.txt"


def _import(runner, path, *args, exit_code=0):
    result = runner.invoke(args=["import-chat", str(path), "--json", *args])
    assert result.exit_code == exit_code, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def _count(model, *where):
    return db.session.execute(db.select(db.func.count()).select_from(model).where(*where)).scalar()


def _paste(client, text, **fields):
    return client.post("/conversations/log", data={"channel": "whatsapp", "pasted": text, "new_customer_name": "",
                                                   "new_customer_handle": "", **fields})


# --- 11.1 identity memory ------------------------------------------------------------------------------------


def test_after_a_merge_the_same_chat_pasted_or_imported_again_adds_nothing(runner, owner_client, make_customer):
    first = _import(runner, RINA, "--me", "Toko Batik Sari")
    assert first["messages_imported"] == 13 and first["customers_created"] == 1
    rina = db.session.execute(db.select(Customer).where(Customer.display_name == "Rina")).scalar_one()
    kusuma = make_customer("Rina Kusuma")
    assert owner_client.post(f"/customers/{kusuma.id}/merge", data={"other_id": rina.id}).status_code == 302

    preview = owner_client.post("/conversations/log/preview", data={
        "channel": "whatsapp", "pasted": RINA.read_text(), "new_customer_name": "", "new_customer_handle": ""},
        headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<strong>Rina Kusuma</strong>" in preview and "found by name" in preview
    assert "new customer" not in preview

    pasted = _paste(owner_client, RINA.read_text())
    assert pasted.status_code == 302
    assert _count(Customer) == 2 and _count(Message) == 13, "no new Rina, no duplicate messages"
    again = _import(runner, RINA)
    assert again["messages_imported"] == 0 and again["duplicates_skipped"] == 13
    assert again["customers_created"] == 0 and again["customers_matched"] == 1
    survivor = db.session.get(Customer, kusuma.id)
    assert {c.customer_id for c in db.session.execute(db.select(Conversation)).scalars()} == {survivor.id}


def test_chats_of_both_merged_customers_imported_or_pasted_again_add_nothing(runner, owner_client):
    """Either side of a merge: the chats that made the survivor and the one merged into it."""
    budi = SAMPLES / "whatsapp-ios-en-us.txt"
    _import(runner, RINA, "--me", "Toko Batik Sari")
    _import(runner, budi, "--me", "Admin Sari")
    rina, budi_santoso = (db.session.execute(db.select(Customer).where(Customer.display_name == name)).scalar_one()
                          for name in ("Rina", "Budi Santoso"))
    assert owner_client.post(f"/customers/{budi_santoso.id}/merge", data={"other_id": rina.id}).status_code == 302
    messages = _count(Message)
    for path in (RINA, budi):
        again = _import(runner, path)
        assert again["messages_imported"] == 0 and again["customers_created"] == 0, path.name
        assert _paste(owner_client, path.read_text(encoding="utf-8")).status_code == 302, path.name
    assert _count(Message) == messages
    assert _count(Customer, Customer.merged_into_id.is_(None), Customer.deleted_at.is_(None)) == 1
    assert {c.customer_id for c in db.session.execute(db.select(Conversation)).scalars()} == {budi_santoso.id}


def test_the_name_a_chat_came_under_finds_the_customer_after_a_rename(runner, owner_client):
    _import(runner, RINA, "--me", "Toko Batik Sari")
    rina = db.session.execute(db.select(Customer)).scalar_one()
    assert db.session.execute(db.select(ImportedName.name_key)).scalar_one() == "rina"
    rina.display_name = "Rina Wijaya (Bandung)"
    db.session.commit()
    again = _import(runner, RINA)
    assert again["customers_created"] == 0 and again["messages_imported"] == 0


def test_a_pasted_chat_without_times_is_recognised_after_a_merge(owner_client, make_customer):
    text = "Rina: kak ready?\nSaya: ready kak\nRina: oke makasih\n"
    assert _paste(owner_client, text).status_code == 302
    rina = db.session.execute(db.select(Customer).where(Customer.display_name == "Rina")).scalar_one()
    kusuma = make_customer("Rina Kusuma")
    owner_client.post(f"/customers/{kusuma.id}/merge", data={"other_id": rina.id})
    assert _paste(owner_client, text).status_code == 302
    assert _count(Message) == 3 and _count(Customer) == 2


def test_a_number_of_a_merged_customer_leads_to_the_survivor(runner, tmp_path, make_customer):
    chat = tmp_path / "WhatsApp Chat with +62 812-3456-7890.txt"
    chat.write_text("23/05/26 10.15 - +62 812-3456-7890: halo\n23/05/26 10.16 - Sari: halo juga\n", encoding="utf-8")
    _import(runner, chat, "--me", "Sari")
    by_number = db.session.execute(db.select(Customer)).scalar_one()
    survivor = make_customer("Bu Ratna")
    merge_customers(survivor, by_number)
    refingerprint(survivor)  # as the merge page does
    db.session.commit()
    chat.write_text(chat.read_text() + "24/05/26 09.00 - +62 812-3456-7890: jadi pesan\n", encoding="utf-8")
    again = _import(runner, chat)
    assert again["customers_created"] == 0 and again["messages_imported"] == 1
    newest = db.session.execute(db.select(Message).where(Message.body == "jadi pesan")).scalar_one()
    assert newest.conversation.customer_id == survivor.id


# --- hidden until published ---------------------------------------------------------------------------------


def _written_by_a_job() -> tuple[ImportJob, ImportRun]:
    """RINA written by a claimed job, not yet committed nor published."""
    job = import_jobs.create_job(source_name=RINA.name, path=str(RINA), options={"me": ["Toko Batik Sari"]},
                                 runner="cli")
    db.session.commit()
    assert import_jobs.claim(job.id)
    run = ImportRun(job=db.session.get(ImportJob, job.id))
    import_path(RINA, me=["Toko Batik Sari"], run=run)
    return job, run


def _publish(job: ImportJob, run: ImportRun) -> None:
    job = db.session.get(ImportJob, job.id)
    import_jobs.keep_for_publishing(job, run)
    import_jobs.publish(job)
    db.session.commit()


def test_an_import_is_invisible_until_it_publishes_and_the_trash_never_shows_it(app, owner_client):
    job, run = _written_by_a_job()
    db.session.commit()
    # Written, committed, and hidden everywhere: lists, search, Today, the trash.
    assert _count(Message) == 13 and _count(Customer) == 1
    assert _count(Customer, Customer.deleted_at.is_(None)) == 0
    for page in ("/customers/", "/search?q=gamis", "/", "/trash"):
        response = owner_client.get(page)
        assert response.status_code == 200 and "Rina" not in response.get_data(as_text=True), page

    _publish(job, run)
    assert _count(Customer, Customer.deleted_at.is_(None)) == 1
    assert "gamis" in owner_client.get("/search?q=gamis").get_data(as_text=True)
    assert db.session.get(ImportJob, job.id).status == "done"
    # What the lists keep (crm.kept) follows the publish's UPDATEs: Rina is listed with her chats' times.
    assert drift() == []
    rina = db.session.execute(db.select(Customer)).scalar_one()
    assert rina.last_activity_at == db.session.execute(db.select(db.func.max(Conversation.last_message_at))).scalar()
    assert "Rina" in owner_client.get("/customers/").get_data(as_text=True)


def test_a_job_indexes_what_it_wrote_once_and_exactly_as_a_rebuild_would(app, owner_client, monkeypatch):
    from crm.search import index

    monkeypatch.setattr(index, "JOB_CHUNK", 4)  # several chunks for 13 messages
    job, run = _written_by_a_job()
    assert index.index_counts()["messages"] == _count(Message) == 13, "indexed, and still hidden:"
    assert "Rina" not in owner_client.get("/search?q=gamis").get_data(as_text=True)
    kept = index_snapshot()
    run.index_written()  # again, as after a tag's trigger indexed a conversation whole: nothing twice
    assert index_snapshot() == kept
    _publish(job, run)
    kept = index_snapshot()
    assert index.rebuild_index()
    db.session.commit()
    assert index_snapshot() == kept
    assert "Rina" in owner_client.get("/search?q=gamis").get_data(as_text=True)


def test_messages_joining_an_existing_conversation_are_indexed_once(runner, monkeypatch):
    from crm.conversations import importing
    from crm.search import index

    # Small batches and held tags released early: a conversation tagged again at the end (its trigger indexes
    # it whole) before the job's own chunks, and messages that wait beside a conversation that exists.
    monkeypatch.setattr(importing, "BATCH", 3)
    monkeypatch.setattr(importing, "MAX_HELD", 2)
    monkeypatch.setattr(index, "JOB_CHUNK", 4)
    lines = RINA.read_text().splitlines(keepends=True)
    part = SAMPLES.parent / "part.txt"
    try:
        part.write_text("".join(lines[:4]), encoding="utf-8")
        _import(runner, part, "--me", "Toko Batik Sari")
    finally:
        part.unlink()
    assert _import(runner, RINA)["messages_imported"] == 10
    assert index.index_counts()["messages"] == _count(Message) == 13
    kept = index_snapshot()
    assert index.rebuild_index()
    db.session.commit()
    assert index_snapshot() == kept


@pytest.mark.sqlite_only("the trigger that leaves jobs' messages to their chunks is SQLite's FTS5 one")
def test_the_migrations_leave_the_insert_trigger_a_rebuild_makes(app):
    from crm.search.index import rebuild_index

    def triggers():
        return dict(db.session.execute(db.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all())

    migrated = triggers()
    assert "import_job_id" in migrated["messages_fts_insert"]
    assert rebuild_index()
    assert triggers() == migrated


def test_messages_for_an_existing_conversation_wait_and_then_join_it(runner, owner_client):
    lines = RINA.read_text().splitlines(keepends=True)
    part = SAMPLES.parent / "part.txt"
    try:
        part.write_text("".join(lines[:4]), encoding="utf-8")  # the first three messages
        _import(runner, part, "--me", "Toko Batik Sari")
    finally:
        part.unlink()
    morning = db.session.execute(db.select(Conversation)).scalar_one()
    assert len(morning.messages) == 3
    summary = _import(runner, RINA)
    assert summary["messages_imported"] == 10 and summary["duplicates_skipped"] == 3
    morning = db.session.get(Conversation, morning.id)
    assert len(morning.messages) == 7, "the rest of that morning joined the conversation it belongs to"
    assert _count(Conversation) == 3 and _count(Conversation, Conversation.import_job_id.is_not(None)) == 0
    assert morning.last_message_at == max(m.sent_at for m in morning.messages)
    assert drift() == []


def test_a_failed_import_leaves_nothing_behind(app, runner, monkeypatch):
    from crm.conversations import importing

    calls = []

    def breaks(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)

    original = importing._insert_messages
    monkeypatch.setattr(importing, "BATCH", 3)
    monkeypatch.setattr(importing, "_insert_messages", breaks)
    result = runner.invoke(args=["import-chat", str(RINA), "--me", "Toko Batik Sari"])
    assert "Import failed, nothing was saved" in result.output
    assert _count(Message) == 0 and _count(Customer) == 0 and _count(Conversation) == 0
    assert db.session.execute(db.select(ImportJob.status)).scalar_one() == "failed"


def test_a_job_whose_process_died_is_cleaned_up(app):
    job = import_jobs.create_job(source_name=RINA.name, path=str(RINA), options={"me": ["Toko Batik Sari"]},
                                 runner="cli")
    db.session.commit()
    import_jobs.claim(job.id)
    import_path(RINA, me=["Toko Batik Sari"], run=ImportRun(job=db.session.get(ImportJob, job.id)))
    db.session.commit()
    # As if its process had been killed: another pid on this machine that no longer runs.
    db.session.execute(db.update(ImportJob).values(worker=f"{import_jobs.socket.gethostname()}:999999999:1"))
    db.session.commit()
    assert import_jobs.recover_dead_jobs() == 1
    assert _count(Message) == 0 and _count(Customer) == 0 and _count(Conversation) == 0
    assert db.session.get(ImportJob, job.id).status == "interrupted"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc, which only Linux has")
def test_a_job_whose_process_died_unreaped_is_cleaned_up(app):
    # Killed with the server that started it, an import process can stay a zombie: os.kill(pid, 0) still succeeds.
    job = import_jobs.create_job(source_name=RINA.name, path=str(RINA), options={"me": ["Toko Batik Sari"]},
                                 runner="cli")
    db.session.commit()
    import_jobs.claim(job.id)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603 - not waited for until the end
    try:
        deadline = time.monotonic() + 30
        while Path(f"/proc/{dead.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child never exited"
            time.sleep(0.01)
        db.session.execute(db.update(ImportJob).values(worker=f"{import_jobs.socket.gethostname()}:{dead.pid}:1"))
        db.session.commit()
        assert import_jobs.recover_dead_jobs() == 1
        assert db.session.get(ImportJob, job.id).status == "interrupted"
    finally:
        dead.wait()


# --- what it reports ---------------------------------------------------------------------------------------


def test_messages_dated_in_the_future_are_saved_and_reported_with_their_lines(runner, tmp_path, test_now):
    later = (test_now + timedelta(days=3)).strftime("%d/%m/%y")
    today = test_now.strftime("%d/%m/%y")
    chat = tmp_path / "chat.txt"
    chat.write_text(f"{today} 08.00 - Rina: halo\n{today} 08.01 - Sari: halo juga\n{later} 09.00 - Rina: besok\n",
                    encoding="utf-8")
    summary = _import(runner, chat, "--me", "Sari")
    assert summary["messages_imported"] == 3 and summary["future_dated"] == 1
    assert summary["notes"] == [{"file": "chat.txt", "kind": "future", "count": 1, "lines": [3]}]
    assert "besok" in {m.body for m in db.session.execute(db.select(Message)).scalars()}


def test_a_message_past_the_length_limit_is_cut_and_reported(app, runner, tmp_path):
    app.config["IMPORT_MAX_MESSAGE_CHARS"] = 100
    chat = tmp_path / "chat.txt"
    chat.write_text("23/05/26 10.15 - Rina: " + "panjang " * 50 + "\n23/05/26 10.16 - Sari: ok\n", encoding="utf-8")
    summary = _import(runner, chat, "--me", "Sari")
    assert summary["notes"][0]["kind"] == "cut" and summary["notes"][0]["lines"] == [1]
    body = db.session.execute(db.select(Message.body).where(Message.side == "customer")).scalar_one()
    assert len(body) < 200 and "message cut here" in body


def test_the_message_limit_is_a_setting(app, runner, tmp_path):
    app.config["IMPORT_MAX_MESSAGES"] = 1000
    chat = tmp_path / "chat.txt"
    chat.write_text("".join(f"23/05/26 10.{i % 60:02d} - {'Rina' if i % 2 else 'Sari'}: pesan {i}\n"
                            for i in range(1500)), encoding="utf-8")
    summary = _import(runner, chat, "--me", "Sari", exit_code=1)
    assert "more than 1000 messages" in summary["errors"][0]["message"]
    assert _count(Message) == 0


def test_a_dry_run_writes_nothing_and_takes_no_write_lock(app, runner, database_url):
    # Another connection holds the write lock for the whole dry run (SQLite's; on PostgreSQL the lock every
    # write of Obrolan takes first, crm.sqlite.hold_customers, and the tables): it still finishes, writing nothing.
    holder = sqlalchemy.create_engine(database_url, poolclass=sqlalchemy.NullPool).connect()
    done = threading.Event()
    try:
        if holder.dialect.name == "sqlite":
            holder.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            holder.begin()
            holder.execute(sqlalchemy.text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
            holder.exec_driver_sql("LOCK TABLE messages, conversations, customers, import_jobs IN EXCLUSIVE MODE")
        result = runner.invoke(args=["import-chat", str(SAMPLES), "--dry-run", "--json", "--me", "Toko Batik Sari",
                                     "--me", "Admin Sari", "--me", "Kerajinan Bu Ani"])
        done.set()
    finally:
        holder.rollback()
        holder.close()
    assert done.is_set() and result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["messages_imported"] > 0
    assert _count(Message) == 0 and _count(Customer) == 0 and _count(ImportJob) == 0


def test_old_uploads_are_deleted(app, staff_client, clock):
    import io

    staff_client.post("/conversations/import", content_type="multipart/form-data", data={
        "export": (io.BytesIO(RINA.read_bytes()), RINA.name), "format": "auto", "channel": "", "dry_run": "y"})
    job = db.session.execute(db.select(ImportJob)).scalar_one()
    assert import_jobs.file_kept(job), "kept: the check offers to import it"
    clock.shift(timedelta(days=2))
    import_jobs.recover_dead_jobs()
    assert not Path(db.session.get(ImportJob, job.id).path).exists()
    assert not import_jobs.file_kept(db.session.get(ImportJob, job.id))
    assert datetime.now(timezone.utc) > job.created_at


def test_a_message_logged_by_someone_else_meanwhile_is_not_written_twice(runner, monkeypatch):
    _import(runner, RINA, "--me", "Toko Batik Sari")
    # As if a colleague had logged the same messages between the import's check and its write.
    monkeypatch.setattr(ImportRun, "existing", lambda self, prints, customer_id: {})
    job = import_jobs.create_job(source_name=RINA.name, path=str(RINA), options={}, runner="cli")
    db.session.commit()
    job = import_jobs.run_job(job.id)
    assert job.status == "done", job.error
    assert job.summary["messages_imported"] == 0 and job.summary["duplicates_skipped"] == 13
    assert _count(Message) == 13
