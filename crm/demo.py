"""A realistic shop, generated: customers, handles, conversations and messages in mixed Indonesian/English.

Used by `flask --app app demo-data` and by the benchmarks (bench/shops.py caches one per size). Deterministic for
a seed, streamed in batches (memory stays flat at any size) and written with plain INSERTs, as a bulk
import would write them, so the search index triggers do their work as they would in the shop.

    conn = sqlite3.connect(path_of_a_migrated_database, isolation_level=None)
    counts = generate(conn, customers=50_000, messages=1_000_000)

What is in it: staff accounts (owner e-mail DEMO_OWNER_EMAIL, password DEMO_PASSWORD), customers with
Indonesian names (a few with accents and emoji), phone numbers on WhatsApp, Instagram/TikTok/Telegram
handles and e-mail; pipeline stages; conversations of 2 to 30 messages over the last two years on the
customer's channels, logged by one of the staff; customer questions and staff answers about products,
prices, sizes, shipping, payment and complaints, with slang, typos, stretched letters, prices, rare words
and product codes; need tags on conversations (as the auto-tagger would set them, with the reason
message), a few removed tags, follow-ups, orders, deleted messages, deleted and merged customers.
"""
from __future__ import annotations

import hashlib
import heapq
import random
import secrets
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import click
from flask.cli import with_appcontext

# Bump when the generated shop changes, so the benchmarks' cached copies are built again (bench/shops.py).
VERSION = 4
SEED = 20261125
DEMO_OWNER_EMAIL = "owner@demo.obrolan.id"
DEMO_PASSWORD = "demo-password-123"
BATCH = 20_000
IMPORTED = 0.05  # share of conversations imported later, out of time order

FIRST = (
    "Sari Rina Dewi Ayu Putri Siti Nur Indah Wulan Fitri Rani Maya Lestari Ratna Yuni Dian Intan Mega Novi Tika "
    "Citra Anisa Nabila Aulia Zahra Salsa Keisha Bunga Tiara Vina Eka Dwi Tri Budi Agus Andi Rizky Fajar Dimas "
    "Yoga Bayu Eko Hendra Joko Wahyu Arif Ilham Reza Fikri Galih Hana Laras Melati Kartika Sekar Gita Nadia "
    "Oktavia Pratiwi Rahma Shinta Tasya Umi Vivi Winda Yanti Zaskia Renée José Andrés Chloé"
).split()
LAST = (
    "Wijaya Saputra Lestari Pratama Kusuma Hidayat Santoso Nugroho Wibowo Siregar Nasution Harahap Sitompul "
    "Simanjuntak Gunawan Halim Tanoto Setiawan Purnama Rahayu Utami Permata Anggraini Maharani Susanti "
    "Hutapea Manurung Lubis Tanjung Daulay Ginting Sembiring Tarigan Wirawan Hakim Rahman Syahputra Ramadhan"
).split()
NICK = ("Kak", "Bu", "Mbak", "Teh", "Cici", "Bunda", "Mama", "Ibu", "Mas", "Pak", "Dek", "Sis")
EMOJI = ("🌸", "💕", "✨", "🌷", "😊", "🛍️", "👗")
SHOPNAMES = ("shop", "store", "olshop", "collection", "boutique", "hijab", "batik", "official", "id", "jkt", "bdg")
CITIES = (
    "Jakarta Bandung Surabaya Medan Semarang Makassar Palembang Bekasi Tangerang Depok Bogor Malang Yogyakarta "
    "Solo Denpasar Balikpapan Pontianak Manado Padang Pekanbaru Batam Jambi Lampung Cirebon Tasikmalaya Garut "
    "Sukabumi Purwokerto Kediri Jember Banyuwangi Mataram Kupang Ambon Jayapura Samarinda Banjarmasin Singapore"
).split() + ["Kuala Lumpur", "Jakarta Selatan", "Tangerang Selatan"]
PRODUCTS = (
    "gamis hijab kerudung pashmina khimar mukena daster kemeja kaos blouse tunik rok celana kulot jaket hoodie "
    "cardigan sweater dress kebaya batik sarung sepatu sandal tas dompet totebag jilbab bergo abaya koko "
    "piyama outer rompi legging manset ciput"
).split()
PRODUCTS_EN = "dress shirt t-shirt blouse skirt trousers jacket hoodie cardigan bag shoes sandals scarf hijab".split()
COLOURS = (
    "hitam putih navy maroon mocca sage dusty pink cream army abu coklat milo lilac salem olive tosca mustard "
    "denim nude terracotta"
).split()
COLOURS_EN = "black white navy maroon beige pink grey brown olive mustard lilac".split()
SIZES = ("S", "M", "L", "XL", "XXL", "XXXL", "allsize", "jumbo", "38", "39", "40", "41", "42")
MATERIALS = ("katun", "rayon", "wolfis", "ceruti", "jersey", "linen", "satin", "crinkle", "voal", "diamond", "moscrepe")
COURIERS = ("JNE", "J&T", "SiCepat", "AnterAja", "Ninja", "Pos Indonesia", "GoSend", "GrabExpress", "Lion Parcel")
BANKS = ("BCA", "BRI", "BNI", "Mandiri", "BSI", "GoPay", "OVO", "Dana", "ShopeePay", "QRIS")
# Rare on purpose: a "rare word" query finds a handful among a million messages.
RARE = (
    "songket tenun ulos lurik jumputan sasirangan tapis gringsing organza brokat tulle chiffon velvet "
    "bordir payet sulam renda smock tiedye shibori ecoprint lasem pekalongan garutan kawung parang truntum "
    "sidomukti megamendung"
).split()
ACCENTED = ("café", "crème", "brûlée", "naïve", "façade", "résumé", "jalapeño", "Renée", "José")

