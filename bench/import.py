"""How fast a big WhatsApp export imports, and whether memory stays flat as the file grows.

    .venv/bin/python bench/import.py                  # 100,000 lines
    .venv/bin/python bench/import.py --lines 200000   # memory should not double
    .venv/bin/python bench/import.py --profile        # cProfile of the first import, top functions

Generates (seeded, so every run is the same file) an Android WhatsApp export in the Indonesian locale
("23/11/26 10.15 - Name: text") between one reseller customer and the shop, years of it: mixed
Indonesian/English lines, multi-line orders and addresses, emoji, media placeholders, deleted messages
and a few system lines, with gaps of more than a day between conversations. Then, on a fresh database
built by the migrations, it times `import_path` + commit as `flask import-chat --me "Toko Batik Sari"`
would run it, imports the same file again (every message a duplicate), and imports it once more into
another fresh database under tracemalloc to measure the Python memory the import holds at its peak.

The first import and the re-import run without tracemalloc (it slows allocation-heavy code down);
peak RSS (ru_maxrss) is read before the tracemalloc pass, so tracemalloc's own bookkeeping is not in it.

Then, unless --no-live, with a real server (`flask serve`, waitress, 8 threads) on a fresh database:
- no stall: two staff members log chats (a new customer, two messages, as Log chat posts them) one after the
  other, first alone for a baseline, then while the same export is imported from the Import page, then while
  it is imported by `flask import-chat` in another process: p50/p95/max latency and the errors of those posts;
- attack files, each uploaded to a fresh server, with the server's peak RSS (VmHWM) and what the page said:
  a ~150 KB zip expanding to 1.19 million messages, a zip with 5,000 members, one 256 MiB line in a small zip
  (and a 200 MiB one, under the size limit), a zip holding a 512 MiB JSON, and a 32 MiB Telegram export (at the
  JSON limit, imported whole).
The last line is machine-readable:
    summary: lines=N seconds=S lines_per_s=R peak_rss_mb=M reimport_seconds=T logchat_p95_s=P logchat_errors=E \
        logchat_p95_cli_s=P logchat_errors_cli=E attack_peak_rss_mb=A
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 20261126
SHOP = "Toko Batik Sari"
CUSTOMER = "Rina Wijaya"
FILE_NAME = f"Chat WhatsApp dengan {CUSTOMER}.txt"
GAP_HOURS = 24  # the app's CONVERSATION_GAP_HOURS default: the generator keeps clear of it either side

PRODUCTS = ("gamis", "kemeja batik", "blouse", "daster", "kulot", "pashmina", "khimar", "mukena", "tunik",
            "rok plisket", "outer", "kebaya", "sarung", "totebag", "hijab segi empat")
PRODUCTS_EN = ("dress", "batik shirt", "blouse", "skirt", "scarf", "outer", "tote bag")
COLOURS = ("hitam", "navy", "maroon", "sage", "mocca", "dusty pink", "cream", "army", "terracotta", "lilac")
COLOURS_EN = ("black", "navy", "maroon", "beige", "pink", "olive", "brown")
SIZES = ("S", "M", "L", "XL", "XXL", "allsize", "jumbo")
MOTIFS = ("parang", "kawung", "megamendung", "truntum", "sidomukti", "lasem", "pekalongan")
CITIES = ("Bandung", "Jakarta Selatan", "Surabaya", "Bekasi", "Depok", "Malang", "Yogyakarta", "Medan", "Makassar")
COURIERS = ("JNE REG", "J&T", "SiCepat", "AnterAja", "GoSend", "Pos Indonesia")
BANKS = ("BCA", "BRI", "Mandiri", "BSI", "GoPay", "Dana", "QRIS")

CUSTOMER_LINES = (
    "Halo kak, {product} motif {motif} ukuran {size} masih ready?", "kak {product} {colour} ready?",
    "brp harga {product} {colour} kak", "harga grosir {product} brp kak? ambil {n} kodi",
    "Is the {product_en} in {colour_en} still available?", "How much for {n} pcs of the {product_en}?",
    "ongkir ke {city} brp ya kak", "kirim pake {courier} bisa kak?", "resinya mana kak?",
    "udah tf via {bank} ya kak, {price}", "kak aku jadi ambil {n} {product} {colour} {size}",
    "paket udah sampe, makasih kak 🙏", "kak paketnya blm sampe 😢", "warnanya beda sama foto kak",
    "bisa tukar ukuran ga kak?", "aku dropship ya kak, kirim ke {city}", "restock {product} kapan kak?",
    "realpict {product} {colour} dong kak", "ok kak", "siap kak", "makasih kak", "wkwk iya kak",
    "sip 👍", "p", "kak?", "Thank you!", "oke noted", "sebentar ya kak", "nanti aku kabarin lagi ya 😊",
    "Assalamualaikum kak", "mantap kak 😍😍", "diskon dong kak hehe", "yg {colour} aja deh kak",
)
CUSTOMER_BLOCKS = (
    "Kak aku order ya:\n{n} {product} {colour} {size}\n{n} {product} {colour} {size}\nKirim ke {city}",
    "Nama: Rina Wijaya\nAlamat: Jl. Melati No. {n}, RT 0{n}/RW 0{n}, {city}\nHP: 0812-3456-{n}{n}{n}{n}\n"
    "Pesanan: {product} {colour} {size} x{n}",
    "Kak mau tanya dong\nbahan {product} nya apa?\nadem ga? soalnya buat lebaran 🌙",
    "Order dropship:\n\nPenerima: Bu Sari\n{city}\n0813-2222-{n}{n}{n}{n}\n\nPengirim: Rina Shop",
)
STAFF_LINES = (
    "Halo kak {first} 😊 ready kak, ukuran {size}", "Harga {product} {price} kak",
    "Ongkir ke {city} {ongkir} via {courier}", "Sudah dikirim ya kak, resi {courier} JP{resi}",
    "Maaf kak {product} {colour} lagi kosong, restock minggu depan 🙏", "Siap kak, ditunggu 🙏",
    "Terima kasih sudah order kak 🙏", "Hi! Yes, the {product_en} is available in {colour_en}.",
    "Bahannya katun rayon kak, adem", "Bisa kak, COD {city}", "Baik kak, kami cek dulu ya",
    "Mohon maaf atas ketidaknyamanannya kak", "Untuk reseller minimal {n} pcs kak, harga {price}",
    "Warna ready: {colour}, {colour2}, {colour3}", "Pesanan kakak sudah kami proses ya ✨", "Oke kak",
)
STAFF_BLOCKS = (
    "Total pesanan kakak:\n{n} x {product} {colour} = {price}\nOngkir {courier} {ongkir}\n"
    "Transfer ke {bank} 1234{n}5678 a.n. Toko Batik Sari\nTerima kasih 🙏",
    "Format order ya kak:\nNama:\nAlamat lengkap:\nNo HP:\nPesanan (warna/ukuran/jumlah):\nEkspedisi:",
    "Promo minggu ini ✨\n{product} motif {motif} {price}\n{product} {colour} {price}\nFree ongkir {city}!",
)
MEDIA = ("<Media tidak disertakan>", "<Media tidak disertakan>", "<Media tidak disertakan>",
         "IMG-2024{n}{n}-WA00{n}{n}.jpg (file terlampir)", "Katalog_{motif}.pdf (file terlampir)")
DELETED = "Pesan ini telah dihapus"


def _fill(rng: random.Random, template: str) -> str:
    if "{" not in template:
        return template
    return template.format(
        product=rng.choice(PRODUCTS), product_en=rng.choice(PRODUCTS_EN), colour=rng.choice(COLOURS),
        colour2=rng.choice(COLOURS), colour3=rng.choice(COLOURS), colour_en=rng.choice(COLOURS_EN),
        size=rng.choice(SIZES), motif=rng.choice(MOTIFS), city=rng.choice(CITIES), courier=rng.choice(COURIERS),
        bank=rng.choice(BANKS), n=rng.randint(1, 9), first="Rina", price=f"{rng.randint(7, 90) * 5}rb",
        ongkir=f"{rng.randint(9, 40)}rb", resi=rng.randint(10**9, 10**10 - 1),
    )


def _stamp(moment: datetime) -> str:
    return f"{moment:%d/%m/%y %H.%M}"


@dataclass
class Generated:
    path: Path
    lines: int = 0
    messages: int = 0
    system_lines: int = 0
    conversations: int = 0
    first: datetime | None = None
    last: datetime | None = None


def generate(folder: Path, lines: int, seed: int = SEED) -> Generated:
    """Write exactly `lines` lines; counts what the importer should find (messages, conversations)."""
    rng = random.Random(seed)
    out = Generated(folder / FILE_NAME)
    # Years of chat ending well before today (imports leave out messages dated in the future): about 60 lines a day.
    start = datetime(2026, 1, 5, 9, 12) - timedelta(days=lines // 60)
    now = start.replace(hour=9, minute=12)
    last_message: datetime | None = None
    left_in_conversation = 0

    with open(out.path, "w", encoding="utf-8", newline="\n") as file:
        def write(entry: list[str]) -> bool:
            """Write a message's lines (cut off at the limit); False once the file is full."""
            room = lines - out.lines
            file.write("\n".join(entry[:room]) + "\n")
            out.lines += min(len(entry), room)
            return out.lines < lines

        write([f"{_stamp(now)} - Pesan dan panggilan terenkripsi secara end-to-end. Tidak seorang pun di luar "
               "chat ini, termasuk WhatsApp, yang dapat membaca atau mendengarkannya."])
        out.system_lines += 1
        side = "customer"
        while out.lines < lines:
            if left_in_conversation == 0:
                # A new conversation, a few days later in the daytime: always more than a day after the last
                # message (from 23.59 to 07.00 two days on is 31 hours). The reseller orders twice a week.
                left_in_conversation = rng.randint(80, 400)
                if last_message is not None:
                    day = now.date() + timedelta(days=rng.choice((2, 2, 3)))
                    now = datetime(day.year, day.month, day.day, rng.randint(7, 20), rng.randint(0, 59))
                side = "customer"
            else:
                roll = rng.random()
                if now.hour >= 22 or (now.hour >= 18 and roll < 0.01):
                    # Overnight, same conversation: the next morning is less than a day later.
                    day = now.date() + timedelta(days=1)
                    now = datetime(day.year, day.month, day.day, rng.randint(7, 9), rng.randint(0, 59))
                elif roll < 0.08:
                    now += timedelta(minutes=rng.randint(5, 90))
                else:               # same minute or a few minutes later: repeated "ok"s count as occurrences
                    now += timedelta(seconds=rng.randint(0, 180))
                side = side if rng.random() < 0.35 else ("staff" if side == "customer" else "customer")
            left_in_conversation -= 1

            if rng.random() < 0.001:  # a system line between messages: security code change or a missed call
                if rng.random() < 0.5:
                    entry = [f"{_stamp(now)} - Kode keamanan Anda dengan {CUSTOMER} telah berubah. "
                             "Ketuk untuk info selengkapnya."]
                else:
                    entry = [f"{_stamp(now)} - {CUSTOMER}: Panggilan suara tak terjawab"]
                out.system_lines += 1
                if not write(entry):
                    break
                continue

            roll = rng.random()
            if roll < 0.07:
                body = _fill(rng, rng.choice(MEDIA))
            elif roll < 0.075:
                body = DELETED
            elif roll < 0.14:
                body = _fill(rng, rng.choice(CUSTOMER_BLOCKS if side == "customer" else STAFF_BLOCKS))
            else:
                body = _fill(rng, rng.choice(CUSTOMER_LINES if side == "customer" else STAFF_LINES))
            name = CUSTOMER if side == "customer" else SHOP
            if last_message is None or now - last_message > timedelta(hours=GAP_HOURS):
                out.conversations += 1
            out.first = out.first or now
            out.last = last_message = now
            out.messages += 1
            if not write(f"{_stamp(now)} - {name}: {body}".split("\n")):
                break
    return out


