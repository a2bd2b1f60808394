"""What a new password must be: at least MIN_PASSWORD_LENGTH characters and not easy to guess.

"Easy to guess" is zxcvbn's estimate (Dropbox's password strength estimator; the `zxcvbn` package, MIT licence):
its dictionaries of common passwords (breach lists, English words, names), repeats ("aaaa", "abcabc"),
sequences ("12345"), keyboard rows ("qwerty") and dates. Obrolan adds the account's own name and e-mail, the
shop's name and words Indonesian shops put in passwords. The message says what to avoid, in the reader's language.
"""
from flask import current_app, has_app_context
from flask_babel import gettext

MIN_PASSWORD_LENGTH = 10
# zxcvbn's 0-4 score; 3 means about 10^8 guesses or more, beyond a quick online or offline guess.
STRONG_ENOUGH = 3
# zxcvbn refuses longer input (its matching is quadratic); a longer password is judged by its start.
ZXCVBN_MAX = 72
# Words common in Indonesian passwords that zxcvbn's English lists may rank low or miss; written by us.
INDONESIAN_WORDS = (
    "sayang", "sayangku", "cinta", "cintaku", "rahasia", "katasandi", "sandi", "masuk", "toko", "tokoku", "admin",
    "bismillah", "alhamdulillah", "indonesia", "merdeka", "jakarta", "bandung", "surabaya", "medan", "semarang",
    "kucing", "anjing", "ganteng", "cantik", "bunda", "mama", "papa", "kakak", "adik", "rumah", "obrolan",
)


def password_problem(password: str, *, name: str = "", email: str = "") -> str | None:
    """Why this password will not do, or None when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return gettext("The password needs at least %(count)d characters.", count=MIN_PASSWORD_LENGTH)
    from zxcvbn import zxcvbn

    personal = _personal_words(name, email)
    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=[*personal, *INDONESIAN_WORDS])
    if result["score"] >= STRONG_ENOUGH:
        return None
    reasons = [reason for match in sorted(result["sequence"], key=lambda m: -len(m["token"]))
               if (reason := _reason(match, personal, whole=match["token"] == password[:ZXCVBN_MAX]))]
    return reasons[0] if reasons else gettext("This password is too easy to guess. Try three or four words that "
                                               "do not belong together.")


def _personal_words(name: str, email: str) -> list[str]:
    local, _, domain = (email or "").lower().partition("@")
    shop = current_app.config.get("SHOP_NAME", "") if has_app_context() else ""
    words = [name, *name.split(), local, domain.split(".")[0], shop, *shop.split()]
    return [word.lower() for word in words if len(word) >= 3]


def _reason(match: dict, personal: list[str], whole: bool) -> str | None:
    pattern = match["pattern"]
    if pattern == "dictionary" and match.get("dictionary_name") == "user_inputs" and match["matched_word"] in personal:
        return gettext("Do not use your name, your e-mail or the shop's name in the password.")
    if pattern == "dictionary" and whole:
        return gettext("This is one of the passwords people use most.")
    if pattern == "dictionary":
        return gettext("Common words, names and passwords are easy to guess, even put together. Try three or four "
                       "words that do not belong together.")
    if pattern == "repeat":
        return gettext("Repeated letters or words (like aaaa or abcabc) are easy to guess.")
    if pattern == "sequence":
        return gettext("Sequences like 12345 or abcde are easy to guess.")
    if pattern == "spatial":
        return gettext("Rows of keys like qwerty or asdf are easy to guess.")
    if pattern in ("date", "regex"):
        return gettext("Dates and years are easy to guess.")
    return None