CUSTOMER_LINES = {
    "price": (
        "Kak, harga {product} berapa?", "brp harga {product} {colour} kak", "{product} yg {colour} brp ya kak",
        "harga {product} ukuran {size} brapa", "How much is the {product_en}?", "kak ada diskon ga kalo ambil {n} pcs?",
        "harganya {price} ya kak?", "hrg {product} {material} brp kak", "Berapaan kak {product} nya?",
        "ada promo {product} ga kak?", "Price for {n} {product_en} please",
    ),
    "product": (
        "Kak {product} {colour} ready?", "ukuran {size} masih ada kak?",
        "Is the {product_en} in {colour_en} still available?",
        "bahan {product} nya apa kak? {material} ya?", "{product} {colour} ready stok?",
        "minta katalog {product} dong kak",
        "ada warna {colour} ga kak?", "kak {product} ini bahannya adem ga?", "do you have size {size}?",
        "realpict {product} {colour} dong kak", "model {product} yg kemarin di IG masih ada?",
    ),
    "order": (
        "Aku mau pesan {n} {product} {colour} ukuran {size} ya kak", "sudah transfer ya kak, {price}",
        "Mau order {product} {n} pcs kak", "I'd like to order {n} {product_en}, {colour_en}",
        "No rek nya brp kak?", "udah tf via {bank} ya kak", "kak aku jadi ambil {product} {colour} {size}",
        "bayarnya bisa {bank} kak?", "ini bukti transfernya kak", "checkout sekarang ya kak, {n} {product}",
    ),
    "shipping": (
        "ongkir ke {city} brp kak?", "kirim pake {courier} bisa kak?", "resi nya mana kak?",
        "paket udah sampe, makasih kak",
        "bisa COD {city}?", "kapan dikirim kak?", "How long is shipping to {city}?", "alamat aku di {city} ya kak",
        "kak paketnya blm sampe, resinya brp?", "pakai {courier} aja kak yg murah",
    ),
    "complaint": (
        "kak barangnya kok belum sampe ya", "ukurannya kekecilan, bisa tukar?", "warnanya beda sama foto kak",
        "The {product_en} arrived damaged", "kak jahitannya sobek 😭", "salah kirim warna kak, aku pesennya {colour}",
        "bisa retur ga kak?", "kecewa kak, {product}nya luntur",
    ),
    "reseller": (
        "kak bisa jadi reseller ga?", "harga grosir {product} brp kak? ambil {n} kodi",
        "aku dropship ya kak, kirim ke {city}",
        "min order buat reseller brp pcs kak?",
    ),
    "chat": (
        "makasih kak", "ok kak", "siap kak", "oke ditunggu ya", "hehe iya kak", "🙏", "wkwk iya kak", "Thank you!",
        "p", "halo kak", "Assalamualaikum kak", "kak?", "hallo", "oke noted", "sip", "baik kak terima kasih",
        "ini {first} yg kemarin kak", "no wa aku {phone} ya kak", "sebentar ya kak", "nanti aku kabarin lagi ya",
        "Nama: {first} {shop}\nAlamat: Jl. Kenanga No. {n}, RT 0{n}/RW 0{n}, Kel. Sukamaju, {city}\nHP: {phone}\n"
        "Pesanan: {product} {colour} {size} x{n}",
    ),
}
STAFF_LINES = (
    "Ready kak, ukuran {sizes} 😊", "Harga {product} {price} kak", "Ongkir ke {city} {ongkir} via {courier} kak",
    "Baik kak, total {price} ya. Transfer ke {bank} 123{n}456 a.n. Toko {shop}",
    "Sudah dikirim ya kak, resi {courier} {resi}",
    "Maaf kak {product} {colour} lagi kosong, restock minggu depan", "Siap kak, ditunggu 🙏",
    "Terima kasih sudah order kak 🙏",
    "Hi! Yes it's available in {sizes}. Price is {price}.", "Bahannya {material} kak, adem dan tidak nerawang",
    "Bisa kak, COD {city} ongkir {ongkir}", "Halo kak {first}, ada yang bisa dibantu?",
    "Mohon maaf atas ketidaknyamanannya kak",
    "Boleh kak, kirim foto barangnya ya untuk retur", "Untuk reseller minimal {n} pcs kak, harga {price}",
    "Warna yang ready: {colour}, {colour2}, {colour3}", "Pesanan kakak sudah kami proses ya",
    "Halo kak {first} 😊 {product} kami pakai bahan {material} premium, jahitan rapi, tersedia ukuran {sizes}.\n"
    "Harga normal {price}, minggu ini promo free ongkir {city} pakai {courier}. Stok terbatas ya kak!",
    "Format order ya kak:\nNama:\nAlamat lengkap:\nNo HP:\nPesanan (warna/ukuran/jumlah):\nEkspedisi: {courier}",
)
TAG_WORD = {"price": "harga", "product": "ready", "order": "transfer", "shipping": "ongkir",
            "complaint": "retur", "reseller": "reseller"}