def _migrated_database(folder: Path) -> Path:
    """An empty database built by the migrations, as `flask db upgrade` builds it (copied for each run)."""
    from flask_migrate import upgrade

    from crm import create_app
    from crm.extensions import db

    path = folder / "template.sqlite"
    app = create_app({"INSTANCE_PATH": str(folder), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


def _app(template: Path, name: str):
    from crm import create_app

    path = template.with_name(name)
    shutil.copy(template, path)
    return create_app({"INSTANCE_PATH": str(template.parent), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})


def _import(chat: Path):
    """As `flask import-chat PATH --me SHOP` runs it: a job, written in batches, published at the end."""
    from crm.conversations import import_jobs
    from crm.conversations.importing import ImportSummary
    from crm.extensions import db

    started, cpu_started = time.perf_counter(), time.process_time()
    job = import_jobs.create_job(source_name=chat.name, path=str(chat), options={"me": [SHOP]}, runner="cli")
    db.session.commit()
    job = import_jobs.run_job(job.id)
    summary = ImportSummary.from_dict(job.summary)
    return summary, time.perf_counter() - started, time.process_time() - cpu_started


# --- live: staff logging chats while an import runs, and the attack files -----------------------------------

STAFF_EMAIL, STAFF_PASSWORD = "bench@tokosari.id", "bench password 123"
LOG_CLIENTS = 2


def _live_database(template: Path, name: str) -> Path:
    """A copy of the migrated database with a staff account the benchmark logs in with."""
    from crm import create_app
    from crm.auth.services import create_user
    from crm.extensions import db

    path = template.with_name(name)
    shutil.copy(template, path)
    app = create_app({"INSTANCE_PATH": str(template.parent), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        create_user(name="Bench Staff", email=STAFF_EMAIL, password=STAFF_PASSWORD, role="staff")
        db.session.commit()
        db.engine.dispose()
    return path


def _latest_job(database: Path) -> tuple[int, str, dict | None]:
    with sqlite3.connect(database, timeout=30) as connection:
        row = connection.execute("SELECT id, status, summary FROM import_jobs ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1], json.loads(row[2]) if row[2] else None) if row else (0, "", None)


def _wait_for_import(database: Path, timeout: float = 1800) -> tuple[str, dict | None, float]:
    """(status, summary, peak RSS in MB of the process that ran it), watching that process as it works."""
    deadline = time.monotonic() + timeout
    peak = 0.0
    while time.monotonic() < deadline:
        _, status, summary = _latest_job(database)
        with sqlite3.connect(database, timeout=30) as connection:
            worker = connection.execute("SELECT worker FROM import_jobs ORDER BY id DESC LIMIT 1").fetchone()[0]
        if worker:
            try:
                text = Path(f"/proc/{worker.split(':')[1]}/status").read_text()
                peak = max(peak, int(text.split("VmHWM:")[1].split()[0]) / 1024)
            except (OSError, IndexError, ValueError):
                pass
        if status and status not in ("queued", "running"):
            return status, summary, peak
        time.sleep(0.05)
    return "timeout", None, peak


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


class _LogChats:
    """LOG_CLIENTS staff members logging chats back to back (50 ms apart) until stopped."""

    def __init__(self, server, label: str):
        import threading

        from bench.live import Staff

        self.label, self.latencies, self.errors = label, [], []
        self.stop = threading.Event()
        self.staff = [Staff(server).login(STAFF_EMAIL, STAFF_PASSWORD) for _ in range(LOG_CLIENTS)]
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(LOG_CLIENTS)]

    def _run(self, number: int) -> None:
        count = 0
        while not self.stop.is_set():
            ok, seconds, why = self.staff[number].log_chat(f"{self.label} {number}-{count}")
            self.latencies.append(seconds)
            if not ok:
                self.errors.append(why)
            count += 1
            self.stop.wait(0.05)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def line(self) -> str:
        values = self.latencies
        return (f"{len(values)} log-chat posts, p50 {statistics.median(values):.3f} s, p95 "
                f"{_percentile(values, 0.95):.3f} s, max {max(values):.3f} s, {len(self.errors)} errors"
                + (f" ({', '.join(sorted(set(self.errors))[:3])})" if self.errors else ""))


def _no_stall(template: Path, chat: Path) -> dict:
    """Log-chat latency alone, during a web import and during a command-line import of the same export."""
    from bench.live import LiveServer, Staff

    figures = {}
    database = _live_database(template, "live-web.sqlite")
    with LiveServer(database, template.parent) as server:
        with _LogChats(server, "Baseline") as alone:
            time.sleep(8)
        print(f"no stall: alone: {alone.line()}")
        figures["baseline_p95"] = _percentile(alone.latencies, 0.95)
        uploader = Staff(server).login(STAFF_EMAIL, STAFF_PASSWORD)
        uploader.get("/conversations/import")
        with _LogChats(server, "During web import") as during:
            time.sleep(2)
            started = time.perf_counter()
            status, _ = uploader.upload("/conversations/import", chat.name, chat.read_bytes(),
                                        {"format": "auto", "channel": ""})
            answered = time.perf_counter() - started
            job_status, summary, worker_peak = _wait_for_import(database)
            seconds = time.perf_counter() - started
            time.sleep(2)
        imported = (summary or {}).get("messages_imported")
        print(f"no stall: web import: upload answered in {answered:.2f} s (HTTP {status}), job {job_status} after "
              f"{seconds:.1f} s, {imported} messages imported; peak RSS: server {server.peak_rss_mb():.0f} MB, "
              f"import process {worker_peak:.0f} MB")
        print(f"no stall: during the web import: {during.line()}")
        figures.update(web_p95=_percentile(during.latencies, 0.95), web_errors=len(during.errors),
                       web_rss=server.peak_rss_mb(), web_seconds=seconds)

    database = _live_database(template, "live-cli.sqlite")
    with LiveServer(database, template.parent) as server:
        env = {**os.environ, "OBROLAN_SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
               "OBROLAN_INSTANCE_PATH": str(template.parent)}
        with _LogChats(server, "During CLI import") as during:
            time.sleep(2)
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "app", "import-chat", str(chat), "--me", SHOP, "--json"],
                cwd=ROOT, env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - started
            time.sleep(2)
        print(f"no stall: command-line import: exit {result.returncode} after {seconds:.1f} s, "
              f"{result.stdout.strip().splitlines()[-1][:120] if result.stdout.strip() else result.stderr[-300:]}")
        print(f"no stall: during the command-line import: {during.line()}")
        figures.update(cli_p95=_percentile(during.latencies, 0.95), cli_errors=len(during.errors))
    return figures


def _write_zip(path: Path, members: dict) -> Path:
    """members: name -> bytes, or (head, chunk, count, tail) written piece by piece (never in memory whole)."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in members.items():
            if isinstance(content, tuple):
                head, chunk, count, tail = content
                with archive.open(name, "w", force_zip64=True) as member:
                    member.write(head)
                    for _ in range(count):
                        member.write(chunk)
                    member.write(tail)
            else:
                archive.writestr(name, content)
    return path


def _attack_files(folder: Path) -> list[tuple[str, Path]]:
    mib = 1024 * 1024
    chunk = b"x" * mib
    lines = "".join(f"13/03/24 10.{i % 60:02d} - {'Rina' if i % 2 else SHOP}: ok\n" for i in range(1_190_000))
    many = {f"WhatsApp Chat - Rina/IMG-2024010{i % 9}-WA{i:04d}.jpg": b"\xff\xd8" for i in range(4_999)}
    many["WhatsApp Chat - Rina/_chat.txt"] = (f"13/03/24 10.00 - Rina: halo kak\n13/03/24 10.01 - {SHOP}: halo\n"
                                              ).encode()
    thread = (b'{"participants": [{"name": "Rina"}, {"name": "Toko Batik Sari"}], "messages": '
              b'[{"sender_name": "Rina", "timestamp_ms": 1709265600000, "content": "')
    telegram = ['{"name": "Rina", "type": "personal_chat", "id": 1, "messages": [']
    for i in range(140_000):
        telegram.append(('' if i == 0 else ',') + json.dumps({
            "id": i, "type": "message", "date": f"2024-03-01T10:{i % 60:02d}:00",
            "date_unixtime": str(1709262000 + i * 7), "from": "Rina" if i % 2 else SHOP,
            "from_id": "user1" if i % 2 else "user2",
            "text": f"Halo kak, gamis motif parang ukuran L masih ready? pesan {i}", "text_entities": []}))
    telegram.append("]}")
    files = [
        ("a 150 KB zip that expands to 1.19 million messages", _write_zip(folder / "WhatsApp Chat - Bom.zip",
                                                                           {"_chat.txt": lines.encode()})),
        ("a zip with 5,000 members", _write_zip(folder / "WhatsApp Chat - Rina.zip", many)),
        ("one 256 MiB line in a small zip", _write_zip(folder / "WhatsApp Chat - Panjang.zip", {
            "_chat.txt": (b"13/03/24 10.00 - Rina: ", chunk, 256, b"\n")})),
        ("one 200 MiB line in a small zip (under the size limit)", _write_zip(
            folder / "WhatsApp Chat - Panjang 200.zip",
            {"_chat.txt": (b"13/03/24 10.00 - Rina: ", chunk, 200, b"\n")})),
        ("a zip holding a 512 MiB JSON", _write_zip(folder / "facebook-rina.zip", {
            "messages/inbox/rina_1/message_1.json": (thread, chunk, 512, b'"}]}')})),
        ("a 31 MiB Telegram result.json (140,000 messages, just under the JSON limit)", folder / "result.json"),
    ]
    (folder / "result.json").write_text("".join(telegram), encoding="utf-8")
    return files


def _attacks(template: Path, folder: Path) -> float:
    """Each attack file uploaded to a fresh server: what the page said, how long, the server's peak RSS."""
    from bench.live import LiveServer, Staff

    worst = 0.0
    for label, path in _attack_files(folder):
        database = _live_database(template, f"attack-{path.stem}.sqlite")
        with LiveServer(database, template.parent) as server:
            staff = Staff(server).login(STAFF_EMAIL, STAFF_PASSWORD)
            staff.get("/conversations/import")
            before = server.rss_mb()
            started = time.perf_counter()
            status, page = staff.upload("/conversations/import", path.name, path.read_bytes(),
                                        {"format": "auto", "channel": ""})
            job_status, summary, worker_peak = _wait_for_import(database)
            seconds = time.perf_counter() - started
            peak = server.peak_rss_mb()
            worst = max(worst, peak, worker_peak)
            said = "; ".join(error["message"] for error in (summary or {}).get("errors", [])[:1])
            imported = (summary or {}).get("messages_imported")
            print(f"attack: {label} ({path.stat().st_size / 1e3:,.0f} KB): HTTP {status}, job {job_status} in "
                  f"{seconds:.1f} s, {imported} messages imported; peak RSS: server {peak:.0f} MB ({before:.0f} "
                  f"before), import process {worker_peak:.0f} MB" + (f"; said: {said[:160]}" if said else ""))
    return worst


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000, help="lines in the generated export (default 100000)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--profile", action="store_true", help="cProfile the first import and print the top 30")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and say where it is")
    parser.add_argument("--no-live", action="store_true", help="skip the live server: no-stall and attack files")
    args = parser.parse_args(argv)

    from crm.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="obrolan-bench-import-"))
    # Other work on the machine slows the wall clock, not the CPU time: both are printed, with the load.
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}")
    try:
        started = time.perf_counter()
        made = generate(folder, args.lines, args.seed)
        size_mb = made.path.stat().st_size / 1e6
        print(f"generated: {made.lines} lines, {made.messages} messages, {made.system_lines} system lines, "
              f"{made.conversations} conversations, {made.first:%Y-%m-%d} to {made.last:%Y-%m-%d}, "
              f"{size_mb:.1f} MB in {time.perf_counter() - started:.1f} s")

        template = _migrated_database(folder)
        app = _app(template, "obrolan.sqlite")
        with app.app_context():
            gc.collect()
            rss_before = _peak_rss_mb()
            profile = cProfile.Profile() if args.profile else None
            if profile:
                profile.enable()
            summary, seconds, cpu_seconds = _import(made.path)
            if profile:
                profile.disable()
            rss_after = _peak_rss_mb()
            print(f"import: {summary.messages_imported} messages imported, {summary.conversations} conversations, "
                  f"{summary.system_lines_skipped} system lines skipped, {summary.duplicates_skipped} duplicates, "
                  f"errors {summary.errors or 'none'}")
            print(f"import: {seconds:.2f} s ({cpu_seconds:.2f} s CPU), {made.lines / seconds:,.0f} lines/s, "
                  f"{summary.messages_imported / seconds:,.0f} messages/s")
            if (summary.messages_imported, summary.conversations) != (made.messages, made.conversations):
                print(f"MISMATCH: expected {made.messages} messages in {made.conversations} conversations")

            again, reimport_seconds, _ = _import(made.path)
            print(f"re-import: {again.messages_imported} messages added, {again.duplicates_skipped} duplicates "
                  f"skipped, {reimport_seconds:.2f} s")
            if again.messages_imported != 0:
                print("MISMATCH: the re-import added messages")
            rss_peak = _peak_rss_mb()
            db.session.remove()
            db.engine.dispose()
        print(f"memory: peak RSS {rss_before:.0f} MB before the import (app, migrations, generator), "
              f"{rss_after:.0f} MB after it, {rss_peak:.0f} MB after the re-import")

        # Python allocations held at the worst moment of an import: should not grow with the file.
        app = _app(template, "traced.sqlite")
        with app.app_context():
            gc.collect()
            tracemalloc.start()
            _, traced_seconds, _ = _import(made.path)
            _, traced_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            db.session.remove()
            db.engine.dispose()
        print(f"memory: tracemalloc peak {traced_peak / 1e6:.1f} MB of Python allocations during an import "
              f"(run traced, {traced_seconds:.1f} s)")

        if profile:
            print()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
            pstats.Stats(profile).sort_stats("tottime").print_stats(20)
        live = {}
        attack_peak = float("nan")
        if not args.no_live:
            live = _no_stall(template, made.path)
            attack_peak = _attacks(template, folder)
        if args.keep:
            print(f"kept: {folder}")
        print(f"machine: load average {os.getloadavg()[0]:.1f} at the end")
        print(f"summary: lines={made.lines} seconds={seconds:.2f} lines_per_s={made.lines / seconds:.0f} "
              f"peak_rss_mb={rss_peak:.0f} reimport_seconds={reimport_seconds:.2f} "
              f"logchat_p95_s={live.get('web_p95', float('nan')):.3f} logchat_errors={live.get('web_errors', '-')} "
              f"logchat_p95_cli_s={live.get('cli_p95', float('nan')):.3f} "
              f"logchat_errors_cli={live.get('cli_errors', '-')} attack_peak_rss_mb={attack_peak:.0f}")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
