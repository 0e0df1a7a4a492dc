"""Table-driven tests of math, coercion and date/time functions."""

from __future__ import annotations

import pytest

from flowengine.expression import (
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    compile,
)

ATTRS = {
    "fileSize": "100",
    "kb": "1024",
    "hex": "1234A",
    "time": "1420058163264",
    "year": "2014",
    "stamp": "2014/12/31 15:36:03.264Z",
    "date": "12-24-2014",
    "text": "abc",
    "dec": "2.5",
    "two": "2",
    "max": "9223372036854775807",
    "iso": "2024-03-10T12:30:45.123456789Z",
    "dmy": "05-01-2024",
}

CASES = [
    # arithmetic (whole numbers are Java longs)
    ("${fileSize:plus(1000)}", "1100"),
    ("${fileSize:minus(100)}", "0"),
    ("${fileSize:multiply(1024)}", "102400"),
    ("${fileSize:divide(12)}", "8"),
    ("${fileSize:mod(12)}", "4"),
    ("${literal(-7):divide(2)}", "-3"),
    ("${literal(-7):mod(3)}", "-1"),
    ("${literal(7):mod(-3)}", "1"),
    ("${max:plus(1)}", "-9223372036854775808"),
    ("${max:multiply(2)}", "-2"),
    ("${fileSize:plus(1.5)}", "101.5"),
    ("${dec:multiply(2)}", "5.0"),
    ("${literal(1):divide(3.0)}", "0.3333333333333333"),
    ("${literal(10):toDecimal():divide(4)}", "2.5"),
    ("${literal(7.5):mod(2)}", "1.5"),
    ("${literal(1.0):divide(0)}", "Infinity"),
    ("${literal(10000000):toDecimal()}", "1.0E7"),
    ("${literal(0.0001):toDecimal()}", "1.0E-4"),
    ("${literal(0.001):plus(0)}", "0.001"),
    ("${literal(123456.789):plus(0)}", "123456.789"),
    ("${text:plus(1):isNull()}", "true"),
    ("${missing:plus(1)}", ""),
    ("${fileSize:plus(${text}):isNull()}", "true"),
    ("${fileSize:plus(-5)}", "95"),
    ("${fileSize:plus(+5)}", "105"),
    ("${literal(.5):plus(1)}", "1.5"),
    ("${literal(1.5E2):plus(0)}", "150.0"),
    ("${literal(1E3):toNumber()}", "1000"),
    ("${literal(' 12 '):toNumber()}", "12"),
    ("${literal(''):toNumber():isNull()}", "true"),
    ("${missing:toNumber():isNull()}", "true"),
    # radix
    ("${kb:toRadix(10)}", "1024"),
    ("${kb:toRadix(10, 1)}", "1024"),
    ("${kb:toRadix(10, 8)}", "00001024"),
    ("${kb:toRadix(16)}", "400"),
    ("${kb:toRadix(16, 8)}", "00000400"),
    ("${kb:toRadix(2)}", "10000000000"),
    ("${kb:toRadix(2, 16)}", "0000010000000000"),
    ("${literal(-255):toRadix(16)}", "-ff"),
    ("${hex:fromRadix(11)}", "17720"),
    ("${hex:fromRadix(16)}", "74570"),
    ("${hex:fromRadix(20)}", "177290"),
    ("${literal('ff'):fromRadix(16)}", "255"),
    # math()
    ("${literal(2):toDecimal():math('pow', 2.5)}", "5.656854249492381"),
    ("${literal(64):toDecimal():math('cbrt'):toNumber():math('max', 5)}", "5"),
    ("${literal(5.4):math('scalb', 2)}", "21.6"),
    ("${dec:toDecimal():math('pow', ${two:toDecimal()})}", "6.25"),
    ("${literal(-5):math('abs')}", "5"),
    ("${literal(-5.5):math('abs')}", "5.5"),
    ("${literal(2.5):math('round')}", "3"),
    ("${literal(2.4):math('floor')}", "2.0"),
    ("${literal(16):toDecimal():math('sqrt')}", "4.0"),
    ("${math('random'):lt(1)}", "true"),
    ("${random():ge(0)}", "true"),
    ("${random():mod(10):plus(1):le(10)}", "true"),
    # dates: format
    (
        '${time:format("yyyy/MM/dd HH:mm:ss.SSS\'Z\'", "GMT")}',
        "2014/12/31 20:36:03.264Z",
    ),
    (
        '${time:format("yyyy/MM/dd HH:mm:ss.SSS\'Z\'", "America/Los_Angeles")}',
        "2014/12/31 12:36:03.264Z",
    ),
    (
        '${time:format("yyyy/MM/dd HH:mm:ss.SSS\'Z\'", "Asia/Tokyo")}',
        "2015/01/01 05:36:03.264Z",
    ),
    ('${time:format("yyyy/MM/dd", "GMT")}', "2014/12/31"),
    ('${time:format("HH:mm:ss.SSS\'Z\'", "GMT")}', "20:36:03.264Z"),
    ('${time:format("yyyy", "GMT")}', "2014"),
    ("${time:format('EEE, d MMM yyyy', 'GMT')}", "Wed, 31 Dec 2014"),
    ("${time:format('EEEE MMMM', 'GMT')}", "Wednesday December"),
    ("${time:format('h:mm a', 'GMT')}", "8:36 PM"),
    ("${time:format('yy-M-d', 'GMT')}", "14-12-31"),
    ("${time:format('D', 'GMT')}", "365"),
    ("${time:format('Z', 'GMT')}", "+0000"),
    ("${time:format('XXX', 'GMT')}", "Z"),
    ("${time:format('XXX', 'Asia/Kolkata')}", "+05:30"),
    ("${time:format('xx', 'America/New_York')}", "-0500"),
    ("${time:format('z', 'America/Los_Angeles')}", "PST"),
    ("${time:format('zzzz', 'America/Los_Angeles')}", "Pacific Standard Time"),
    ("${time:format('VV', 'Europe/Paris')}", "Europe/Paris"),
    ("${time:format('O', 'GMT+8')}", "GMT+8"),
    ("${time:format('SSSSSS', 'GMT')}", "264000"),
    ("${time:format(\"'quoted''s' yyyy\", 'GMT')}", "quoted's 2014"),
    ("${time:format('Q QQQ', 'GMT')}", "4 Q4"),
    ("${time:format('yyyy', 'No/Such_Zone')}", "2014"),
    ("${missing:format('yyyy')}", ""),
    # toDate / chains
    ("${year:toDate('yyyy', 'GMT'):toNumber()}", "1388534400000"),
    (
        '${stamp:toDate("yyyy/MM/dd HH:mm:ss.SSS\'Z\'", "GMT"):toNumber()}',
        "1420040163264",
    ),
    ("${date:toDate('MM-dd-yyyy', 'GMT'):format('yyyy/MM/dd', 'GMT')}", "2014/12/24"),
    (
        "${literal('20240105'):toDate('yyyyMMdd', 'UTC'):format('yyyy-MM-dd', 'UTC')}",
        "2024-01-05",
    ),
    (
        "${literal('jan 5 2024'):toDate('MMM d yyyy', 'UTC')"
        ":format('yyyy-MM-dd', 'UTC')}",
        "2024-01-05",
    ),
    (
        "${literal('2024-02-30'):toDate('yyyy-MM-dd', 'UTC')"
        ":format('yyyy-MM-dd', 'UTC')}",
        "2024-02-29",
    ),
    ("${literal('03:15 PM'):toDate('hh:mm a', 'UTC'):toNumber()}", "54900000"),
    (
        "${literal('2024-01-05T10:00:00+0200')"
        ":toDate(\"yyyy-MM-dd'T'HH:mm:ssZ\", 'UTC')"
        ":format('HH:mm', 'UTC')}",
        "08:00",
    ),
    ("${time:toDate():toNumber()}", "1420058163264"),
    ("${time:toDate():format('yyyy', 'GMT')}", "2014"),
    (
        "${dmy:toDate('dd-MM-yyyy', 'UTC'):toNumber():format('yyyy-MM-dd', 'UTC')}",
        "2024-01-05",
    ),
    ("${missing:toDate('yyyy')}", ""),
    ("${now():toNumber():gt(1600000000000)}", "true"),
    ("${now():format('yyyy'):toNumber():ge(2024)}", "true"),
    ("${now():toNumber():minus(86400000):lt(${now():toNumber()})}", "true"),
    # duration arithmetic
    ("${time:toDate():plusDuration('1 day'):toNumber():minus(${time})}", "86400000"),
    ("${time:toDate():minusDuration('2 hours'):toNumber():minus(${time})}", "-7200000"),
    ("${time:toDate():plusDuration('1 week'):toNumber():minus(${time})}", "604800000"),
    (
        "${dmy:toDate('dd-MM-yyyy', 'UTC'):plusDuration('30 seconds'):toNumber()"
        ":mod(60000)}",
        "30000",
    ),
    (
        "${literal('31-01-2024 00:00:00'):toInstant('dd-MM-yyyy HH:mm:ss', 'UTC')"
        ":plusInstantDuration('1 month'):formatInstant('dd-MM-yyyy', 'UTC')}",
        "29-02-2024",
    ),
    (
        "${literal('29-02-2024 00:00:00'):toInstant('dd-MM-yyyy HH:mm:ss', 'UTC')"
        ":plusInstantDuration('1 year'):formatInstant('dd-MM-yyyy', 'UTC')}",
        "28-02-2025",
    ),
    (
        "${literal('05-01-2024 10:00:00'):toInstant('dd-MM-yyyy HH:mm:ss', 'UTC')"
        ":minusInstantDuration('3 Days'):formatInstant('dd-MM-yyyy HH:mm', 'UTC')}",
        "02-01-2024 10:00",
    ),
    # instants
    (
        "${time:toInstant():formatInstant('yyyy-MM-dd HH:mm:ss.SSS', 'UTC')}",
        "2014-12-31 20:36:03.264",
    ),
    ("${time:toInstant()}", "2014-12-31T20:36:03.264Z"),
    (
        "${literal('2024-03-10 12:30:45.123456789')"
        ":toInstant('yyyy-MM-dd HH:mm:ss.SSSSSSSSS', "
        "'UTC'):toNanos()}",
        "1710073845123456789",
    ),
    (
        "${literal('2024-03-10 12:30:45.123456')"
        ":toInstant('yyyy-MM-dd HH:mm:ss.SSSSSS', "
        "'UTC'):toMicros()}",
        "1710073845123456",
    ),
    (
        "${literal('2024-03-10 12:30:45')"
        ":toInstant('yyyy-MM-dd HH:mm:ss', 'Europe/Paris')"
        ":formatInstant('HH:mm', 'UTC')}",
        "11:30",
    ),
    ("${iso:isValidInstant()}", "true"),
    ("${literal('2024-03-10T12:30:45+01:00'):isValidInstant()}", "true"),
    ("${literal('Tue, 3 Jun 2008 11:05:30 GMT'):isValidInstant()}", "true"),
    ("${text:isValidInstant()}", "false"),
    ("${literal('2024-02-29'):isValidDate('yyyy-MM-dd')}", "true"),
    ("${literal('2023-02-29'):isValidDate('yyyy-MM-dd')}", "false"),
    ("${literal('2024-13-01'):isValidDate('yyyy-MM-dd')}", "false"),
    ("${literal('11:59 PM'):isValidDate('hh:mm a', 'UTC')}", "true"),
    (
        "${literal('2024-03-31 02:30')"
        ":isValidDate('yyyy-MM-dd HH:mm', 'Europe/Paris')}",
        "false",
    ),
    ("${missing:isValidDate('yyyy')}", "false"),
]