STAGES = ("none",) * 10 + ("new_lead",) * 3 + ("interested",) * 3 + ("negotiating",) * 2 + ("won",) * 2 + ("lost",)


@dataclass
class Counts:
    users: int = 0
    customers: int = 0
    identities: int = 0
    conversations: int = 0
    messages: int = 0
    tags: int = 0
    seconds: float = 0.0
    index_seconds: float = 0.0


def _ts(moment: datetime) -> str:
    """How SQLAlchemy stores a UTCDateTime on SQLite: naive UTC with six decimals."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _typo(rng: random.Random, text: str) -> str:
    """What thumbs do on a phone: a dropped vowel, a stretched last letter, swapped letters, no capitals."""
    roll = rng.random()
    if roll < 0.35:
        return text.lower()
    words = text.split(" ")
    i = rng.randrange(len(words))
    word = words[i]
    if len(word) > 3 and word.isalpha():
        if roll < 0.6:
            vowels = [j for j, ch in enumerate(word[1:], 1) if ch in "aeiou"]
            if vowels:
                j = rng.choice(vowels)
                word = word[:j] + word[j + 1:]
        elif roll < 0.8:
            word = word + word[-1] * rng.randint(1, 3)
        else:
            j = rng.randrange(1, len(word) - 1)
            word = word[:j] + word[j + 1] + word[j] + word[j + 2:]
    words[i] = word
    return " ".join(words)


class _Writer:
    """Fills templates; one instance per generation so the random stream is reproducible."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def fill(self, template: str, first: str) -> str:
        rng = self.rng
        if "{" not in template:
            return template
        return template.format(
            product=rng.choice(PRODUCTS), product_en=rng.choice(PRODUCTS_EN), colour=rng.choice(COLOURS),
            colour2=rng.choice(COLOURS), colour3=rng.choice(COLOURS), colour_en=rng.choice(COLOURS_EN),
            size=rng.choice(SIZES), sizes=" ".join(rng.sample(SIZES[:6], 3)), material=rng.choice(MATERIALS),
            n=rng.randint(1, 12), price=f"{rng.randint(5, 60) * 5}rb" if rng.random() < 0.6 else
            f"Rp {rng.randint(50, 900) * 1000:,}".replace(",", "."), ongkir=f"{rng.randint(9, 45)}rb",
            city=rng.choice(CITIES), courier=rng.choice(COURIERS), bank=rng.choice(BANKS),
            resi=f"JP{rng.randint(10**9, 10**10 - 1)}", first=first, shop=rng.choice(LAST),
            phone=f"08{rng.randint(11, 99)}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
        )

    def customer_line(self, intent: str, first: str) -> str:
        rng = self.rng
        text = self.fill(rng.choice(CUSTOMER_LINES[intent]), first)
        roll = rng.random()
        if roll < 0.004:
            text += f" yg {rng.choice(RARE)} ada kak?"
        elif roll < 0.006:
            text += f" kode {rng.choice(PRODUCTS)[:3].upper()}-{rng.randint(1000, 9999)}"
        elif roll < 0.007:
            text += f" {rng.choice(ACCENTED)}"
        if rng.random() < 0.2:
            text = _typo(rng, text)
        return text

    def staff_line(self, first: str) -> str:
        rng = self.rng
        text = self.fill(rng.choice(STAFF_LINES), first)
        if rng.random() < 0.002:
            text += f" Motif {rng.choice(RARE)} juga ada kak."
        return text


