"""When a conversation waits on us, and when it ended with the customer's thanks. Pure: messages in, no database.

A conversation waits on us from the first customer message we have not answered (no message of ours after it)
until we answer. A wait closes without a reply when:

- every message of it is a thanks or an acknowledgement ("makasih kak 🙏", "ok kak", "siap", "sip", "thank
  you!", 👍): it is closed by itself, labelled "ended with thanks", and anyone can say a reply is needed after all;
- someone says "no reply needed" (and can undo it).

Closed by itself, not offered for one click: in these shops most chats end with "makasih kak 🙏", and a list of
hundreds of those buries the questions. Only messages made of nothing but thanks, acknowledgement, a name or a
"kak" count: "ok kak, ongkirnya berapa?", "ditunggu ya" and "sudah transfer" still wait, so nothing that needs
an answer is closed by itself. A later message from the customer opens the wait again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from ..needs.matching import normalise


def _squeezed(word: str) -> str:
    """"makasiih" -> "makasih", "okee" -> "oke", "kakk" -> "kak" (stretched letters on a phone); the
    word lists hold the squeezed forms."""
    return re.sub(r"(.)\1+", r"\1", word)


# Words that thank or acknowledge (compared folded: lower case, no accents, repeated letters squeezed).
THANKS = frozenset(_squeezed(word) for word in """
makasih makasi maksih mksh mks mkasih makacih makaci kasih terima terimakasih trims trimakasih tq tks thx thanks
thank thankyou ty tysm nuhun matur suwun nuwun hatur
ok oke okey okay okeh okee oky okk okok okai oce sip siap siyap sipp baik baiklah noted noted2 mantap mantul
alright great cool perfect roger gotcha samasama
""".split())
# Words that may go with them without asking anything.
FILLERS = frozenset(_squeezed(word) for word in """
kak ka kk kakak sis sist gan min mimin admin mbak mba mas bu ibu pak bang bro dek teh cici bunda ya yaa iya yah
deh dong banyak sekali sangat juga lagi aja yg semua nya you u so much very
lot a for it all noted nggih njih hehe hehehe wkwk wkwkwk haha hihi xixi amin aamiin yes yup got
""".split())
# Emoji that thank or agree; skin tones and joiners are stripped before the check.
THANKS_EMOJI = frozenset("🙏👍👌🤝❤💕💖💗🥰😊☺🙂😁😀😄🤗✨🌸💐👏🫶")
_OTHER_EMOJI_PARTS = re.compile("[\U0001F3FB-\U0001F3FF\u200d\ufe0f]")
_WORD = re.compile(r"[^\W\d_]+|\d+")
LONGEST_THANKS = 80  # characters: a longer message says something more


def is_thanks(body: str) -> bool:
    """A message that only thanks or acknowledges: nothing in it asks for an answer."""
    text = (body or "").strip()
    if not text or len(text) > LONGEST_THANKS or "?" in text:
        return False
    text = _OTHER_EMOJI_PARTS.sub("", text)
    emoji = [ch for ch in text if ch in THANKS_EMOJI]
    folded = re.sub(r"\bsama(?:-sama|2| sama)\b", "samasama", normalise(text))  # "you're welcome"
    folded = re.sub(r"(?<=[^\W\d_])2\b", "", folded)  # "oke2", "sip2": the word twice; a lone 2 is a number
    words = [_squeezed(word) for word in _WORD.findall(folded)]
    if any(not (word in THANKS or word in FILLERS) for word in words):
        return False
    leftover = re.sub(r"[\w\s.,!~:;()'\"*+\-]", "", "".join(ch for ch in text if ch not in THANKS_EMOJI))
    if leftover:  # another symbol or emoji (😡, 📦, a price): not just thanks
        return False
    return bool(emoji) or any(word in THANKS for word in words)


@dataclass(frozen=True)
class Wait:
    """The customer messages we have not answered: from when, the last of them, and whether they only thank."""

    since: datetime
    last_at: datetime
    thanks: bool


def open_wait(messages: Iterable[tuple[datetime, str, str]]) -> Wait | None:
    """The unanswered run at the end of a conversation's live messages, given as (sent_at, side, body) in the
    order sent; None when our message is the last."""
    run: list[tuple[datetime, str]] = []
    for sent_at, side, body in messages:
        if side == "customer":
            run.append((sent_at, body))
        else:
            run = []
    if not run:
        return None
    return Wait(run[0][0], run[-1][0], all(is_thanks(body) for _, body in run))


@dataclass(frozen=True)
class WaitState:
    waiting_since: datetime | None
    no_reply: str | None
    no_reply_through: datetime | None


def wait_state(wait: Wait | None, last_message_at: datetime | None, no_reply: str | None,
               no_reply_through: datetime | None) -> WaitState:
    """Where a conversation stands after its messages changed, given what was said about it by hand before.

    A choice made by hand ("marked": no reply needed, "needed": a reply is needed after all) holds while the
    conversation's last message is the one it was made on; thanks close a wait by themselves otherwise."""
    if wait is None:
        return WaitState(None, None, None)
    if no_reply in ("marked", "needed") and no_reply_through == last_message_at:
        return WaitState(wait.since if no_reply == "needed" else None, no_reply, no_reply_through)
    if wait.thanks:
        return WaitState(None, "thanks", None)
    return WaitState(wait.since, None, None)