@pytest.mark.parametrize(("expression", "expected"), CASES)
def test_math_and_date_functions(expression: str, expected: str) -> None:
    """Math, coercion and date functions evaluate as NiFi documents."""
    assert compile(expression).evaluate(attributes=ATTRS) == expected


EVAL_ERRORS = [
    "${fileSize:divide(0)}",
    "${fileSize:mod(0)}",
    "${text:fromRadix(10)}",
    "${literal(4):math('sqrt')}",
    "${literal(4):math('noSuchMethod')}",
    "${text:toDate('yyyy-MM-dd', 'UTC')}",
    "${text:format('yyyy')}",
    "${literal('2024'):toDate('yyyy', ${text})}",
    "${literal('x'):toDate(${text:prepend('yyyy')})}",
    # NiFi's toNumber() parses the subject and fails on a non-number (issue 25.6)
    "${text:toNumber()}",
    "${literal('abc'):toNumber()}",
    "${literal('12abc'):toNumber():plus(1)}",
]


@pytest.mark.parametrize("expression", EVAL_ERRORS)
def test_math_and_date_evaluation_errors(expression: str) -> None:
    """Division by zero, unparseable dates and bad math() calls fail evaluation."""
    with pytest.raises(ExpressionEvaluationError):
        compile(expression).evaluate(attributes=ATTRS)


SYNTAX_ERRORS = [
    "${time:format('yyyy bbb')}",
    "${time:toDate('yyyy', 'No/Such_Zone')}",
    "${time:toDate():plusDuration('1 dog')}",
    "${time:toDate():plusDuration('ten days')}",
    "${literal(1):toNumber():not()}",
]


@pytest.mark.parametrize("expression", SYNTAX_ERRORS)
def test_invalid_literal_arguments_fail_at_compile_time(expression: str) -> None:
    """Literal formats, zones and durations are validated when the value is compiled."""
    with pytest.raises(ExpressionSyntaxError):
        compile(expression)


def test_date_renders_like_java_date_to_string(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Date result renders as EEE MMM dd HH:mm:ss zzz yyyy in the default zone."""
    from flowengine.expression import _dates

    monkeypatch.setattr(_dates, "local_zone", lambda: _dates.zone("UTC"))
    assert compile("${time:toDate()}").evaluate(attributes=ATTRS) == (
        "Wed Dec 31 20:36:03 UTC 2014"
    )