def _insert(conn: sqlite3.Connection, table: str, columns: tuple[str, ...], rows) -> None:
    marks = ", ".join("?" * len(columns))
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _next_id(conn: sqlite3.Connection, table: str) -> int:
    return (conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]) + 1


def _users(conn: sqlite3.Connection, now: datetime, password: str) -> list[int]:
    from werkzeug.security import generate_password_hash

    password = generate_password_hash(password)
    people = [("Ani Owner", DEMO_OWNER_EMAIL, "owner")] + [
        (name, f"{name.split()[0].lower()}@demo.obrolan.id", "staff")
        for name in ("Budi Santoso", "Citra Lestari", "Dimas Pratama", "Eka Putri")
    ]
    ids = []
    for name, email, role in people:
        row = conn.execute("SELECT id FROM users WHERE email = ?", (email,)).fetchone()
        if row is not None:  # a second run: the password printed now must be the one that works
            conn.execute("UPDATE users SET password_hash = ?, session_version = session_version + 1 WHERE id = ?",
                         (password, row[0]))
        else:
            cursor = conn.execute(
                "INSERT INTO users (name, email, password_hash, role, active, session_version, created_at) "
                "VALUES (?, ?, ?, ?, 1, 1, ?)", (name, email, password, role, _ts(now)),
            )
            row = (cursor.lastrowid,)
        ids.append(row[0])
    return ids


def _tags(conn: sqlite3.Connection) -> dict[str, int]:
    from .needs.matching import STARTER_TAGS

    for tag in STARTER_TAGS:
        conn.execute(
            "INSERT OR IGNORE INTO tags (name, title, colour, kind, keywords) VALUES (?, ?, ?, ?, ?)",
            (tag.name, tag.title_en, tag.colour, tag.kind, "\n".join(tag.keywords)),
        )
    return dict(conn.execute("SELECT name, id FROM tags"))


