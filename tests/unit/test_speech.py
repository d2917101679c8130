from datetime import date

import pytest

from ivr import speech


def zh(fragments):
    return "".join(speech.FRAGMENTS["zh"][f] for f in fragments)


def en(fragments):
    return " ".join(speech.FRAGMENTS["en"][f] for f in fragments)


@pytest.mark.parametrize("n, text", [
    (0, "零"), (7, "七"), (10, "十"), (12, "十二"), (20, "二十"), (105, "一百零五"), (110, "一百一十"),
    (1001, "一千零一"), (1010, "一千零一十"), (10000, "一万"), (10001, "一万零一"), (10010, "一万零一十"),
    (12345, "一万二千三百四十五"), (100000, "十万"), (1200000, "一百二十万"), (99999999, "九千九百九十九万九千九百九十九"),
])
def test_mandarin_numbers(n, text):
    assert zh(speech.zh_number(n)) == text


@pytest.mark.parametrize("n, text", [
    (0, "zero"), (13, "thirteen"), (40, "forty"), (42, "forty two"), (100, "one hundred"),
    (305, "three hundred five"), (1000, "one thousand"), (21015, "twenty one thousand fifteen"),
    (3000007, "three million seven"),
])
def test_english_numbers(n, text):
    assert en(speech.en_number(n)) == text


@pytest.mark.parametrize("cents, zh_text, en_text", [
    (4250, "四十二元五角", "forty two yuan and fifty fen"),
    (4205, "四十二元零五分", "forty two yuan and five fen"),
    (-1580, "负十五元八角", "minus fifteen yuan and eighty fen"),
    (0, "零元", "zero yuan"),
    (120000, "一千二百元", "one thousand two hundred yuan"),
])
def test_amounts(cents, zh_text, en_text):
    assert zh(speech.amount(cents, "zh")) == zh_text
    assert en(speech.amount(cents, "en")) == en_text


def test_dates_and_digits():
    assert zh(speech.spoken_date(date(2026, 11, 15), "zh")) == "十一月十五日"
    assert en(speech.spoken_date(date(2026, 11, 15), "en")) == "November fifteen"
    assert zh(speech.digits("2610", "zh")) == "二六一零"
    with pytest.raises(ValueError):
        speech.digits("12a", "zh")
    with pytest.raises(ValueError):  # str.isdigit takes these; there are no prompts n٣ or n²
        speech.digits("1٣", "zh")
    with pytest.raises(ValueError):
        speech.digits("²", "zh")
    with pytest.raises(ValueError):
        speech.number(10**9, "en")
