"""Imports as jobs: run in the background for the Import page (or in the foreground by `import-chat`), one at a
time, in short transactions, hidden until they publish.

A job is queued with its file (an upload is kept under instance/imports/<job id>/ until nothing more can be done
with it) and its options. One thread in the serving process hands web jobs, oldest first, to a process of their
own (`flask run-import ID`; IMPORT_WORKER = "thread" runs them in that thread instead, as the tests do, whose
clock is their own); `import-chat` runs its job in its own process, after waiting for one already running. A job:
1. reads and saves in batches (crm.conversations.importing.ImportRun), each a transaction of its own, recording
   its progress and a heartbeat as it goes;
2. publishes: one short transaction shows its customers and conversations and moves the messages meant for
   existing conversations into them; or stops at "confirm" when no date in the file told the day from the
   month, until the user says which;
3. on an error, deletes what it wrote (status "failed"). A job whose process died (kill -9, a power cut) is
   found by the next process to look (worker and heartbeat) and cleaned up the same way ("interrupted").
A dry run writes no chat data and takes no write lock while it reads: only its progress and summary are saved.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess  # nosec B404 - runs `flask run-import`, our own command
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask import Flask, current_app, g
from flask_babel import force_locale, gettext

from .. import PROJECT_ROOT
from ..admin import audit
from ..extensions import db
from ..kept import mark_conversations, mark_customers
from ..models import Conversation, Customer, ImportJob, Message, User
from ..needs.tagging import tag_conversations
from .chat_plans import remember_customer_names, remember_our_names, survivor
from .importing import ImportRun, ImportSummary, import_path
from .services import refingerprint, refresh_conversation_times

STALE_AFTER = timedelta(minutes=10)   # a job on another machine that has not written for this long has died
CONFIRM_KEPT = timedelta(days=7)      # a job waiting for "which date order" is dropped after this
UPLOAD_KEPT = timedelta(days=1)       # an upload kept for a follow-up (import after a check, choose the shop)
DELETE_BATCH = 2000
PROGRESS_EVERY = 1.0                  # seconds between progress writes of a dry run
_STARTED = f"{time.time():.6f}"


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_STARTED}"


def uploads_folder() -> Path:
    return Path(current_app.instance_path) / "imports"


# --- making jobs ------------------------------------------------------------------------------------------


def create_job(*, source_name: str, path: str | None = None, upload=None, dry_run: bool = False,
               options: dict | None = None, user: User | None = None, locale: str | None = None,
               runner: str = "web") -> ImportJob:
    """A queued job. `upload` (a werkzeug FileStorage) is kept under the instance folder; `path` is read where
    it is (the command line's file or folder). The caller commits."""
    job = ImportJob(source_name=source_name[:255], path=path or "", upload=upload is not None, dry_run=dry_run,
                    options={**(options or {}), "runner": runner}, created_by_id=user.id if user else None,
                    locale=locale, status="queued", worker=this_process() if runner == "cli" else None)
    db.session.add(job)
    db.session.flush()
    if upload is not None:
        folder = uploads_folder() / str(job.id)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / source_name
        upload.save(target)
        job.path = str(target)
    return job


def follow_up(job: ImportJob, *, user: User | None, dry_run: bool | None = None, **options) -> ImportJob:
    """A new job on the same file with some options changed (import after a check, the other date order, the
    shop's names chosen); the file passes to it."""
    new = ImportJob(source_name=job.source_name, path=job.path, upload=job.upload,
                    dry_run=job.dry_run if dry_run is None else dry_run,
                    options={**job.options, **options}, created_by_id=user.id if user else job.created_by_id,
                    locale=job.locale, status="queued")
    job.upload = False  # the file is the new job's now
    db.session.add(new)
    db.session.flush()
    return new


def file_kept(job: ImportJob) -> bool:
    return job.upload and bool(job.path) and Path(job.path).is_file()


# --- running one ------------------------------------------------------------------------------------------


def claim(job_id: int) -> bool:
    """Start the job if no other import is running: one at a time, so two imports of the same chat cannot both
    make its customer, and a big one has the machine's memory to itself. On SQLite the check and the claim are
    one statement under the write lock."""
    running = db.select(ImportJob.id).where(ImportJob.status == "running", ImportJob.id != job_id).exists()
    now = datetime.now(timezone.utc)
    claimed = db.session.execute(
        db.update(ImportJob).where(ImportJob.id == job_id, ImportJob.status == "queued", ~running)
        .values(status="running", worker=this_process(), heartbeat_at=now, started_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(claimed)


def run_job(job_id: int, *, wait: float = 0, report=None) -> ImportJob:
    """Run a queued job here and now (waiting up to `wait` seconds for another import to end); returns it.
    `report(run)` is called with the progress after each batch (the command line's progress bar)."""
    deadline = time.monotonic() + wait
    while not claim(job_id):
        job = db.session.get(ImportJob, job_id)
        if job is None or job.status != "queued" or time.monotonic() >= deadline:
            return job
        recover_dead_jobs()
        time.sleep(0.5)
    job = db.session.get(ImportJob, job_id)
    g.audit_user = job.created_by  # the audit trail names who started it
    try:
        with force_locale(job.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            _run(job, report)
    finally:
        g.pop("audit_user", None)
    return db.session.get(ImportJob, job_id)


def _run(job: ImportJob, report=None) -> None:
    job_id = job.id
    options = job.options or {}
    last_write = [0.0]

    def progress(run: ImportRun) -> None:
        now = time.monotonic()
        if run.dry and now - last_write[0] < PROGRESS_EVERY:
            return
        last_write[0] = now
        db.session.execute(db.update(ImportJob).where(ImportJob.id == job_id).values(
            lines_read=run.lines_read, messages_total=run.messages_total, messages_done=run.messages_done,
            messages_saved=run.summary.messages_imported, heartbeat_at=datetime.now(timezone.utc)))
        if run.dry:
            db.session.commit()  # a dry run's only writes: a moment each
        if report is not None:
            report(run)

    run = ImportRun(dry_run=job.dry_run, job=job, logged_by_id=job.created_by_id, on_progress=progress)
    try:
        import_path(job.path, format=options.get("format") or "auto", channel=options.get("channel"),
                    me=options.get("me") or (), customer_name=options.get("customer_name"),
                    day_first=options.get("day_first"), run=run)
    except Exception:
        current_app.logger.exception("Import %s failed", job_id)
        db.session.rollback()
        discard_rows(job_id)
        job = db.session.get(ImportJob, job_id)
        _end(job, "failed", run.summary,
             error=gettext("The import stopped on an error; nothing of it was saved. Try again, or ask for help "
                           "with this file."))
        db.session.commit()
        return
    job = db.session.get(ImportJob, job_id)
    job.lines_read, job.messages_total, job.messages_done = run.lines_read, run.messages_total, run.messages_done
    job.messages_saved = run.summary.messages_imported
    keep_for_publishing(job, run)
    summary = run.summary
    if job.dry_run:
        _end(job, "done", summary)
    elif (options.get("confirm_dates") and options.get("day_first") is None and summary.messages_imported
          and summary.ambiguous_date_orders):
        job.status = "confirm"  # hidden until the user says the dates are right
    else:
        _publish(job, summary)
    db.session.commit()


def keep_for_publishing(job: ImportJob, run: ImportRun) -> None:
    """What `publish` needs of a run that has written everything, kept with the job (it may publish later)."""
    job.pending = {
        "shadows": {str(shadow): target for shadow, target in run.shadows.items()},
        "our_names": {channel: sorted(names) for channel, names in run.our_names.items()},
        "customer_names": sorted(run.customer_names),
        "last_conversation_id": run.summary.last_conversation_id,
    }
    job.summary = run.summary.as_dict()


def _end(job: ImportJob, status: str, summary: ImportSummary | None, error: str | None = None) -> None:
    job.status = status
    job.finished_at = datetime.now(timezone.utc)
    job.error = error
    if summary is not None:
        data = summary.as_dict()
        data["last_conversation_id"] = summary.last_conversation_id
        job.summary = data
    if not offers_follow_up(job):
        _delete_upload(job)


def offers_follow_up(job: ImportJob) -> bool:
    """Whether the job's page offers to do more with the same file, which is then kept for a while."""
    summary = job.summary or {}
    return (job.dry_run or job.status in ("confirm", "failed", "interrupted")
            or bool(summary.get("undecided")))


# --- publishing and discarding -----------------------------------------------------------------------------


def publish(job: ImportJob) -> None:
    """Show what a job waiting at "confirm" wrote (the user said the dates are right). The caller commits."""
    _publish(job, ImportSummary.from_dict(job.summary))


def _publish(job: ImportJob, summary: ImportSummary) -> None:
    """One transaction: everything the job wrote becomes visible at once."""
    job_id = job.id
    db.session.execute(db.update(ImportJob).where(ImportJob.id == job_id)
                       .values(heartbeat_at=datetime.now(timezone.utc)))  # the write lock, first
    pending = job.pending or {}
    last = pending.get("last_conversation_id")
    targets = []
    for shadow_id, target_id in (pending.get("shadows") or {}).items():
        shadow_id = int(shadow_id)
        target = db.session.get(Conversation, target_id)
        if target is None or target.deleted_at is not None:
            continue  # put in the trash meanwhile: these messages stay a conversation of their own
        db.session.execute(db.update(Message).where(Message.conversation_id == shadow_id)
                           .values(conversation_id=target_id).execution_options(synchronize_session=False))
        db.session.execute(db.delete(Conversation).where(Conversation.id == shadow_id)
                           .execution_options(synchronize_session=False))
        targets.append(target)
        if last == shadow_id:
            last = target_id
    moved_customers = _follow_merges(job_id)
    new_conversations = db.session.execute(
        db.select(Conversation.id).where(Conversation.import_job_id == job_id)).scalars().all()
    db.session.execute(db.update(Conversation).where(Conversation.import_job_id == job_id)
                       .values(deleted_at=None, import_job_id=None).execution_options(synchronize_session=False))
    # Shown now: what lists and the report keep from them (crm.kept) follows, as for any write past the ORM.
    mark_conversations([*new_conversations, *(target.id for target in targets)])
    new_customers = db.session.execute(
        db.select(Customer).where(Customer.import_job_id == job_id).order_by(Customer.id)).scalars().all()
    for customer in new_customers:
        customer.deleted_at, customer.import_job_id = None, None
    db.session.flush()
    db.session.expire_all()
    for conversation_id in new_conversations:
        conversation = db.session.get(Conversation, conversation_id)
        if conversation.first_message_at is None:  # a shadow whose conversation went to the trash meanwhile
            refresh_conversation_times(conversation)
    for target in targets:
        refresh_conversation_times(target)
    tag_conversations([target.id for target in targets])
    for survivor_customer in moved_customers:
        refingerprint(survivor_customer)
    for channel, names in (pending.get("our_names") or {}).items():
        remember_our_names(channel, names)
    remember_customer_names((cid, channel, name) for cid, channel, name in pending.get("customer_names") or ())
    from ..customers.services import record_customer_created

    for customer in new_customers:
        record_customer_created(customer)
    summary.last_conversation_id = last
    audit.record("import", "import", job.source_name, audit.import_details(summary))
    job = db.session.get(ImportJob, job_id)
    job.pending = None
    _end(job, "done", summary)


def _follow_merges(job_id: int) -> list[Customer]:
    """An existing customer merged into another while the job ran: its new conversations go to the survivor."""
    customer_ids = db.session.execute(
        db.select(Conversation.customer_id).where(Conversation.import_job_id == job_id).distinct()).scalars().all()
    moved = []
    for customer_id in customer_ids:
        customer = db.session.get(Customer, customer_id)
        if customer is None or not customer.merged_into_id:
            continue
        found = survivor(customer)
        if found is None:
            continue
        db.session.execute(db.update(Conversation).where(Conversation.import_job_id == job_id,
                                                         Conversation.customer_id == customer_id)
                           .values(customer_id=found.id).execution_options(synchronize_session=False))
        mark_customers([customer_id, found.id])
        moved.append(found)
    return moved


def discard(job: ImportJob, status: str = "discarded") -> None:
    """Delete what a job wrote and never showed; commits as it goes (a few thousand rows at a time)."""
    job_id = job.id
    discard_rows(job_id)
    job = db.session.get(ImportJob, job_id)
    job.pending = None
    _end(job, status, None)
    db.session.commit()


def discard_rows(job_id: int) -> None:
    hidden = db.select(Conversation.id).where(Conversation.import_job_id == job_id)
    while True:
        ids = db.session.execute(
            db.select(Message.id).where(Message.conversation_id.in_(hidden)).limit(DELETE_BATCH)).scalars().all()
        if not ids:
            break
        db.session.execute(db.delete(Message).where(Message.id.in_(ids))
                           .execution_options(synchronize_session=False))
        db.session.commit()
    db.session.execute(db.delete(Conversation).where(Conversation.import_job_id == job_id)
                       .execution_options(synchronize_session=False))
    db.session.execute(db.delete(Customer).where(Customer.import_job_id == job_id)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.expire_all()


# --- jobs whose process died, files no longer needed ---------------------------------------------------------


def _alive(job: ImportJob) -> bool:
    host, _, rest = (job.worker or "").partition(":")
    pid, _, started = rest.partition(":")
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid():
            return started == _STARTED  # the same pid after a restart is another process
        if os.name != "nt":  # on Windows os.kill(pid, 0) would end that process: the heartbeat decides there
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                return False
            except OSError:
                return True
            return not _zombie(int(pid))
    beat = job.heartbeat_at or job.started_at or job.created_at
    return datetime.now(timezone.utc) - beat < STALE_AFTER


def _zombie(pid: int) -> bool:
    """A process that died but was never waited for still answers os.kill(pid, 0): its parent died with it and
    nothing reaps orphans where the first process is not an init (many containers)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def recover_dead_jobs() -> int:
    """Clean up after imports whose process died; drop old uploads and unconfirmed jobs. Returns how many died."""
    dead = 0
    for job in db.session.execute(db.select(ImportJob).where(ImportJob.status == "running")).scalars().all():
        if not _alive(job):
            discard(job, "interrupted")
            dead += 1
    for job in db.session.execute(db.select(ImportJob).where(
            ImportJob.status == "queued", ImportJob.worker.is_not(None))).scalars().all():
        if not _alive(job):  # an `import-chat` that died waiting for its turn
            _end(job, "interrupted", None)
            db.session.commit()
    old = datetime.now(timezone.utc) - CONFIRM_KEPT
    for job in db.session.execute(db.select(ImportJob).where(
            ImportJob.status == "confirm", ImportJob.finished_at.is_(None), ImportJob.created_at < old)).scalars():
        discard(job)
    kept = datetime.now(timezone.utc) - UPLOAD_KEPT
    for job in db.session.execute(db.select(ImportJob).where(
            ImportJob.upload.is_(True), ImportJob.finished_at.is_not(None), ImportJob.finished_at < kept)).scalars():
        _delete_upload(job)
    db.session.commit()
    return dead


def _delete_upload(job: ImportJob) -> None:
    if job.upload and job.path:
        folder = Path(job.path).parent
        if folder.parent == uploads_folder():
            shutil.rmtree(folder, ignore_errors=True)
    job.upload = False


# --- the background thread ---------------------------------------------------------------------------------


class _Worker:
    lock = threading.Lock()
    thread: threading.Thread | None = None


def start_worker(app: Flask) -> None:
    """Make sure this process runs the queued web jobs (a thread that ends when there are none)."""
    with _Worker.lock:
        if _Worker.thread is not None and _Worker.thread.is_alive():
            return
        _Worker.thread = threading.Thread(target=_work, args=(app,), name="obrolan-import", daemon=True)
        _Worker.thread.start()


def wait_for_worker(timeout: float = 60) -> None:
    thread = _Worker.thread
    if thread is not None:
        thread.join(timeout)


def _next_web_job() -> int | None:
    return db.session.execute(
        db.select(ImportJob.id).where(ImportJob.status == "queued", ImportJob.worker.is_(None))
        .order_by(ImportJob.id).limit(1)).scalar()


def _work(app: Flask) -> None:
    with app.app_context():
        try:
            recover_dead_jobs()
            while True:
                with _Worker.lock:
                    job_id = _next_web_job()
                    db.session.rollback()
                    if job_id is None:
                        _Worker.thread = None
                        return
                if app.config["IMPORT_WORKER"] == "process":
                    job = _run_in_a_process(app, job_id)
                else:
                    job = run_job(job_id, wait=STALE_AFTER.total_seconds())
                if job is not None and job.status == "queued":
                    time.sleep(1)  # an `import-chat` is running: its turn first
                db.session.remove()
        except Exception:
            app.logger.exception("The import worker stopped")
            with _Worker.lock:
                _Worker.thread = None
        finally:
            db.session.remove()


# What a worker process must know as the server knows it (the rest it reads as the server did: instance/config.py,
# OBROLAN_* variables).
_WORKER_SETTINGS = ("SQLALCHEMY_DATABASE_URI", "SHOP_TIMEZONE", "CONVERSATION_GAP_HOURS", "BABEL_DEFAULT_LOCALE",
                    "LANGUAGES")


def _run_in_a_process(app: Flask, job_id: int) -> ImportJob | None:
    """Run the job in a process of its own (`flask run-import ID`): the server's threads never wait for Python's
    lock behind an import, the import's memory is never the server's, and the system spreads the two over the
    machine's cores."""
    env = {**os.environ, "OBROLAN_INSTANCE_PATH": app.instance_path}
    for key, value in app.config.items():
        if key in _WORKER_SETTINGS or key.startswith("IMPORT_"):
            env[f"OBROLAN_{key}"] = json.dumps(value)
    command = [sys.executable, "-m", "flask", "--app", str(PROJECT_ROOT / "app.py"), "run-import", str(job_id)]
    finished = subprocess.run(command, env=env, cwd=PROJECT_ROOT, check=False)  # noqa: S603 - our own command
    if finished.returncode:
        app.logger.error("The import process for job %s ended with code %s", job_id, finished.returncode)
    db.session.expire_all()
    job = db.session.get(ImportJob, job_id)
    if job is not None and job.status == "running":  # the process died (killed, out of memory)
        recover_dead_jobs()
        job = db.session.get(ImportJob, job_id)
    return job


def wait_for(job_id: int, seconds: float) -> ImportJob:
    """The job once finished, or as it is after `seconds` (a small upload's summary comes back at once)."""
    deadline = time.monotonic() + seconds
    while True:
        db.session.expire_all()
        job = db.session.get(ImportJob, job_id)
        if job.status not in ("queued", "running") or time.monotonic() >= deadline:
            db.session.rollback()
            return job
        db.session.rollback()
        time.sleep(0.05)