def generate(conn: sqlite3.Connection, customers: int, messages: int, seed: int = SEED, progress=None,
             password: str = DEMO_PASSWORD) -> Counts:
    """Add a shop of `customers` customers and about `messages` messages to a migrated database."""
    started = time.perf_counter()
    rng = random.Random(seed)
    writer = _Writer(rng)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    counts = Counts()
    conn.execute("PRAGMA cache_size = -65536")
    from .search.index import create_statements, drop_statements

    # A tag can name its reason message before the message is written (messages go out in time order):
    # the rows are consistent once all are in, and checking each one on the way costs a scan.
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("BEGIN")
    # The search index is built once at the end, as `flask reindex` builds it: the triggers would keep it
    # just as well, but SQLite 3.40's FTS5 writes a segment per row when a trigger writes it (~50 us a message).
    for statement in drop_statements():
        conn.execute(statement)
    staff_ids = _users(conn, now, password)
    counts.users = len(staff_ids)
    tag_ids = _tags(conn)
    counts.tags = len(tag_ids)

    # Customers and their handles.
    first_customer = _next_id(conn, "customers")
    first_identity = _next_id(conn, "channel_identities")
    names: list[str] = []
    channels_of: list[tuple[str, ...]] = []
    customer_rows, identity_rows = [], []
    identity_id = first_identity
    taken: set = {handle for (handle,) in conn.execute(
        "SELECT handle FROM channel_identities WHERE channel = 'whatsapp'")}
    taken.update(conn.execute("SELECT channel, handle FROM channel_identities"))
    for i in range(customers):
        customer_id = first_customer + i
        first, last = rng.choice(FIRST), rng.choice(LAST)
        roll = rng.random()
        if roll < 0.15:
            name = f"{rng.choice(NICK)} {first}"
        elif roll < 0.2:
            name = f"{first} {rng.choice(EMOJI)}"
        elif roll < 0.25:
            name = f"{first} {rng.choice(CITIES)}"
        else:
            name = f"{first} {last}"
        names.append(first)
        created = now - timedelta(days=730 + rng.random() * 30)
        notes = ""
        if rng.random() < 0.3:
            notes = writer.fill(rng.choice((
                "reseller {city}, suka {product} warna {colour}", "langganan sejak 2024, ukuran {size}",
                "minta dikabari kalau {product} {colour} restock", "alamat: Jl. Melati no {n}, {city}",
                "prefers {courier}, pays via {bank}", "sering nego harga, kasih diskon max 10rb",
            )), first)
        stage = rng.choice(STAGES)
        customer_rows.append((customer_id, name, notes, stage, rng.choice((None, None, 150000, 450000, 1200000)),
                              rng.choice(staff_ids) if rng.random() < 0.4 else None, _ts(created), _ts(created)))
        channels = []
        if rng.random() < 0.85:
            phone = f"+628{rng.randint(11, 59)}{rng.randint(10**6, 10**rng.choice((7, 8)) - 1)}"
            while phone in taken:
                phone = phone[:-1] + str(rng.randrange(10))
            taken.add(phone)
            identity_rows.append((identity_id, customer_id, "whatsapp", phone))
            identity_id += 1
            channels.append("whatsapp")
        roll = rng.random()
        if roll < 0.5 or not channels:
            channel = rng.choice(("instagram", "instagram", "instagram", "tiktok", "telegram", "facebook"))
            sep = rng.choice((".", "_", ""))
            handle = f"{first.lower()}{sep}{rng.choice(SHOPNAMES)}".encode("ascii", "ignore").decode()
            while (channel, handle) in taken:
                handle = f"{handle.rstrip('0123456789')}{rng.randint(1, 9999)}"
            taken.add((channel, handle))
            identity_rows.append((identity_id, customer_id, channel, handle))
            identity_id += 1
            channels.append(channel)
        if rng.random() < 0.05:
            identity_rows.append((identity_id, customer_id, "email", f"{first.lower()}.{customer_id}@gmail.com"
                                  .encode("ascii", "ignore").decode()))
            identity_id += 1
            channels.append("email")
        channels_of.append(tuple(channels))
    _insert(conn, "customers", ("id", "display_name", "notes", "stage", "expected_value", "assigned_to_id",
                                "created_at", "updated_at"), customer_rows)
    _insert(conn, "channel_identities", ("id", "customer_id", "channel", "handle"), identity_rows)
    counts.customers, counts.identities = customers, len(identity_rows)
    del customer_rows, identity_rows

    # Conversations and messages. Most are logged as they happen, so messages arrive in time order across
    # conversations (each conversation's ids are one block, given when it starts); IMPORTED of them are old
    # chats imported afterwards, out of time order.
    conversation_id = first_conversation = _next_id(conn, "conversations")
    message_id = _next_id(conn, "messages")
    intents = tuple(CUSTOMER_LINES)
    weights = (18, 22, 14, 14, 4, 2, 26)
    span = timedelta(days=730).total_seconds()
    plans, planned = [], 0
    while planned < messages:
        length = min(messages - planned, max(2, int(rng.expovariate(1 / 8))), 30)
        # Recent months are busier than old ones; some customers write a lot, most a little.
        start = now - timedelta(seconds=span * rng.random() ** 1.5) - timedelta(hours=2)
        plans.append((start, int(customers * rng.random() ** 1.6), length, rng.random() < IMPORTED))
        planned += length
    plans.sort(key=lambda plan: (plan[3], plan[0] if not plan[3] else 0))
    conversations, message_rows, tag_rows = [], [], []
    pending: list = []  # (sent_at, message row) of conversations under way, earliest first
    written = 0

    def emit(until):
        nonlocal written
        while pending and (until is None or pending[0][0] <= until):
            message_rows.append(heapq.heappop(pending)[2])
            written += 1
            if len(message_rows) >= BATCH:
                _flush(conn, conversations, message_rows, tag_rows)
                if progress:
                    progress(f"{written:,} messages")

    for start, index, length, imported in plans:
        customer_id = first_customer + index
        first = names[index]
        moment, side, last_side = start, "customer", "customer"
        first_intent_message: dict[str, int] = {}
        written_messages = []
        for _ in range(length):
            if side == "customer":
                intent = rng.choices(intents, weights)[0]
                body, author = writer.customer_line(intent, first), ""
                if intent != "chat":
                    first_intent_message.setdefault(intent, message_id)
            else:
                body, author = writer.staff_line(first), "Admin"
            deleted = rng.random() < 0.002
            written_messages.append((moment, message_id, side, author, body, deleted))
            message_id += 1
            last_side = side
            moment += timedelta(seconds=rng.randint(20, 3600))
            side = side if rng.random() < 0.3 else ("staff" if side == "customer" else "customer")
        # A chat that started a few hours ago would run on past now: it happened that much earlier instead.
        early = max(timedelta(0), written_messages[-1][0] - now)
        start -= early
        last_moment = written_messages[-1][0] - early
        emit(None if imported else start)
        for moment, number, side_, author, body, deleted in written_messages:
            moment -= early
            fingerprint = hashlib.sha256(f"{seed}:{number}".encode()).hexdigest()
            row = (number, conversation_id, _ts(moment), side_, author, body, "", fingerprint, _ts(moment),
                   _ts(moment) if deleted else None)
            heapq.heappush(pending, (moment, number, row))
        conversations.append((conversation_id, customer_id, rng.choice(channels_of[index]), rng.choice(staff_ids),
                              _ts(start), _ts(last_moment), last_side, _ts(start),
                              _ts(now) if rng.random() < 0.003 else None))
        for intent, reason in first_intent_message.items():
            removed = _ts(now) if rng.random() < 0.05 else None
            tag_rows.append((conversation_id, tag_ids[intent], "auto", removed, reason, TAG_WORD[intent],
                             TAG_WORD[intent], _ts(start)))
        conversation_id += 1
        if imported:
            emit(None)
    emit(None)
    _flush(conn, conversations, message_rows, tag_rows)
    counts.messages = written
    counts.conversations = conversation_id - first_conversation

    # Follow-ups, orders, and the untidy parts of a real shop: deleted and merged customers.
    follow_ups, orders = [], []
    for i in range(customers):
        customer_id = first_customer + i
        if rng.random() < 0.06:
            due = now + timedelta(days=rng.randint(-10, 14))
            follow_ups.append((customer_id, _ts(due), 0, writer.fill("tanya lagi soal {product} {colour}", ""),
                               rng.choice(staff_ids), _ts(now) if rng.random() < 0.4 else None, staff_ids[0], _ts(now)))
        if rng.random() < 0.12:
            for _ in range(rng.randint(1, 3)):
                orders.append(_order(rng, writer, customer_id, rng.choice(channels_of[i]), rng.choice(staff_ids), now))
    _insert(conn, "follow_ups", ("customer_id", "due_at", "has_time", "note", "assigned_to_id", "done_at",
                                 "created_by_id", "created_at"), follow_ups)
    _orders(conn, orders)
    gone = rng.sample(range(customers), max(1, customers // 100)) if customers > 10 else []
    gone_set = set(gone)
    for n, index in enumerate(gone):
        customer_id = first_customer + index
        if n % 2:
            conn.execute("UPDATE customers SET deleted_at = ? WHERE id = ?", (_ts(now), customer_id))
        else:
            survivor = first_customer + next(i for i in range(index + 1, index + customers) if i % customers
                                             not in gone_set) % customers
            conn.execute("UPDATE channel_identities SET customer_id = ? WHERE customer_id = ?", (survivor, customer_id))
            conn.execute("UPDATE conversations SET customer_id = ? WHERE customer_id = ?", (survivor, customer_id))
            conn.execute("UPDATE customers SET merged_into_id = ? WHERE id = ?", (survivor, customer_id))
    index_started = time.perf_counter()
    for statement in create_statements():
        conn.execute(statement)
    counts.index_seconds = time.perf_counter() - index_started
    conn.execute("COMMIT")
    conn.execute("PRAGMA foreign_keys = ON")
    counts.seconds = time.perf_counter() - started
    return counts


ORDER_STEPS = ("awaiting_payment", "paid", "packed", "shipped", "delivered")
RESI = {"jne": "{d15}", "jnt": "JP{d10}", "sicepat": "00{d10}", "anteraja": "TSA{d10}", "ninja": "NLIDAP{d8}",
        "spx": "SPXID{d12}", "idexpress": "IDE{d12}", "lion": "11LP{d10}"}


def _order(rng: random.Random, writer: _Writer, customer_id: int, channel: str, staff_id: int, now: datetime):
    """One order and its steps, as far as its age allows: old orders are mostly delivered, a few returned or
    cancelled; recent ones are anywhere on the way."""
    ordered = now - timedelta(days=rng.choice((rng.uniform(0, 20), rng.uniform(0, 400))), hours=rng.randint(0, 23))
    method = rng.choices(("bank_transfer", "cod", "ewallet", "marketplace"), (50, 25, 15, 10))[0]
    items = [(rng.choice(PRODUCTS) + " " + rng.choice(COLOURS), rng.choice(SIZES), rng.randint(1, 3),
              rng.randint(10, 60) * 5000) for _ in range(rng.choice((1, 1, 1, 2)))]
    shipping = rng.randint(9, 35) * 1000
    courier = rng.choice(tuple(RESI))
    resi = RESI[courier].format(d8=rng.randint(10**7, 10**8 - 1), d10=rng.randint(10**9, 10**10 - 1),
                                d12=rng.randint(10**11, 10**12 - 1), d15=rng.randint(10**14, 10**15 - 1))
    steps = [("awaiting_payment", ordered)]
    moment = ordered
    for status, gap in (("paid", (0.05, 20)), ("packed", (2, 30)), ("shipped", (2, 30)), ("delivered", (24, 110))):
        if status == "paid" and method == "cod":
            continue
        moment = moment + timedelta(hours=rng.uniform(*gap))
        if moment > now or rng.random() < 0.08:
            break
        steps.append((status, moment))
        if status == "delivered" and method == "cod":
            steps.append(("paid", moment))
    status = max((s for s, _ in steps), key=ORDER_STEPS.index)
    if rng.random() < 0.05 and now - ordered > timedelta(days=3):
        # A parcel that went out comes back as a return; one that did not is cancelled.
        ending = "returned" if status in ("shipped", "delivered") else "cancelled"
        steps.append((ending, min(now, moment + timedelta(days=1))))
        status = ending
    return (customer_id, channel, status, method, shipping, sum(q * p for _, _, q, p in items) + shipping,
            courier if any(s == "shipped" for s, _ in steps) else "",
            resi if any(s == "shipped" for s, _ in steps) else "", staff_id, ordered, items, steps)


def _orders(conn: sqlite3.Connection, orders: list) -> None:
    order_id = _next_id(conn, "orders")
    rows, item_rows, step_rows = [], [], []
    for (customer_id, channel, status, method, shipping, total, courier, resi, staff_id, ordered, items,
         steps) in orders:
        rows.append((order_id, customer_id, channel, status, method, shipping, 0, total, courier, resi, "", "", "",
                     "", staff_id, _ts(ordered), _ts(steps[-1][1])))
        item_rows.extend((order_id, position, name, size, quantity, price)
                         for position, (name, size, quantity, price) in enumerate(items))
        step_rows.extend((order_id, step, _ts(at), staff_id, _ts(at)) for step, at in steps)
        order_id += 1
    _insert(conn, "orders", ("id", "customer_id", "channel", "status", "payment_method", "shipping_cost", "discount",
                             "total", "courier", "tracking_number", "recipient_name", "recipient_phone", "address",
                             "note", "created_by_id", "created_at", "updated_at"), rows)
    _insert(conn, "order_items", ("order_id", "position", "name", "variant", "quantity", "unit_price"), item_rows)
    _insert(conn, "order_steps", ("order_id", "status", "at", "recorded_by_id", "recorded_at"), step_rows)


def _flush(conn, conversations, message_rows, tag_rows) -> None:
    _insert(conn, "conversations", ("id", "customer_id", "channel", "logged_by_id", "first_message_at",
                                    "last_message_at", "last_side", "created_at", "deleted_at"), conversations)
    _insert(conn, "messages", ("id", "conversation_id", "sent_at", "side", "author_name", "body", "attachments",
                               "fingerprint", "created_at", "deleted_at"), message_rows)
    _insert(conn, "conversation_tags", ("conversation_id", "tag_id", "source", "removed_at", "reason_message_id",
                                        "reason_word", "reason_keyword", "created_at"), tag_rows)
    conversations.clear()
    message_rows.clear()
    tag_rows.clear()


@click.command("demo-data")
@click.option("--customers", default=2_000, show_default=True, help="How many customers to add.")
@click.option("--messages", default=40_000, show_default=True, help="About how many messages to add.")
@click.option("--seed", default=None, type=int, help="Random seed (the same seed gives the same shop).")
@with_appcontext
def demo_data_command(customers, messages, seed):
    """Fill the database with a generated shop (mixed Indonesian/English chats) to try or measure Obrolan."""

    # No fixed password in a database people may go on using: a new one each run, shown once.
    password = secrets.token_urlsafe(12)
    try:
        counts = generate_shop(customers, messages, SEED if seed is None else seed, password,
                               progress=lambda line: click.echo(line, err=True))
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Added {counts.customers:,} customers, {counts.conversations:,} conversations and "
               f"{counts.messages:,} messages in {counts.seconds:.0f} s. "
               f"Log in as {DEMO_OWNER_EMAIL} (or a staff member @demo.obrolan.id) with the password {password}")


def generate_shop(customers: int, messages: int, seed: int = SEED, password: str = DEMO_PASSWORD,
                  progress=None) -> Counts:
    """generate() into the app's database, SQLite or (an empty) PostgreSQL."""
    from .extensions import db

    if db.engine.dialect.name == "postgresql":
        return _generate_into_postgres(customers, messages, seed, password, progress)
    if db.engine.dialect.name == "sqlite":
        return _generate_into_sqlite(customers, messages, seed, password, progress)
    raise ValueError("demo-data writes into SQLite or PostgreSQL.")


def _generate_into_sqlite(customers: int, messages: int, seed: int, password: str, progress) -> Counts:
    from .extensions import db

    db.session.remove()
    connection = db.engine.raw_connection()
    try:
        raw = connection.driver_connection
        raw.isolation_level = None  # generate() runs its own transaction
        counts = generate(raw, customers, messages, seed=seed, progress=progress, password=password)
    finally:
        connection.close()
    from .kept import rebuild_all

    # What lists keep (last activity, waits, scores, the report's days), as an import would have kept it.
    rebuild_all(progress=progress)
    db.session.commit()
    return counts


def _generate_into_postgres(customers: int, messages: int, seed: int, password: str, progress) -> Counts:
    """Generated in a scratch SQLite database (the generator's bulk INSERTs), then copied in by copy-to."""
    import tempfile
    from pathlib import Path

    from flask import current_app
    from flask_migrate import upgrade

    from . import create_app
    from .admin.copy_to import CopyError, copy_shop
    from .extensions import db

    target = db.engine.url.render_as_string(hide_password=False)
    db.session.remove()
    with tempfile.TemporaryDirectory(prefix="obrolan-demo-") as folder:
        path = Path(folder) / "demo.sqlite"
        scratch = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                              "INSTANCE_PATH": current_app.instance_path})
        with scratch.app_context():
            upgrade()
            counts = _generate_into_sqlite(customers, messages, seed, password, progress)
            try:
                copy_shop(db.engine, target, progress=progress or (lambda line: None))
            except CopyError as error:
                raise ValueError(f"demo-data on PostgreSQL fills an empty database: {error}") from error
            finally:
                db.engine.dispose()
    return counts
