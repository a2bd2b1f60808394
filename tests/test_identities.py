import pytest

from crm.identities import InvalidHandle, display_handle, normalise_handle, phone_fragment_digits


@pytest.mark.parametrize("raw", ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "(0812) 3456 7890",
                                 "+62-812-3456-7890"])
def test_indonesian_numbers_written_any_way_are_one_identity(raw):
    assert normalise_handle("whatsapp", raw) == "+6281234567890"


def test_foreign_numbers_keep_their_country():
    assert normalise_handle("whatsapp", "+65 9123 4567") == "+6591234567"


@pytest.mark.parametrize("raw", ["", "   ", "abc", "12", "+62 1"])
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(InvalidHandle):
        normalise_handle("whatsapp", raw)


@pytest.mark.parametrize("channel", ["instagram", "tiktok", "x", "telegram"])
def test_at_handles_are_lower_cased_without_the_at(channel):
    assert normalise_handle(channel, "  @Sari.Batik_ID ") == "sari.batik_id"


def test_handles_with_spaces_or_markup_are_refused():
    with pytest.raises(InvalidHandle):
        normalise_handle("instagram", "sari batik")
    with pytest.raises(InvalidHandle):
        normalise_handle("instagram", "<script>")


def test_email_is_lower_cased_and_checked():
    assert normalise_handle("email", " Rina@Mail.CO.id ") == "rina@mail.co.id"
    with pytest.raises(InvalidHandle):
        normalise_handle("email", "rina at mail")


def test_unknown_channel_is_refused():
    with pytest.raises(InvalidHandle):
        normalise_handle("myspace", "rina")


def test_display_forms():
    assert display_handle("whatsapp", "+6281234567890") == "+62 812-3456-7890"
    assert display_handle("instagram", "sari.batik") == "@sari.batik"


@pytest.mark.parametrize("typed", ["0812 3456", "812-3456", "+62812 3456", "62812 3456"])
def test_phone_fragments_reduce_to_national_digits(typed):
    assert phone_fragment_digits(typed) == "8123456"


def test_words_are_not_phone_fragments():
    assert phone_fragment_digits("gamis") is None
    assert phone_fragment_digits("12") is None
