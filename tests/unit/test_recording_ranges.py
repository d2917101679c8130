"""HTTP Range handling for the recordings' player (agent_desktop/ranges.py), table-driven."""
import pytest

from agent_desktop.ranges import ByteRange, NotSatisfiable, parse_range

SIZE = 1000


@pytest.mark.parametrize("header, expected", [
    (None, None),                          # no header: the whole file, 200
    ("", None),
    ("bytes=0-", ByteRange(0, 999)),       # what Chromium's <audio> asks first
    ("bytes=0-0", ByteRange(0, 0)),
    ("bytes=100-199", ByteRange(100, 199)),
    ("bytes=900-5000", ByteRange(900, 999)),  # an end past the file is cut to it
    ("bytes=-100", ByteRange(900, 999)),   # the last 100 bytes
    ("bytes=-5000", ByteRange(0, 999)),
    ("bytes=999-", ByteRange(999, 999)),
    (" bytes=10-20 ", ByteRange(10, 20)),
    ("bytes=0-10,20-30", None),            # several ranges: not served as multipart, the whole file
    ("bytes=20-10", None),                 # last before first: malformed, ignored
    ("bytes=-", None),
    ("items=0-10", None),                  # another unit: ignored
    ("bytes=a-b", None),
    ("bytes=0-99999999999999999999", None),  # absurdly long numbers are not read
])
def test_ranges(header, expected):
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_a_range_past_the_end_is_not_satisfiable(header):
    with pytest.raises(NotSatisfiable):
        parse_range(header, SIZE)


def test_an_empty_file_satisfies_no_range():
    with pytest.raises(NotSatisfiable):
        parse_range("bytes=0-", 0)
    with pytest.raises(NotSatisfiable):
        parse_range("bytes=-10", 0)


def test_content_range_and_length():
    r = parse_range("bytes=100-199", SIZE)
    assert (r.length, r.content_range(SIZE)) == (100, "bytes 100-199/1000")
